// The daemon's configuration: defaults, then a TOML file (--config), then flags.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/secret.h"
#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::signer {

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set → clients must present a certificate it signed
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Where the key states live: SQLite (`database`, one process) or PostgreSQL, shared by
// every replica (see docs/SIGNER.md, "Several replicas on PostgreSQL").
struct StateSettings {
  std::string backend = "sqlite";  // "sqlite" | "postgres"
  std::string url;                 // postgres: postgresql://… or a libpq string, never with a password
  std::string password_file;       // postgres: mode 0600; "" → PGPASSFILE / ~/.pgpass
  int pool_size = 4;               // postgres connections for transitions (the listener has its own)
  int refresh_ms = 500;            // re-read every key at least this often (besides NOTIFY)
  int max_staleness_ms = 1500;     // refuse to sign when the state was not confirmed for this long
};

struct Config {
  std::string listen = "127.0.0.1:8443";  // host:port, [v6]:port or unix:/path
  std::string state_dir;                  // default: $XDG_DATA_HOME/ferrohsm
  std::string database;                   // default: <state_dir>/signer.db
  StateSettings state;
  std::string key_provider = "software";
  ProviderSettings providers;             // software.seed_file default: <state_dir>/software-seed
  TlsSettings tls;
  int request_timeout_ms = 5000;
  std::string log_level = "info";
  std::string port_file;                  // written with the bound TCP port once listening
};

// What the command line gave (the daemon's CLI11 code in tools/ferrohsm-signer fills
// it): each value set goes over the TOML file's, each one unset leaves it.
struct ConfigFlags {
  std::string config_file;  // --config: the TOML file, read before the flags apply
  std::optional<std::string> listen, state_dir, database, key_provider, software_seed_file;
  std::optional<std::string> state_backend, state_url, state_password_file;
  std::optional<std::string> tls_cert, tls_key, tls_client_ca;
  std::optional<std::string> pkcs11_module, pkcs11_pin_file, pkcs11_label;
  std::optional<unsigned long> pkcs11_slot;
  std::optional<Secret> pkcs11_pin;  // --pkcs11-pin: local development only
  std::optional<int> pkcs11_sessions, request_timeout_ms;
  std::optional<std::string> log_level, port_file;
  // The cloud settings by TOML key (the rows of config_cloud.h's tables).
  std::map<std::string, std::string, std::less<>> cloud_text;
  std::map<std::string, int, std::less<>> cloud_numbers;
};

// Defaults, then the TOML file, then the flags; then finalize_config. An error names the
// TOML key or the flag.
Result<Config> build_config(ConfigFlags flags);

// Applies a TOML file over `config`. Unknown keys are errors that name the key.
Status apply_toml_file(Config& config, const std::string& path);

// $XDG_DATA_HOME/ferrohsm, else $HOME/.local/share/ferrohsm.
std::string default_state_dir();

// Fills the path defaults from state_dir and checks the combination.
Status finalize_config(Config& config);

}  // namespace ferrohsm::signer
