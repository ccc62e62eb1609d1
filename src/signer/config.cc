#include "ferrohsm/signer/config.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "config_cloud.h"

namespace ferrohsm::signer {

namespace {
// One table: TOML key path → how it sets the config.
using Setter = std::function<Status(Config&, const toml::node&)>;

Setter text(std::string Config::*field) {
  return [field](Config& c, const toml::node& n) -> Status {
    if (!n.is_string()) return Error::invalid("must be a string");
    c.*field = *n.value<std::string>();
    return {};
  };
}
template <class F>
Setter text_at(F get) {
  return [get](Config& c, const toml::node& n) -> Status {
    if (!n.is_string()) return Error::invalid("must be a string");
    get(c) = *n.value<std::string>();
    return {};
  };
}

const std::map<std::string, Setter>& toml_keys() {
  static std::map<std::string, Setter> keys = {
      {"listen", text(&Config::listen)},
      {"state_dir", text(&Config::state_dir)},
      {"database", text(&Config::database)},
      {"key_provider", text(&Config::key_provider)},
      {"log_level", text(&Config::log_level)},
      {"request_timeout_ms",
       [](Config& c, const toml::node& n) -> Status {
         if (!n.is_integer() || *n.value<std::int64_t>() <= 0 || *n.value<std::int64_t>() > 600000)
           return Error::invalid("must be an integer between 1 and 600000");
         c.request_timeout_ms = static_cast<int>(*n.value<std::int64_t>());
         return {};
       }},
      {"tls.cert_file", text_at([](Config& c) -> std::string& { return c.tls.cert_file; })},
      {"tls.key_file", text_at([](Config& c) -> std::string& { return c.tls.key_file; })},
      {"tls.client_ca_file", text_at([](Config& c) -> std::string& { return c.tls.client_ca_file; })},
      {"software.seed_file", text_at([](Config& c) -> std::string& { return c.providers.software_seed_file; })},
      {"pkcs11.module", text_at([](Config& c) -> std::string& { return c.providers.pkcs11.module; })},
      {"pkcs11.pin_file", text_at([](Config& c) -> std::string& { return c.providers.pkcs11.pin_file; })},
      {"pkcs11.label", text_at([](Config& c) -> std::string& { return c.providers.pkcs11.label; })},
      {"pkcs11.sessions",
       [](Config& c, const toml::node& n) -> Status {
         if (!n.is_integer() || *n.value<std::int64_t>() < 1 || *n.value<std::int64_t>() > 64)
           return Error::invalid("must be an integer between 1 and 64");
         c.providers.pkcs11.sessions = static_cast<int>(*n.value<std::int64_t>());
         return {};
       }},
      {"pkcs11.slot",
       [](Config& c, const toml::node& n) -> Status {
         if (!n.is_integer() || *n.value<std::int64_t>() < 0) return Error::invalid("must be a non-negative integer");
         c.providers.pkcs11.slot = static_cast<unsigned long>(*n.value<std::int64_t>());
         return {};
       }},
  };
  static const bool cloud_added = [] {
    for (const auto& t : config_detail::cloud_text_settings())
      keys.emplace(std::string(t.key), [set = t.set](Config& c, const toml::node& n) -> Status {
        if (!n.is_string()) return Error::invalid("must be a string");
        set(c, *n.value<std::string>());
        return {};
      });
    for (const auto& t : config_detail::cloud_number_settings())
      keys.emplace(std::string(t.key), [t](Config& c, const toml::node& n) -> Status {
        if (!n.is_integer() || *n.value<std::int64_t>() < t.min || *n.value<std::int64_t>() > t.max)
          return Error::invalid("must be an integer between " + std::to_string(t.min) + " and " + std::to_string(t.max));
        t.set(c, static_cast<int>(*n.value<std::int64_t>()));
        return {};
      });
    return true;
  }();
  (void)cloud_added;
  return keys;
}

Status apply_table(Config& config, const toml::table& table, const std::string& prefix) {
  for (const auto& [k, node] : table) {
    std::string key = prefix + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      if (auto s = apply_table(config, *sub, key + "."); !s) return s;
      continue;
    }
    auto it = toml_keys().find(key);
    if (it == toml_keys().end()) {
      if (key == "pkcs11.pin") return Error::invalid("config key 'pkcs11.pin' is not accepted: use pkcs11.pin_file");
      if (key == "azure_kv.client_secret")
        return Error::invalid("config key 'azure_kv.client_secret' is not accepted: use azure_kv.client_secret_file");
      return Error::invalid("unknown config key '" + key + "'");
    }
    if (auto s = it->second(config, node); !s) return Error::invalid("config key '" + key + "' " + s.error().message);
  }
  return {};
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}
}  // namespace

