// The PKCS#11 service of ferrohsm-server: each connection is one PKCS#11 application
// on the server's core (core::App — its own sessions, logins and session objects), and
// every Call runs the same embedded function the library runs in-process (src/pkcs11's
// shims), with its arguments rebuilt by the codecs of base/pkcs11_functions.inc. So the
// return codes and attribute rules of sidecar mode are embedded mode's by construction.
#pragma once

#include "server/service.h"

#include <atomic>
#include <memory>

namespace ferrohsm {
class Core;
}

namespace ferrohsm::server {

struct Pkcs11ServiceOptions {
  uint64_t max_message = 16u << 20;
  uint64_t max_sessions_per_connection = 1024;
};

class Pkcs11Service : public Service {
 public:
  Pkcs11Service(std::shared_ptr<Core> core, Pkcs11ServiceOptions options);
  ~Pkcs11Service() override;

  std::unique_ptr<Application> open(const Peer& peer, const Grant& grant) override;
  std::vector<uint32_t> functions() const override;
  bool slow(uint32_t function) const override;
  ServiceStatus status() const override;
  // SIGHUP: the reloaded file's [[policy]] rules replace those in force (a file that did
  // not parse never gets here: the old rules stay).
  Status reload(const ServerConfig& config) override;

  Core& core() { return *core_; }
  const std::shared_ptr<Core>& core_ptr() const { return core_; }

 private:
  std::shared_ptr<Core> core_;
  Pkcs11ServiceOptions options_;
};

struct ServerConfig;
// The service ferrohsm-server runs: the store and core the configuration names.
Result<std::unique_ptr<Service>> make_pkcs11_service(const ServerConfig& config);

// Runs one call on the current application (p11::AppScope must be set): the dispatch
// table, one case per remote row of base/pkcs11_functions.inc. Throws
// wire::MalformedMessage when the call does not fit its function.
void dispatch(const wire::Call& in, wire::Return& out, uint64_t budget);

}  // namespace ferrohsm::server
