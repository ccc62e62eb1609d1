#include "core/config.h"

#include "base/names.h"
#include "core/config_toml.h"
#include "core/policy_config.h"
#include "core/hardening_config.h"

#include <toml++/toml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace ferrohsm {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string home_dir() {
  std::string h = env("HOME");
  return h.empty() ? std::string("/tmp") : h;
}

// A refused file is one log line, whatever it holds: control characters quoted from
// it (what a parse error saw, a label or key it names) are written as \xNN.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += {'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
  }
  return out;
}

Error config_error(const std::string& source, const std::string& what) {
  return make_error(CKR_GENERAL_ERROR, one_line("configuration " + source + ": " + what));
}

const std::set<std::string> kLevels = {"off", "error", "warn", "info", "debug", "trace"};

// Reads an integer in [lo, hi] at section.key, if present. Only a TOML integer is one:
// a float (1.0, 1e300, nan) is refused, never rounded or converted (converting 1e300 to
// an integer is undefined behaviour).
Status read_uint(const toml::table& t, const char* section, const char* key, uint32_t lo, uint32_t hi,
                 uint32_t& out, const std::string& source) {
  const toml::node* n = t.at_path(std::string(section) + "." + key).node();
  if (n == nullptr) return {};
  const toml::value<int64_t>* v = n->as_integer();
  if (v == nullptr || v->get() < lo || v->get() > hi)
    return config_error(source, std::string(section) + "." + key + " must be an integer from " +
                                    std::to_string(lo) + " to " + std::to_string(hi) +
                                    (n->is_floating_point() ? " (written without a decimal point or exponent)" : ""));
  out = static_cast<uint32_t>(v->get());
  return {};
}

Status read_string(const toml::table& t, const char* section, const char* key, std::string& out,
                   const std::string& source) {
  const toml::node* n = t.at_path(std::string(section) + "." + key).node();
  if (n == nullptr) return {};
  auto v = n->value<std::string>();
  if (!v) return config_error(source, std::string(section) + "." + key + " must be a string");
  out = *v;
  return {};
}

// Every key the file may hold; anything else is a mistake worth naming.
const std::map<std::string, std::set<std::string>> kKnown = {
    {"store", {"path", "backend", "busy_timeout_ms", "read_only", "url", "password_file", "pool_size"}},
    {"log", {"level", "destination"}},
    {"pin", {"min_length", "max_length", "max_failed_logins", "kdf_iterations"}},
    {"dev", {"allow_weak_kdf"}},
    {"sidecar", {"endpoints", "cert", "key", "ca", "server_name", "busy_poll_us"}},
    {"audit", {"file", "rotate_bytes", "rotate_seconds", "checkpoint_seconds", "checkpoint_records", "required",
               "syslog", "token", "pin"}},
    {"token", {}},
    {"hardening", {}},  // checked in read_hardening
    {"bridge", {"module", "token", "serial", "uri", "mechanisms"}},  // an array of tables, checked in read_bridge
    {"policy", {}},  // [[policy]] rules, checked in core/policy_config.cc
};

// The keys that sit at the top of the file, outside any section.
const std::set<std::string> kTopLevel = {"mode"};

Status check_known_keys(const toml::table& root, const std::string& source) {
  for (const auto& [k, v] : root) {
    std::string section(k.str());
    if (kTopLevel.count(section)) continue;
    auto it = kKnown.find(section);
    if (it == kKnown.end()) return config_error(source, "unknown section [" + section + "]");
    if (section == "token" || section == "bridge" || section == "policy" || section == "hardening") continue;
    const toml::table* t = v.as_table();
    if (t == nullptr) return config_error(source, "[" + section + "] must be a table");
    for (const auto& [kk, vv] : *t) {
      (void)vv;
      if (!it->second.count(std::string(kk.str())))
        return config_error(source, "unknown key " + section + "." + std::string(kk.str()));
    }
  }
  return {};
}