std::string default_state_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/ferrohsm";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/ferrohsm";
  return "./ferrohsm-state";
}

Status apply_toml_file(Config& config, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "cannot read config file " << path << ": " << e.description() << " (line " << e.source().begin.line
        << ")";
    return Error::invalid(msg.str());
  }
  return apply_table(config, table, "");
}

Status finalize_config(Config& config) {
  if (config.state_dir.empty()) config.state_dir = default_state_dir();
  if (config.database.empty()) config.database = config.state_dir + "/signer.db";
  if (config.providers.software_seed_file.empty())
    config.providers.software_seed_file = config.state_dir + "/software-seed";
  if (config.request_timeout_ms <= 0) return Error::invalid("request timeout must be positive");
  if ((config.tls.cert_file.empty()) != (config.tls.key_file.empty()))
    return Error::invalid("TLS needs both a certificate (--tls-cert) and a private key (--tls-key)");
  if (!config.tls.client_ca_file.empty() && !config.tls.enabled())
    return Error::invalid("--tls-client-ca needs --tls-cert and --tls-key");
  if (!config.listen.starts_with("unix:") && !config.tls.enabled()) {
    auto colon = config.listen.rfind(':');
    std::string host = colon == std::string::npos ? config.listen : config.listen.substr(0, colon);
    if (!is_loopback_host(host))
      return Error::invalid("plain HTTP listens only on loopback or a Unix socket; '" + config.listen +
                            "' needs --tls-cert and --tls-key");
  }
  auto& p = config.providers.pkcs11;
  if (p.label.empty() || p.label.find(':') != std::string::npos)
    return Error::invalid("--pkcs11-label must be non-empty and contain no ':'");
  if (p.sessions < 1 || p.sessions > 64) return Error::invalid("--pkcs11-sessions must be between 1 and 64");
  return {};
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  CLI::App app{"ferrohsm-signer: an Ed25519 signing service whose private keys stay with a key provider"};
  std::string config_file, listen, state_dir, database, provider, seed_file, tls_cert, tls_key, tls_ca;
  std::string p11_module, p11_pin_file, p11_pin, p11_label, log_level, port_file;
  unsigned long p11_slot = 0;
  int timeout_ms = 0, p11_sessions = 0;
  bool list = false;
  app.add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  auto* o_listen = app.add_option("--listen", listen, "host:port or unix:/path (default 127.0.0.1:8443)");
  auto* o_state = app.add_option("--state-dir", state_dir, "state directory (default $XDG_DATA_HOME/ferrohsm)");
  auto* o_db = app.add_option("--database", database, "SQLite state file (default <state-dir>/signer.db)");
  auto* o_provider = app.add_option("--key-provider", provider, "software | pkcs11 | aws-kms | gcp-kms | azure-kv");
  auto* o_seed = app.add_option("--software-seed-file", seed_file, "32-byte seed of the software provider");
  auto* o_cert = app.add_option("--tls-cert", tls_cert, "PEM certificate: serve HTTPS");
  auto* o_key = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
  auto* o_ca = app.add_option("--tls-client-ca", tls_ca, "PEM CA bundle: require client certificates");
  auto* o_mod = app.add_option("--pkcs11-module", p11_module, "PKCS#11 library path");
  auto* o_slot = app.add_option("--pkcs11-slot", p11_slot, "PKCS#11 slot id");
  auto* o_pinf = app.add_option("--pkcs11-pin-file", p11_pin_file, "file holding the user PIN (secret mount)");
  auto* o_pin = app.add_option("--pkcs11-pin", p11_pin, "user PIN on the command line: local development only");
  auto* o_label = app.add_option("--pkcs11-label", p11_label, "CKA_LABEL prefix (<label>:<scope>:<key_id>)");
  auto* o_sessions = app.add_option("--pkcs11-sessions", p11_sessions,
                                    "sessions (slot-server workers) on the token; 1 for a single-session token");
  auto* o_timeout = app.add_option("--request-timeout-ms", timeout_ms, "deadline of each request");
  auto* o_log = app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  auto* o_port = app.add_option("--port-file", port_file, "write the bound TCP port here once listening");
  app.add_flag("--list-providers", list, "print the key providers this binary has and exit");
  auto cloud_text = config_detail::cloud_text_settings();
  auto cloud_numbers = config_detail::cloud_number_settings();
  std::vector<std::string> text_values(cloud_text.size());
  std::vector<int> number_values(cloud_numbers.size());
  std::vector<CLI::Option*> text_options, number_options;
  for (std::size_t i = 0; i < cloud_text.size(); ++i)
    text_options.push_back(
        app.add_option(std::string(cloud_text[i].flag), text_values[i], std::string(cloud_text[i].help)));
  for (std::size_t i = 0; i < cloud_numbers.size(); ++i)
    number_options.push_back(app.add_option(std::string(cloud_numbers[i].flag), number_values[i],
                                            std::string(cloud_numbers[i].help))
                                 ->check(CLI::Range(cloud_numbers[i].min, cloud_numbers[i].max)));
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
  Config& c = out.config;
  if (!config_file.empty()) {
    if (auto s = apply_toml_file(c, config_file); !s) {
      out.exit_now = true;
      out.exit_code = 2;
      out.output = "ferrohsm-signer: " + s.error().message + "\n";
      return out;
    }
  }
  auto set = [](CLI::Option* o, auto& dst, const auto& v) {
    if (o->count() > 0) dst = v;
  };
  set(o_listen, c.listen, listen);
  set(o_state, c.state_dir, state_dir);
  set(o_db, c.database, database);
  set(o_provider, c.key_provider, provider);
  set(o_seed, c.providers.software_seed_file, seed_file);
  set(o_cert, c.tls.cert_file, tls_cert);
  set(o_key, c.tls.key_file, tls_key);
  set(o_ca, c.tls.client_ca_file, tls_ca);
  set(o_mod, c.providers.pkcs11.module, p11_module);
  if (o_slot->count() > 0) c.providers.pkcs11.slot = p11_slot;
  set(o_pinf, c.providers.pkcs11.pin_file, p11_pin_file);
  if (o_pin->count() > 0) {
    c.providers.pkcs11.pin = Secret(p11_pin);
    out.pin_flag_used = true;
  }
  set(o_label, c.providers.pkcs11.label, p11_label);
  set(o_sessions, c.providers.pkcs11.sessions, p11_sessions);
  set(o_timeout, c.request_timeout_ms, timeout_ms);
  set(o_log, c.log_level, log_level);
  set(o_port, c.port_file, port_file);
  for (std::size_t i = 0; i < cloud_text.size(); ++i)
    if (text_options[i]->count() > 0) cloud_text[i].set(c, text_values[i]);
  for (std::size_t i = 0; i < cloud_numbers.size(); ++i)
    if (number_options[i]->count() > 0) cloud_numbers[i].set(c, number_values[i]);
  if (auto s = finalize_config(c); !s) {
    out.exit_now = true;
    out.exit_code = 2;
    out.output = "ferrohsm-signer: " + s.error().message + "\n";
  }
  return out;
}

}  // namespace ferrohsm::signer
