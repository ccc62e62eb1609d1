// FerroHSM's configuration, read from a TOML file. Where the file is found:
// C_Initialize's pReserved ("ferrohsm_conf=<path>"), then $FERROHSM_CONF, then
// $XDG_CONFIG_HOME/ferrohsm/ferrohsm.toml (~/.config/…), then /etc/ferrohsm/ferrohsm.toml.
// With no file at all every value has its default; the store then lives under
// $XDG_DATA_HOME/ferrohsm/ (~/.local/share/ferrohsm/).
#pragma once

#include "base/object_store.h"
#include "base/pkcs11_uri.h"
#include "base/result.h"
#include "core/policy.h"
#include "core/hardening.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ferrohsm {

// The floor for PBKDF2-HMAC-SHA256 iterations (OWASP 2023); lower only with
// [dev] allow_weak_kdf = true, which warns.
inline constexpr uint32_t kMinKdfIterations = 600'000;
// The ceiling, for the configuration and for what a store row may ask (≈3 s a login).
inline constexpr uint32_t kMaxKdfIterations = 10'000'000;

// Only a regular file of at most this size is read as the configuration; a directory,
// FIFO, device or larger file is an error.
inline constexpr size_t kMaxConfigFileBytes = size_t{1} << 20;

struct MechanismPolicy {
  std::set<unsigned long> allow;  // empty: everything the registry has
  std::set<unsigned long> deny;

  bool empty() const { return allow.empty() && deny.empty(); }
  bool permits(unsigned long type) const { return (allow.empty() || allow.count(type) != 0) && deny.count(type) == 0; }
};

// One [[bridge]]: a slot backend over a token of another PKCS#11 library
// (src/backends/bridge). Bridge i's slots get the ids App::kBridgeBase + i·kBridgeSpan + j.
struct BridgeConfig {
  std::string module;  // the library's path
  // From one of token = "<label>", serial = "<serial>" or uri = "pkcs11:…": the one
  // slot whose token it matches (found again by it after a failure). Empty: a slot for
  // every slot of the library with a token at start.
  TokenSelector selector;
  // mechanisms = ["CKM_ECDSA", …]: only these, of what the library offers (empty: all).
  std::set<unsigned long> mechanisms;
};

// [audit]: the audit trail (docs/AUDIT.md). No file: no audit, and no cost.
struct AuditConfig {
  std::string file;                  // the JSON-lines file
  uint32_t rotate_bytes = 0;         // rotate when the file reaches this size (0: never)
  uint32_t rotate_seconds = 0;       // rotate when the file is this old (0: never)
  uint32_t checkpoint_seconds = 60;  // a signed checkpoint at least this often…
  uint32_t checkpoint_records = 1000;  // …or after this many records
  bool required = false;             // no record, no operation (CKR_FUNCTION_FAILED)
  bool syslog = false;               // each record to syslog(3) too
  std::string token;                 // the token (label) whose "ferrohsm-audit" key signs checkpoints
  std::string pin;                   // its user PIN: "env:NAME" or "file:PATH"
};

struct Config {
  std::string source;  // the file it came from, or "" for built-in defaults

  std::string store_backend = "sqlite";  // "sqlite" (one host) or "postgres" (a cluster)
  std::string store_path;  // SQLite database file
  uint32_t store_busy_timeout_ms = 5000;  // a write waits this long for another process's lock
  bool store_read_only = false;           // open the store read-only (writes: CKR_TOKEN_WRITE_PROTECTED)
  std::string store_url;            // PostgreSQL: postgresql://… or a libpq connection string, no password
  std::string store_password_file;  // PostgreSQL: the password's file (mode 0600); else PGPASSFILE/~/.pgpass
  uint32_t store_pool_size = 8;     // PostgreSQL: connections per process

  std::string log_level = "warn";         // off|error|warn|info|debug|trace
  std::string log_destination = "stderr";  // "stderr" or a file path

  uint32_t pin_min_length = 4;
  uint32_t pin_max_length = 128;
  uint32_t max_failed_logins = 10;
  uint32_t kdf_iterations = kMinKdfIterations;

  bool dev_allow_weak_kdf = false;

  // mode = "embedded" (the default: this process holds the keys) or "sidecar" (the
  // library is a client of ferrohsm-server; see docs/SERVER.md).
  std::string mode = "embedded";
  struct Sidecar {
    std::vector<std::string> endpoints;  // "unix:/path" or "tcp:host:port", tried in order
    std::string cert, key, ca;           // this client's certificate and key, the server's CA (tcp: needs them)
    std::string server_name;             // the name the server's certificate must carry (default: the host)
    uint32_t busy_poll_us = 50;          // how long a call polls for its answer before it sleeps (0: never)
  } sidecar;

  std::map<std::string, MechanismPolicy> token_policy;  // by token label
  std::vector<BridgeConfig> bridges;                     // [[bridge]], in file order
  Policy policy;  // [[policy]] rules (core/policy.h, docs/POLICY.md)
  Hardening hardening;                                   // [hardening] (core/hardening_config.cc)
  AuditConfig audit;
};

// The [store] settings, for whoever opens the store (src/store/open_store.h).
inline store::StoreSettings store_settings(const Config& c) {
  return store::StoreSettings{c.store_path,    c.store_busy_timeout_ms, c.store_read_only,    c.store_backend,
                              c.store_url,     c.store_password_file,   c.store_pool_size};
}

// Where the store is, for a message about a store that did not open: the SQLite file,
// or only "PostgreSQL" (the URL could hold a password; the opened store's describe()
// gives it without one).
inline std::string store_where(const Config& c) {
  return c.store_backend == "postgres" ? std::string("on PostgreSQL (store.url)") : c.store_path;
}

// Finds and reads the configuration. `explicit_path` (from pReserved) wins when set.
Result<Config> load_config(const std::string& explicit_path = {});
// Parses TOML text; `source` names it in messages.
Result<Config> parse_config(const std::string& text, const std::string& source);
// The default store path: $XDG_DATA_HOME/ferrohsm/ferrohsm.db or ~/.local/share/ferrohsm/ferrohsm.db.
std::string default_store_path();

}  // namespace ferrohsm
