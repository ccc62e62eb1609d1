// The daemon's configuration: defaults, then a TOML file (--config), then flags.
#pragma once

#include <string>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::signer {

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set → clients must present a certificate it signed
  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

struct Config {
  std::string listen = "127.0.0.1:8443";  // host:port, [v6]:port or unix:/path
  std::string state_dir;                  // default: $XDG_DATA_HOME/ferrohsm
  std::string database;                   // default: <state_dir>/signer.db
  std::string key_provider = "software";
  ProviderSettings providers;             // software.seed_file default: <state_dir>/software-seed
  TlsSettings tls;
  int request_timeout_ms = 5000;
  std::string log_level = "info";
  std::string port_file;                  // written with the bound TCP port once listening
};

// The outcome of reading the command line: run with `config`, or exit with `exit_code`
// after printing `output` (help, --list-providers, errors).
struct CommandLine {
  Config config;
  bool exit_now = false;
  int exit_code = 0;
  std::string output;
  bool pin_flag_used = false;  // --pkcs11-pin given: warn (dev only)
};

CommandLine parse_command_line(int argc, const char* const* argv);

// Applies a TOML file over `config`. Unknown keys are errors that name the key.
Status apply_toml_file(Config& config, const std::string& path);

// $XDG_DATA_HOME/ferrohsm, else $HOME/.local/share/ferrohsm.
std::string default_state_dir();

// Fills the path defaults from state_dir and checks the combination.
Status finalize_config(Config& config);

}  // namespace ferrohsm::signer
