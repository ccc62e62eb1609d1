#include "server/config.h"

#include "core/config_toml.h"

#include "core/policy_config.h"

#include <grp.h>

#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ferrohsm::server {
namespace fs = std::filesystem;
namespace {

Error config_error(const std::string& source, const std::string& what) {
  return make_error(CKR_GENERAL_ERROR, "configuration " + (source.empty() ? std::string("(text)") : source) + ": " + what);
}

const std::set<std::string> kServerKeys = {"listen",    "tls_cert",     "tls_key", "client_ca",
                                           "socket_mode", "socket_group", "io_threads", "workers",
                                           "blocking_workers", "login_grace_ms", "busy_poll_us"};
const std::set<std::string> kLimitKeys = {"max_message",          "max_sessions_per_connection",
                                          "max_connections",      "max_connections_per_peer",
                                          "max_calls_in_flight",  "handshake_timeout_ms",
                                          "idle_timeout_ms",      "shutdown_timeout_ms"};
const std::set<std::string> kAccessKeys = {"peer", "tokens", "admin"};
const std::set<std::string> kRestKeys = {"listen", "max_body", "session_ttl_s", "rate_per_s", "threads", "timeout_ms"};

Status check_keys(const toml::table& t, const std::set<std::string>& known, const std::string& where,
                  const std::string& source) {
  for (const auto& [k, v] : t) {
    (void)v;
    if (!known.count(std::string(k.str()))) return config_error(source, "unknown key " + where + "." + std::string(k.str()));
  }
  return {};
}

template <typename U>
Status read_uint(const toml::table& t, const char* key, const std::string& where, uint64_t lo, uint64_t hi, U& out,
                 const std::string& source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  auto v = n->value<int64_t>();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) < lo || static_cast<uint64_t>(*v) > hi)
    return config_error(source, where + "." + key + " must be an integer from " + std::to_string(lo) + " to " +
                                    std::to_string(hi));
  out = static_cast<U>(*v);
  return {};
}

Status read_path(const toml::table& t, const char* key, const std::string& base_dir, std::string& out,
                 const std::string& source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  auto v = n->value<std::string>();
  if (!v || v->empty()) return config_error(source, std::string("server.") + key + " must be a file path");
  fs::path p(*v);
  out = (p.is_relative() && !base_dir.empty()) ? (fs::path(base_dir) / p).string() : p.string();
  return {};
}

