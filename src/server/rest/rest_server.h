// The REST API's HTTPS listener in ferrohsm-server: `[rest] listen`, TLS 1.3 with a
// client certificate from the server's client_ca (the same identities and [[access]]
// rules as the PKCS#11 endpoints), HTTP/1.1 keep-alive over cpp-httplib, a bounded
// body, a per-identity rate limit and read/write timeouts. Every answer that is not
// a success is application/problem+json (problem.h).
#pragma once

#include "base/result.h"
#include "server/access.h"
#include "server/config.h"

#include <memory>
#include <string>
#include <vector>

namespace ferrohsm {
class Core;
}

namespace ferrohsm::server::rest {

class RestServer {
 public:
  // Binds `config.rest.listen` (port 0: any free port) and starts serving.
  static Result<std::unique_ptr<RestServer>> start(const ServerConfig& config, std::shared_ptr<Core> core);
  ~RestServer();  // stops: requests in flight finish

  // "rest:127.0.0.1:8443", the bound port included.
  const std::string& address() const;
  // SIGHUP: new access rules for the next request.
  void set_access(std::vector<AccessRule> rules);
  // SIGHUP: the TLS files (server.tls_cert, tls_key, client_ca) read again for new
  // connections. Files that do not load leave the ones in force, and the log says why.
  Status reload_tls(const ServerConfig& config);

  struct Impl;

 private:
  explicit RestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrohsm::server::rest
