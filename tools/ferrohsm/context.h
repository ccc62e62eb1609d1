// What every command runs with: the global options, the output, and the HSM core
// opened on the configured store (the same config search as the PKCS#11 module).
// Also the registry that maps each CLI11 subcommand to its handler.
#pragma once

#include "core/app.h"
#include "core/core.h"
#include "core/hsm.h"
#include "output.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace ferrohsm::cli {

struct Globals {
  std::string config;  // --config FILE ("" : FERROHSM_CONF, XDG, /etc)
  bool json = false;
};

class Context {
 public:
  Context(const Globals& g, Output& out) : globals_(g), out_(out) {}
  // Loads the configuration, points the log at its destination, opens the store.
  Status open();
  App& hsm() { return *hsm_; }
  const Config& config() const { return core_->config(); }
  Core& core() { return *core_; }
  Output& out() { return out_; }

 private:
  const Globals& globals_;
  Output& out_;
  std::shared_ptr<Core> core_;
  std::unique_ptr<App> hsm_;
};

using Handler = std::function<Status(Context&)>;

class Commands {
 public:
  void add(CLI::App* sub, Handler h) { handlers_[sub] = std::move(h); }
  // The handler of the deepest subcommand the command line selected, or nullptr.
  const Handler* selected(const CLI::App& app) const;

 private:
  std::map<const CLI::App*, Handler> handlers_;
};

// A session that closes itself (and, being the last, logs out).
class SessionGuard {
 public:
  SessionGuard(App& hsm, CK_SESSION_HANDLE h) : hsm_(&hsm), h_(h) {}
  SessionGuard(SessionGuard&& o) noexcept : hsm_(o.hsm_), h_(o.h_) { o.hsm_ = nullptr; }
  SessionGuard& operator=(SessionGuard&&) = delete;
  SessionGuard(const SessionGuard&) = delete;
  ~SessionGuard() {
    if (hsm_ != nullptr) (void)hsm_->close_session(h_);
  }
  CK_SESSION_HANDLE handle() const { return h_; }

 private:
  App* hsm_;
  CK_SESSION_HANDLE h_;
};

Result<SessionGuard> open_session(App& hsm, CK_SLOT_ID slot, bool rw);
// Opens a session and logs in as `user` (CKU_USER or CKU_SO).
Result<SessionGuard> login_session(App& hsm, CK_SLOT_ID slot, bool rw, CK_USER_TYPE user, std::string_view pin);

}  // namespace ferrohsm::cli
