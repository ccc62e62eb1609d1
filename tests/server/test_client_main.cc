// ferrohsm-test-client: one client process for the tests that kill clients.
//   ferrohsm-test-client ENDPOINT FUNCTION ARG [CERT KEY CA]
// Connects, prints "connected" on stdout, makes one call with args[0].u = ARG, prints
// its rv and exits 0 (2 when the connection fails, 3 when the call fails).
#include "sidecar/transport.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4 && argc != 7) {
    std::fprintf(stderr, "usage: %s ENDPOINT FUNCTION ARG [CERT KEY CA]\n", argv[0]);
    return 64;
  }
  ferrohsm::sidecar::ConnectOptions options;
  if (argc == 7) options.tls = ferrohsm::sidecar::TlsFiles{argv[4], argv[5], argv[6], {}};
  auto conn = ferrohsm::sidecar::Connection::connect(argv[1], options);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.error().message.c_str());
    return 2;
  }
  std::printf("connected\n");
  std::fflush(stdout);
  ferrohsm::wire::Call call;
  call.set_function(static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)));
  call.add_args()->set_u(std::strtoull(argv[3], nullptr, 10));
  auto ret = (*conn)->call(call);
  if (!ret) {
    std::fprintf(stderr, "%s\n", ret.error().message.c_str());
    return 3;
  }
  std::printf("rv %llu\n", static_cast<unsigned long long>(ret->rv()));
  return 0;
}
