// ferrohsm-server's PKCS#11 service with the REST API beside it: when `[rest] listen`
// is set, the REST listener serves the same core (tokens, keys, logins, policy, audit)
// for as long as the service lives, and a SIGHUP's access rules and TLS files reach both.
#pragma once

#include "server/service.h"

#include <memory>

namespace ferrohsm::server {
struct ServerConfig;
}

namespace ferrohsm::server::rest {

// `pkcs11` must be a Pkcs11Service. Without [rest] listen it is returned as it is.
Result<std::unique_ptr<Service>> with_rest(std::unique_ptr<Service> pkcs11, const ServerConfig& config);

}  // namespace ferrohsm::server::rest
