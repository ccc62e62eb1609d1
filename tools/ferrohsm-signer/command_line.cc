#include "command_line.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <sstream>

#include "ferrohsm/signer/config_cloud.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::signer {

namespace {
// An option that sets `dst` when given (and leaves it empty when not).
template <class T>
CLI::Option* optional_value(CLI::App& app, const std::string& flag, std::optional<T>& dst, const std::string& help) {
  return app.add_option_function<T>(flag, [&dst](const T& v) { dst = v; }, help);
}
}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  CLI::App app{"ferrohsm-signer: an Ed25519 signing service whose private keys stay with a key provider"};
  ConfigFlags f;
  bool list = false;
  app.add_option("--config", f.config_file, "TOML configuration file")->check(CLI::ExistingFile);
  optional_value(app, "--listen", f.listen, "host:port or unix:/path (default 127.0.0.1:8443)");
  optional_value(app, "--state-dir", f.state_dir, "state directory (default $XDG_DATA_HOME/ferrohsm)");
  optional_value(app, "--database", f.database, "SQLite state file (default <state-dir>/signer.db)");
  optional_value(app, "--state-backend", f.state_backend, "sqlite (default) | postgres: where key states live");
  optional_value(app, "--state-url", f.state_url, "postgres: postgresql://… (no password: --state-password-file)");
  optional_value(app, "--state-password-file", f.state_password_file, "postgres: file holding the password (0600)");
  optional_value(app, "--key-provider", f.key_provider, "software | pkcs11 | aws-kms | gcp-kms | azure-kv");
  optional_value(app, "--software-seed-file", f.software_seed_file, "32-byte seed of the software provider");
  optional_value(app, "--tls-cert", f.tls_cert, "PEM certificate: serve HTTPS");
  optional_value(app, "--tls-key", f.tls_key, "PEM private key of --tls-cert");
  optional_value(app, "--tls-client-ca", f.tls_client_ca, "PEM CA bundle: require client certificates");
  optional_value(app, "--pkcs11-module", f.pkcs11_module, "PKCS#11 library path");
  optional_value(app, "--pkcs11-slot", f.pkcs11_slot, "PKCS#11 slot id");
  optional_value(app, "--pkcs11-pin-file", f.pkcs11_pin_file, "file holding the user PIN (secret mount)");
  app.add_option_function<std::string>(
      "--pkcs11-pin", [&f](const std::string& v) { f.pkcs11_pin = Secret(v); },
      "user PIN on the command line: local development only");
  optional_value(app, "--pkcs11-label", f.pkcs11_label, "CKA_LABEL prefix (<label>:<scope>:<key_id>)");
  optional_value(app, "--pkcs11-sessions", f.pkcs11_sessions,
                 "sessions (slot-server workers) on the token; 1 for a single-session token");
  optional_value(app, "--request-timeout-ms", f.request_timeout_ms, "deadline of each request");
  optional_value(app, "--log-level", f.log_level, "trace|debug|info|warn|error");
  optional_value(app, "--port-file", f.port_file, "write the bound TCP port here once listening");
  app.add_flag("--list-providers", list, "print the key providers this binary has and exit");
  // The cloud providers' flags come from the library's table (their TOML keys too).
  for (const auto& row : cloud_text_settings())
    app.add_option_function<std::string>(
        std::string(row.flag), [&f, key = std::string(row.key)](const std::string& v) { f.cloud_text[key] = v; },
        std::string(row.help));
  for (const auto& row : cloud_number_settings())
    app.add_option_function<int>(
           std::string(row.flag), [&f, key = std::string(row.key)](const int& v) { f.cloud_numbers[key] = v; },
           std::string(row.help))
        ->check(CLI::Range(row.min, row.max));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream os, es;
    out.exit_code = app.exit(e, os, es);
    out.output = os.str() + es.str();
    out.exit_now = true;
    return out;
  }
  if (list) {
    out.exit_now = true;
    out.output = describe_providers();
    return out;
  }
  out.pin_flag_used = f.pkcs11_pin.has_value();
  auto config = build_config(std::move(f));
  if (!config) {
    out.exit_now = true;
    out.exit_code = 2;
    out.output = "ferrohsm-signer: " + config.error().message + "\n";
    return out;
  }
  out.config = std::move(*config);
  return out;
}

}  // namespace ferrohsm::signer