Status parse_server_section(const toml::table& t, const std::string& base_dir, ServerConfig& c,
                            const std::string& source) {
  FH_TRY(check_keys(t, kServerKeys, "server", source));
  const toml::array* listen = t.get_as<toml::array>("listen");
  if (listen == nullptr || listen->empty())
    return config_error(source, "server.listen must list at least one endpoint (\"unix:/path\" or \"tcp:host:port\")");
  for (const auto& item : *listen) {
    auto s = item.value<std::string>();
    if (!s) return config_error(source, "server.listen must hold strings");
    auto e = wire::parse_endpoint(*s);
    if (!e) return config_error(source, "server.listen: " + e.error().message);
    if (e->is_unix() && fs::path(e->path).is_relative() && !base_dir.empty())
      e->path = (fs::path(base_dir) / e->path).string();
    c.listen.push_back(std::move(*e));
  }
  FH_TRY(read_path(t, "tls_cert", base_dir, c.tls_cert, source));
  FH_TRY(read_path(t, "tls_key", base_dir, c.tls_key, source));
  FH_TRY(read_path(t, "client_ca", base_dir, c.client_ca, source));
  if (const toml::node* n = t.get("socket_mode")) {
    std::optional<int64_t> mode = n->value<int64_t>();
    if (auto s = n->value<std::string>()) {
      int64_t m = 0;
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), m, 8);
      if (!s->empty() && ec == std::errc() && end == s->data() + s->size()) mode = m;
    }
    if (!mode || *mode < 0 || *mode > 0777)
      return config_error(source, "server.socket_mode must be a file mode such as \"0660\" or 0o660");
    c.socket_mode = static_cast<uint32_t>(*mode);
  }
  if (const toml::node* n = t.get("socket_group")) {
    if (auto id = n->value<int64_t>(); id && *id >= 0) {
      c.socket_group = static_cast<gid_t>(*id);
    } else if (auto name = n->value<std::string>()) {
      std::vector<char> buf(65536);
      group gr{};
      group* found = nullptr;
      if (getgrnam_r(name->c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return config_error(source, "server.socket_group: no group named '" + *name + "'");
      c.socket_group = found->gr_gid;
    } else {
      return config_error(source, "server.socket_group must be a group name or number");
    }
  }
  FH_TRY(read_uint(t, "io_threads", "server", 0, 256, c.io_threads, source));
  FH_TRY(read_uint(t, "workers", "server", 0, 256, c.workers, source));
  FH_TRY(read_uint(t, "blocking_workers", "server", 1, 256, c.blocking_workers, source));
  FH_TRY(read_uint(t, "login_grace_ms", "server", 0, 86'400'000, c.login_grace_ms, source));
  FH_TRY(read_uint(t, "busy_poll_us", "server", 0, 10'000, c.busy_poll_us, source));
  return {};
}

Status parse_limits(const toml::table& t, Limits& l, const std::string& source) {
  FH_TRY(check_keys(t, kLimitKeys, "limits", source));
  FH_TRY(read_uint(t, "max_message", "limits", 4096, 1u << 30, l.max_message, source));
  FH_TRY(read_uint(t, "max_sessions_per_connection", "limits", 1, 1u << 20, l.max_sessions_per_connection, source));
  FH_TRY(read_uint(t, "max_connections", "limits", 1, 1u << 20, l.max_connections, source));
  FH_TRY(read_uint(t, "max_connections_per_peer", "limits", 1, 1u << 20, l.max_connections_per_peer, source));
  FH_TRY(read_uint(t, "max_calls_in_flight", "limits", 1, 4096, l.max_calls_in_flight, source));
  FH_TRY(read_uint(t, "handshake_timeout_ms", "limits", 10, 600'000, l.handshake_timeout_ms, source));
  FH_TRY(read_uint(t, "idle_timeout_ms", "limits", 0, 1u << 31, l.idle_timeout_ms, source));
  FH_TRY(read_uint(t, "shutdown_timeout_ms", "limits", 0, 3'600'000, l.shutdown_timeout_ms, source));
  return {};
}

Status parse_access(const toml::node& n, std::vector<AccessRule>& rules, const std::string& source) {
  const toml::array* a = n.as_array();
  if (a == nullptr) return config_error(source, "access must be written [[access]] (an array of tables)");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = a->get(i)->as_table();
    std::string where = "access[" + std::to_string(i) + "]";
    if (t == nullptr) return config_error(source, where + " must be a table");
    FH_TRY(check_keys(*t, kAccessKeys, where, source));
    auto peer = t->get_as<std::string>("peer");
    if (peer == nullptr) return config_error(source, where + ".peer is required (\"uid:1000\", \"cert:CN=app1\" …)");
    auto rule = parse_peer_pattern(peer->get());
    if (!rule) return config_error(source, where + ": " + rule.error().message);
    if (const toml::node* tokens = t->get("tokens")) {
      const toml::array* ta = tokens->as_array();
      if (ta == nullptr) return config_error(source, where + ".tokens must be an array of token labels");
      rule->tokens.clear();
      for (const auto& tok : *ta) {
        auto s = tok.value<std::string>();
        if (!s || s->empty()) return config_error(source, where + ".tokens must hold token labels (or \"*\")");
        rule->tokens.push_back(*s);
      }
    }
    if (const toml::node* admin = t->get("admin")) {
      auto b = admin->value<bool>();
      if (!b) return config_error(source, where + ".admin must be true or false");
      rule->admin = *b;
    }
    rules.push_back(std::move(*rule));
  }
  return {};
}

Status parse_rest(const toml::table& t, RestConfig& r, const std::string& source) {
  FH_TRY(check_keys(t, kRestKeys, "rest", source));
  if (const toml::node* n = t.get("listen")) {
    auto v = n->value<std::string>();
    if (!v || v->empty() || v->rfind(':') == std::string::npos)
      return config_error(source, "rest.listen must be \"host:port\" (\"127.0.0.1:8443\", \"[::1]:8443\")");
    r.listen = *v;
  }
  FH_TRY(read_uint(t, "max_body", "rest", 1024, 64u << 20, r.max_body, source));
  FH_TRY(read_uint(t, "session_ttl_s", "rest", 10, 86'400, r.session_ttl_s, source));
  FH_TRY(read_uint(t, "rate_per_s", "rest", 1, 1'000'000, r.rate_per_s, source));
  FH_TRY(read_uint(t, "threads", "rest", 1, 256, r.threads, source));
  FH_TRY(read_uint(t, "timeout_ms", "rest", 100, 600'000, r.timeout_ms, source));
  return {};
}

}  // namespace

bool ServerConfig::has_tcp() const {
  for (const auto& e : listen)
    if (e.is_tcp()) return true;
  return false;
}

Result<ServerConfig> parse_server_config(const std::string& text, const std::string& source,
                                         const std::string& base_dir) {
  toml::table root;
  if (std::optional<std::string> bad = parse_toml(text, source, root)) return config_error(source, *bad);
  ServerConfig c;
  c.source = source;
  const toml::table* server = root.get_as<toml::table>("server");
  if (server == nullptr) return config_error(source, "[server] is required (with listen = [...])");
  FH_TRY(parse_server_section(*server, base_dir, c, source));
  if (const toml::node* limits = root.get("limits")) {
    if (!limits->is_table()) return config_error(source, "[limits] must be a table");
    FH_TRY(parse_limits(*limits->as_table(), c.limits, source));
  }
  if (const toml::node* access = root.get("access")) FH_TRY(parse_access(*access, c.access, source));
  if (const toml::node* rest = root.get("rest")) {
    if (!rest->is_table()) return config_error(source, "[rest] must be a table");
    FH_TRY(parse_rest(*rest->as_table(), c.rest, source));
    if (!c.rest.listen.empty() && (c.tls_cert.empty() || c.tls_key.empty() || c.client_ca.empty()))
      return config_error(source, "[rest] listen needs server.tls_cert, server.tls_key and server.client_ca "
                                  "(HTTPS with client certificates only)");
  }
  if (c.has_tcp() && (c.tls_cert.empty() || c.tls_key.empty() || c.client_ca.empty()))
    return config_error(source, "a tcp: endpoint needs server.tls_cert, server.tls_key and server.client_ca "
                                "(TLS 1.3 with client certificates; there is no plaintext TCP)");

  // [[policy]] is read here from the file as written, so that its problems name the
  // file's lines (the core's parser below sees the sections re-serialised).
  FH_ASSIGN_OR_RETURN(Policy policy, read_policy(root.get("policy"), source));

  // The rest is the library's configuration: the core's parser reads it (and refuses
  // what it does not know).
  root.erase("server");
  root.erase("limits");
  root.erase("access");
  root.erase("rest");
  c.log_level_set = root.at_path("log.level").node() != nullptr;
  std::ostringstream rest;
  rest << root;
  c.core_toml = rest.str();
  auto core = parse_config(c.core_toml, source);
  if (!core) return core.error();
  c.core = std::move(*core);
  c.core.policy = std::move(policy);
  if (!c.log_level_set) c.core.log_level = "info";
  return c;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return config_error(path, "cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  return parse_server_config(ss.str(), path, ec ? std::string() : abs.parent_path().string());
}

}  // namespace ferrohsm::server