Result<BridgeConfig> read_bridge(const toml::table& e, size_t index, const std::string& source);

Status read_bool(const toml::table& t, const char* path, bool& out, const std::string& source) {
  const toml::node* n = t.at_path(path).node();
  if (n == nullptr) return {};
  if (!n->is_boolean()) return config_error(source, std::string(path) + " must be true or false");
  out = n->as_boolean()->get();
  return {};
}

Status read_audit(const toml::table& root, AuditConfig& a, const std::string& source) {
  FH_TRY(read_string(root, "audit", "file", a.file, source));
  FH_TRY(read_uint(root, "audit", "rotate_bytes", 0, 0xffffffffu, a.rotate_bytes, source));
  FH_TRY(read_uint(root, "audit", "rotate_seconds", 0, 0xffffffffu, a.rotate_seconds, source));
  FH_TRY(read_uint(root, "audit", "checkpoint_seconds", 1, 86'400, a.checkpoint_seconds, source));
  FH_TRY(read_uint(root, "audit", "checkpoint_records", 1, 1'000'000, a.checkpoint_records, source));
  FH_TRY(read_bool(root, "audit.required", a.required, source));
  FH_TRY(read_bool(root, "audit.syslog", a.syslog, source));
  FH_TRY(read_string(root, "audit", "token", a.token, source));
  FH_TRY(read_string(root, "audit", "pin", a.pin, source));
  const bool any = root.get("audit") != nullptr;
  if (any && a.file.empty()) return config_error(source, "[audit] needs file = \"…\"");
  if (!a.token.empty() && a.pin.rfind("env:", 0) != 0 && a.pin.rfind("file:", 0) != 0)
    return config_error(source, "audit.pin must be \"env:NAME\" or \"file:PATH\" (a PIN is never written in the "
                                "configuration)");
  return {};
}

}  // namespace

std::string default_store_path() {
  std::string base = env("XDG_DATA_HOME");
  if (base.empty()) base = home_dir() + "/.local/share";
  return base + "/ferrohsm/ferrohsm.db";
}

Result<Config> parse_config(const std::string& text, const std::string& source) {
  toml::table root;
  if (std::optional<std::string> bad = parse_toml(text, source, root)) return config_error(source, *bad);
  FH_TRY(check_known_keys(root, source));

  Config c;
  c.source = source;
  c.store_path = default_store_path();
  FH_TRY(read_string(root, "store", "path", c.store_path, source));
  FH_TRY(read_string(root, "store", "backend", c.store_backend, source));
  if (c.store_backend != "sqlite" && c.store_backend != "postgres")
    return config_error(source, "store.backend '" + c.store_backend + "' is not supported (sqlite, postgres)");
  if (c.store_path.empty()) return config_error(source, "store.path is empty");
  FH_TRY(read_uint(root, "store", "busy_timeout_ms", 0, 600'000, c.store_busy_timeout_ms, source));
  if (const toml::node* n = root.at_path("store.read_only").node()) {
    // is_boolean: value<bool>() would take 1 for true.
    if (!n->is_boolean()) return config_error(source, "store.read_only must be true or false");
    c.store_read_only = n->as_boolean()->get();
  }
  FH_TRY(read_string(root, "store", "url", c.store_url, source));
  FH_TRY(read_string(root, "store", "password_file", c.store_password_file, source));
  FH_TRY(read_uint(root, "store", "pool_size", 1, 256, c.store_pool_size, source));
  const bool pg_key = root.at_path("store.url") || root.at_path("store.password_file") || root.at_path("store.pool_size");
  if (c.store_backend == "sqlite" && pg_key)
    return config_error(source, "store.url, store.password_file and store.pool_size are for backend = \"postgres\"");
  if (c.store_backend == "postgres") {
    // The URL itself is checked when the store opens (libpq parses it there; one that
    // holds a password is refused). Never quoted here: it could hold one.
    if (c.store_url.empty())
      return config_error(source, "store.backend = \"postgres\" needs store.url = \"postgresql://…\" (or a libpq "
                                  "connection string)");
    if (root.at_path("store.password_file") && c.store_password_file.empty())
      return config_error(source, "store.password_file is empty");
    if (c.store_read_only)
      return config_error(source, "store.read_only is for an SQLite file; on PostgreSQL give the role read-only "
                                  "rights instead (not supported yet)");
  }

  FH_TRY(read_string(root, "log", "level", c.log_level, source));
  if (!kLevels.count(c.log_level))
    return config_error(source, "log.level must be one of off, error, warn, info, debug, trace");
  FH_TRY(read_string(root, "log", "destination", c.log_destination, source));
  if (c.log_destination.empty()) return config_error(source, "log.destination is empty");

  FH_TRY(read_uint(root, "pin", "min_length", 1, 255, c.pin_min_length, source));
  FH_TRY(read_uint(root, "pin", "max_length", 1, 1024, c.pin_max_length, source));
  if (c.pin_min_length > c.pin_max_length) return config_error(source, "pin.min_length exceeds pin.max_length");
  FH_TRY(read_uint(root, "pin", "max_failed_logins", 1, 1000, c.max_failed_logins, source));
  FH_TRY(read_uint(root, "pin", "kdf_iterations", 1, kMaxKdfIterations, c.kdf_iterations, source));

  if (const toml::node* n = root.at_path("dev.allow_weak_kdf").node()) {
    const toml::value<bool>* v = n->as_boolean();
    if (v == nullptr) return config_error(source, "dev.allow_weak_kdf must be true or false");
    c.dev_allow_weak_kdf = v->get();
  }
  if (c.kdf_iterations < kMinKdfIterations && !c.dev_allow_weak_kdf)
    return config_error(source, "pin.kdf_iterations below " + std::to_string(kMinKdfIterations) +
                                    " needs [dev] allow_weak_kdf = true (never in production)");

  FH_TRY(read_audit(root, c.audit, source));

  if (const toml::node* n = root.get("mode")) {
    auto m = n->value<std::string>();
    if (!m || (*m != "embedded" && *m != "sidecar"))
      return config_error(source, "mode must be \"embedded\" or \"sidecar\"");
    c.mode = *m;
  }
  if (const toml::node* n = root.at_path("sidecar.endpoints").node()) {
    const toml::array* a = n->as_array();
    if (a == nullptr) return config_error(source, "sidecar.endpoints must be an array of \"unix:…\" or \"tcp:…\"");
    for (const auto& item : *a) {
      auto e = item.value<std::string>();
      if (!e || (e->rfind("unix:", 0) != 0 && e->rfind("tcp:", 0) != 0))
        return config_error(source, "sidecar.endpoints entries must be \"unix:<path>\" or \"tcp:<host>:<port>\"");
      c.sidecar.endpoints.push_back(*e);
    }
  }
  FH_TRY(read_string(root, "sidecar", "cert", c.sidecar.cert, source));
  FH_TRY(read_string(root, "sidecar", "key", c.sidecar.key, source));
  FH_TRY(read_string(root, "sidecar", "ca", c.sidecar.ca, source));
  FH_TRY(read_string(root, "sidecar", "server_name", c.sidecar.server_name, source));
  FH_TRY(read_uint(root, "sidecar", "busy_poll_us", 0, 10'000, c.sidecar.busy_poll_us, source));
  if (c.mode == "sidecar") {
    if (c.sidecar.endpoints.empty()) return config_error(source, "mode = \"sidecar\" needs [sidecar] endpoints");
    for (const std::string& e : c.sidecar.endpoints)
      if (e.rfind("tcp:", 0) == 0 && (c.sidecar.cert.empty() || c.sidecar.key.empty() || c.sidecar.ca.empty()))
        return config_error(source, "a tcp: sidecar endpoint needs [sidecar] cert, key and ca (mutual TLS)");
  }

  if (const toml::node* tokens = root.get("token")) {
    const toml::table* t = tokens->as_table();
    if (t == nullptr) return config_error(source, "[token.\"<label>\"] entries must be tables");
    for (const auto& [label, entry] : *t) {
      const toml::table* e = entry.as_table();
      if (e == nullptr) return config_error(source, "token." + std::string(label.str()) + " must be a table");
      MechanismPolicy p;
      for (const auto& [k, v] : *e) {
        std::string key(k.str());
        if (key != "allow_mechanisms" && key != "deny_mechanisms")
          return config_error(source, "unknown key token." + std::string(label.str()) + "." + key);
        FH_ASSIGN_OR_RETURN(auto set, read_mechanisms(&v, "token." + std::string(label.str()) + "." + key, source));
        (key == "allow_mechanisms" ? p.allow : p.deny) = std::move(set);
      }
      c.token_policy[std::string(label.str())] = std::move(p);
    }
  }

  if (const toml::node* bridges = root.get("bridge")) {
    const toml::array* a = bridges->as_array();
    if (a == nullptr) return config_error(source, "bridges are [[bridge]] tables");
    for (const toml::node& entry : *a) {
      const toml::table* e = entry.as_table();
      if (e == nullptr) return config_error(source, "bridges are [[bridge]] tables");
      FH_ASSIGN_OR_RETURN(BridgeConfig b, read_bridge(*e, c.bridges.size() + 1, source));
      c.bridges.push_back(std::move(b));
    }
  }
  FH_ASSIGN_OR_RETURN(c.policy, read_policy(root.get("policy"), source));
  FH_TRY(read_hardening(root, c.hardening, source));
  return c;
}

std::optional<std::string> parse_toml(const std::string& text, const std::string& source, toml::table& out) {
  try {
    out = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "line " << e.source().begin.line << ": " << e.description();
    return msg.str();
  }
  return std::nullopt;
}

Result<std::set<unsigned long>> read_mechanisms(const toml::node* n, const std::string& what,
                                                const std::string& source) {
  const toml::array* a = n->as_array();
  if (a == nullptr)
    return config_error(source, what + " must be a list of mechanism names (\"CKM_ECDSA\") or numbers (0x1041)");
  std::set<unsigned long> out;
  for (const auto& item : *a) {
    // A TOML integer (a vendor's mechanism has no name) or a name from the base table; a
    // float is refused, never rounded or converted, as read_uint does.
    if (const toml::value<int64_t>* v = item.as_integer(); v != nullptr && v->get() >= 0) {
      out.insert(static_cast<unsigned long>(v->get()));
      continue;
    }
    const toml::value<std::string>* name = item.as_string();
    if (name == nullptr)
      return config_error(source, what + " must hold names (\"CKM_ECDSA\") or numbers (0x1041)");
    std::optional<CK_MECHANISM_TYPE> type = mechanism_from_name(name->get());
    if (!type) return config_error(source, what + ": unknown mechanism \"" + one_line(name->get()) + "\"");
    out.insert(*type);
  }
  return out;
}

namespace {
// One [[bridge]] table; every message names the entry ("[[bridge]] #2 (module …)").
Result<BridgeConfig> read_bridge(const toml::table& e, size_t index, const std::string& source) {
  BridgeConfig b;
  std::string where = "[[bridge]] #" + std::to_string(index);
  auto error = [&](const std::string& what) { return config_error(source, where + ": " + what); };
  auto text = [&](const char* key) -> Result<std::optional<std::string>> {
    const toml::node* n = e.get(key);
    if (n == nullptr) return std::optional<std::string>();
    auto v = n->value<std::string>();
    if (!v || !n->is_string()) return error(std::string(key) + " must be a string");
    return std::optional<std::string>(*v);
  };
  FH_ASSIGN_OR_RETURN(std::optional<std::string> module, text("module"));
  if (!module || module->empty()) return error("needs module = \"<path of a PKCS#11 library>\"");
  b.module = *module;
  where += " (module " + b.module + ")";
  for (const auto& [k, v] : e) {
    (void)v;
    if (!kKnown.at("bridge").count(std::string(k.str())))
      return error("unknown key " + std::string(k.str()) + " (module, token, serial, uri, mechanisms)");
  }

  FH_ASSIGN_OR_RETURN(std::optional<std::string> token, text("token"));
  FH_ASSIGN_OR_RETURN(std::optional<std::string> serial, text("serial"));
  FH_ASSIGN_OR_RETURN(std::optional<std::string> uri, text("uri"));
  if (int(token.has_value()) + int(serial.has_value()) + int(uri.has_value()) > 1)
    return error("token, serial and uri each select the token: give one of them");
  if (token) {
    if (Status ok = check_token_field("token", *token); !ok) return error(ok.error().message);
    b.selector.label = *token;
  } else if (serial) {
    if (Status ok = check_token_field("serial", *serial); !ok) return error(ok.error().message);
    b.selector.serial = *serial;
  } else if (uri) {
    auto selector = token_selector_from_uri(*uri);
    if (!selector.ok()) return error("uri: " + selector.error().message);
    b.selector = std::move(*selector);
  }

  if (const toml::node* n = e.get("mechanisms")) {
    if (n->as_array() == nullptr || n->as_array()->empty())
      return error("mechanisms must be a non-empty list of names (\"CKM_ECDSA\") or numbers; leave it out to allow "
                   "every mechanism of the library");
    FH_ASSIGN_OR_RETURN(b.mechanisms, read_mechanisms(n, where + ": mechanisms", source));
  }
  return b;
}
}  // namespace

namespace {

std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

Error not_regular(const std::string& path, mode_t m) {
  return config_error(path, "is not a regular file (" + kind_of(m) + ")");
}

// A closed-on-exit descriptor, closed on every return path.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// The whole text of the configuration file at `path`, which must be a regular file of
// at most kMaxConfigFileBytes. It is looked at before it is opened (so a device is never
// opened), opened non-blocking (a FIFO swapped in meanwhile cannot block) and checked
// again on the open descriptor (what is read is what was checked).
Result<std::string> read_config_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return config_error(path, std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  Fd f{open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) return config_error(path, std::string("cannot be read: ") + std::strerror(errno));
  if (fstat(f.fd, &st) != 0) return config_error(path, std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  const std::string too_large = "is larger than " + std::to_string(kMaxConfigFileBytes >> 20) + " MiB";
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigFileBytes) return config_error(path, too_large);
  std::string text;
  char buf[16384];
  for (;;) {  // the size may have changed since fstat: the bound holds on what is read
    ssize_t n = read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return config_error(path, std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConfigFileBytes) return config_error(path, too_large);
  }
  return text;
}

Config defaults() {
  Config c;
  c.store_path = default_store_path();
  return c;
}

}  // namespace

Result<Config> load_config(const std::string& explicit_path) {
  std::string path = explicit_path;
  if (path.empty()) path = env("FERROHSM_CONF");
  if (path.empty()) {
    // The search: the first place where something exists holds the configuration. A
    // file there that this user may not read gives the defaults (as it always did);
    // anything but a regular file is an error.
    std::string xdg = env("XDG_CONFIG_HOME");
    if (xdg.empty()) xdg = home_dir() + "/.config";
    for (const std::string& p : {xdg + "/ferrohsm/ferrohsm.toml", std::string("/etc/ferrohsm/ferrohsm.toml")}) {
      struct stat st {};
      if (stat(p.c_str(), &st) != 0) continue;
      if (!S_ISREG(st.st_mode)) return not_regular(p, st.st_mode);
      if (access(p.c_str(), R_OK) != 0) return defaults();
      path = p;
      break;
    }
    if (path.empty()) return defaults();
  }
  FH_ASSIGN_OR_RETURN(std::string text, read_config_file(path));
  return parse_config(text, path);
}

}  // namespace ferrohsm
