// ferrohsm-server: serves FerroHSM tokens to libferrohsm-pkcs11.so in sidecar mode, and
// to REST clients when [rest] listen is set (docs/REST.md).
//   ferrohsm-server --config /etc/ferrohsm/server.toml
// See docs/SERVER.md.
#include "with_rest.h"
#include "server_main.h"

namespace ferrohsm::server {
// The PKCS#11 service over the core (src/server/pkcs11_service.cc).
Result<std::unique_ptr<Service>> make_pkcs11_service(const ServerConfig& config);
}  // namespace ferrohsm::server

int main(int argc, char** argv) {
  using namespace ferrohsm::server;
  return server_main(argc, argv, [](const ServerConfig& config) -> ferrohsm::Result<std::unique_ptr<Service>> {
    FH_ASSIGN_OR_RETURN(std::unique_ptr<Service> pkcs11, make_pkcs11_service(config));
    return rest::with_rest(std::move(pkcs11), config);  // and the REST API, when [rest] listen is set
  });
}
