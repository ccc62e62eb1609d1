// ferrohsm-server: serves FerroHSM tokens to libferrohsm-pkcs11.so in sidecar mode.
//   ferrohsm-server --config /etc/ferrohsm/server.toml
// See docs/SERVER.md.
#include "server_main.h"

namespace ferrohsm::server {
// The PKCS#11 service over the core (src/server/pkcs11_service.cc).
Result<std::unique_ptr<Service>> make_pkcs11_service(const ServerConfig& config);
}  // namespace ferrohsm::server

int main(int argc, char** argv) {
  return ferrohsm::server::server_main(argc, argv, ferrohsm::server::make_pkcs11_service);
}
