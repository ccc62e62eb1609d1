#include "context.h"

#include "backend_factory.h"

#include "base/log.h"
#include "server/config.h"
#include "store/open_store.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <regex>
#include <sstream>

namespace ferrohsm::cli {

namespace {

// True when `path` is a ferrohsm-server configuration (it has a [server] table): the
// tool then works on the server's store, beside the running server.
bool is_server_config(const std::string& path) {
  if (path.empty()) return false;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex kServerTable(R"((^|\n)\s*\[server\]\s*(#[^\n]*)?(\n|$))");
  return std::regex_search(text.str(), kServerTable);
}

Result<Config> load_any_config(const std::string& path) {
  if (!is_server_config(path)) return load_config(path);
  FH_ASSIGN_OR_RETURN(server::ServerConfig sc, server::load_server_config(path));
  return sc.core;
}

}  // namespace

Context::Context(const Globals& g, Output& out) : globals_(g), out_(out) {}
Context::~Context() = default;

Status Context::open() {
  if (remote()) {
    // Only the tool's own failures go to stderr; there is no configuration to read.
    std::string why;
    (void)configure_logging("error", "stderr", &why);
    FH_ASSIGN_OR_RETURN(backend_, make_rest_backend(globals_.remote));
    return {};
  }
  auto cfg = load_any_config(globals_.config);
  if (!cfg) return context("load configuration", cfg.error());
  // The tool reports its own failures on stderr; the core's warnings there would
  // repeat them, so the default level "warn" on stderr becomes "error" here.
  std::string level = cfg->log_level == "warn" && cfg->log_destination == "stderr" ? "error" : cfg->log_level;
  std::string why;
  if (!configure_logging(level, cfg->log_destination, &why)) log().warn("{}; logging to stderr", why);
  // Not built yet: the token and key commands against a server. Opening some other
  // store instead would act on the wrong tokens, so the tool says so and stops.
  if (cfg->mode == "sidecar")
    return make_error(CKR_FUNCTION_NOT_SUPPORTED,
                      "this configuration is in sidecar mode; the token and key commands work on the store "
                      "itself: run them on the server's host as `ferrohsm --config <server.toml> ...`");
  auto store = store::open_store(store_settings(*cfg));
  if (!store) return context("open the store " + store_where(*cfg), store.error());
  FH_ASSIGN_OR_RETURN(core_, Core::open(*cfg, std::move(*store)));
  hsm_ = core_->open_app(AppOptions{.identity = "ferrohsm CLI", .admin = true, .in_process = true});
  backend_ = make_embedded_backend(*this);
  return {};
}

const Handler* Commands::selected(const CLI::App& app, bool remote) const {
  const CLI::App* at = &app;
  std::string name;
  for (int depth = 0; depth < 8; ++depth) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    name += (name.empty() ? "" : " ") + at->get_name();
  }
  auto it = handlers_.find(at);
  if (it == handlers_.end()) return nullptr;
  if (!remote || it->second.remote == Remote::Yes) return &it->second.handler;
  refusal_ = [name](Context&) -> Status {
    return make_error(CKR_FUNCTION_NOT_SUPPORTED,
                      "'" + name + "' is not offered through the REST API (--server): run it on the server's host as "
                      "`ferrohsm --config <server.toml> " + name + " ...`");
  };
  return &refusal_;
}

Result<SessionGuard> open_session(App& hsm, CK_SLOT_ID slot, bool rw) {
  auto h = hsm.open_session(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0));
  if (!h) return context("open a session on slot " + std::to_string(slot), h.error());
  return SessionGuard(hsm, *h);
}

Result<SessionGuard> login_session(App& hsm, CK_SLOT_ID slot, bool rw, CK_USER_TYPE user, std::string_view pin) {
  FH_ASSIGN_OR_RETURN(SessionGuard s, open_session(hsm, slot, rw));
  if (Status st = hsm.login(s.handle(), user, pin); !st)
    return context(std::string("log in as ") + (user == CKU_SO ? "SO" : "user"), st.error());
  return s;
}

}  // namespace ferrohsm::cli
