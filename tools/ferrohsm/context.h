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

// --server https://host:port with the client certificate, its key and the CA that
// signed the server's certificate: the commands then go through the REST API.
struct RemoteOptions {
  std::string server;
  std::string cert;
  std::string key;
  std::string ca;  // "" : the system's trusted CAs
};

struct Globals {
  std::string config;  // --config FILE ("" : FERROHSM_CONF, XDG, /etc)
  bool json = false;
  RemoteOptions remote;
};

class Backend;

class Context {
 public:
  Context(const Globals& g, Output& out);
  ~Context();
  // Loads the configuration, points the log at its destination, opens the store; with
  // --server, prepares the REST client instead (no configuration, no store).
  Status open();
  bool remote() const { return !globals_.remote.server.empty(); }
  // The tokens and keys, embedded or through REST (backend.h).
  Backend& backend() { return *backend_; }
  // The core's App: embedded only (a command not marked Remote::Yes never runs remotely).
  App& hsm() { return *hsm_; }
  const Config& config() const { return core_->config(); }
  Core& core() { return *core_; }
  Output& out() { return out_; }

 private:
  const Globals& globals_;
  Output& out_;
  std::shared_ptr<Core> core_;
  std::unique_ptr<App> hsm_;
  std::unique_ptr<Backend> backend_;
};

using Handler = std::function<Status(Context&)>;

// Whether a command also runs with --server (through the REST API's routes).
enum class Remote { No, Yes };

class Commands {
 public:
  void add(CLI::App* sub, Handler h, Remote remote = Remote::No) { handlers_[sub] = {std::move(h), remote}; }
  // The handler of the deepest subcommand the command line selected, or nullptr. With
  // `remote` a command that has no REST route gets a handler that says so.
  const Handler* selected(const CLI::App& app, bool remote) const;

 private:
  struct Entry {
    Handler handler;
    Remote remote;
  };
  std::map<const CLI::App*, Entry> handlers_;
  mutable Handler refusal_;
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
