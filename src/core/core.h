// What one process shares among its PKCS#11 applications: the configuration, the
// object store (one connection pool for every application), the token keys applications
// unwrapped (so that a second application's login skips the PIN derivation), and the
// makers of the other slot backends (bridges), which the composition root registers —
// the core never includes a backend or a store. The embedded library has one Core and
// one App; ferrohsm-server has one Core and an App per connection.
#pragma once

#include "audit/writer.h"
#include "base/object_store.h"
#include "core/app.h"
#include "core/config.h"
#include "core/policy_state.h"
#include "core/token_key_cache.h"

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace ferrohsm {

struct CoreStatus {
  uint64_t applications = 0;
  uint64_t sessions = 0;
  std::vector<std::string> logged_in_tokens;  // labels, each once
};

// Makes one application's instance of a backend; its session handles start at `base`.
using BackendMaker = std::function<Result<std::unique_ptr<Backend>>(CK_SESSION_HANDLE base)>;

// A backend every application gets, and the mechanism policy of all its slots (a
// [[bridge]]'s `mechanisms`), which the App applies with the per-token policy.
struct BackendEntry {
  BackendMaker maker;
  MechanismPolicy policy;
};

class Core : public std::enable_shared_from_this<Core> {
 public:
  // `login_grace`: how long a token key stays after the last application logged out (0 in
  // the embedded library, where one process is one application).
  static Result<std::shared_ptr<Core>> open(Config cfg, std::shared_ptr<store::ObjectStore> store,
                                            std::chrono::milliseconds login_grace = std::chrono::milliseconds(0));

  ~Core();

  const Config& config() const { return cfg_; }
  // The audit trail ([audit]), or nullptr when it is off.
  audit::Writer* audit() { return audit_.get(); }
  store::ObjectStore& store() { return *store_; }
  const std::shared_ptr<store::ObjectStore>& store_ptr() const { return store_; }
  TokenKeyCache& keys() { return keys_; }

  // Adds a backend every application gets (a bridge), before the first open_app. The
  // i-th added is the App's bridge i, with the handles from kBridgeBase + i·kBridgeSpan;
  // a maker that fails for an application is logged and leaves place i empty.
  void add_backend(BackendMaker maker, MechanismPolicy policy = {});
  // The policy of the i-th added backend (nullptr past the last).
  const MechanismPolicy* backend_policy(size_t i) const { return i < backends_.size() ? &backends_[i].policy : nullptr; }
  // Whether any mechanism policy is configured (per token or per backend).
  bool has_mechanism_policy() const;

  // The [[policy]] rules in force (the configuration's, until a reload replaces them)
  // and the process's rate limiters (core/policy_state.h).
  PolicyState& policy() { return policy_; }

  std::unique_ptr<App> open_app(AppOptions options);
  CoreStatus status() const;

 private:
  friend class App;
  Core(Config cfg, std::shared_ptr<store::ObjectStore> store, std::chrono::milliseconds grace);
  void attach(App* app);
  void detach(App* app);

  Config cfg_;
  std::shared_ptr<store::ObjectStore> store_;
  TokenKeyCache keys_;
  std::vector<BackendEntry> backends_;
  PolicyState policy_;
  mutable std::mutex apps_mu_;
  std::set<App*> apps_;
  // Last members: closed first (~Core), while the applications' store and keys live.
  std::shared_ptr<audit::Signer> audit_signer_;
  std::unique_ptr<audit::Writer> audit_;
};

}  // namespace ferrohsm
