// ferrohsm-test-server: ferrohsm-server's body (server_main) serving the test service,
// for the tests that need a real server process (signals, systemd sockets, descriptors).
#include "server_main.h"
#include "test_service.h"

int main(int argc, char** argv) {
  static ferrohsm::server::testing::TestCounters counters;
  return ferrohsm::server::server_main(argc, argv, [](const ferrohsm::server::ServerConfig&) {
    return ferrohsm::Result<std::unique_ptr<ferrohsm::server::Service>>(
        std::make_unique<ferrohsm::server::testing::TestService>(counters));
  });
}
