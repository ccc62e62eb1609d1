#include "ferrohsm/signer/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "base/pg_conninfo.h"
#include "ferrohsm/signer/pg_rotation_store.h"
#include "ferrohsm/signer/config_cloud.h"

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

Setter number(int StateSettings::*field, std::int64_t min, std::int64_t max) {
  return [field, min, max](Config& c, const toml::node& n) -> Status {
    if (!n.is_integer() || *n.value<std::int64_t>() < min || *n.value<std::int64_t>() > max)
      return Error::invalid("must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    c.state.*field = static_cast<int>(*n.value<std::int64_t>());
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
      {"state.backend", text_at([](Config& c) -> std::string& { return c.state.backend; })},
      {"state.url", text_at([](Config& c) -> std::string& { return c.state.url; })},
      {"state.password_file", text_at([](Config& c) -> std::string& { return c.state.password_file; })},
      {"state.pool_size", number(&StateSettings::pool_size, 1, 64)},
      {"state.refresh_ms", number(&StateSettings::refresh_ms, 10, 60000)},
      {"state.max_staleness_ms", number(&StateSettings::max_staleness_ms, 20, 600000)},
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
    for (const auto& t : cloud_text_settings())
      keys.emplace(std::string(t.key), [set = t.set](Config& c, const toml::node& n) -> Status {
        if (!n.is_string()) return Error::invalid("must be a string");
        set(c, *n.value<std::string>());
        return {};
      });
    for (const auto& t : cloud_number_settings())
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
      if (key == "state.password")
        return Error::invalid("config key 'state.password' is not accepted: use state.password_file");
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
  auto& state = config.state;
  if (state.backend == "postgres") {
    if (state.url.empty()) return Error::invalid("state.backend = \"postgres\" needs state.url (--state-url)");
    // Parsed now, so a bad URL (or one holding a password) stops the start, naming it.
    if (auto t = ::ferrohsm::parse_pg_target(state.url, state.password_file); !t)
      return Error::invalid(state_key_message(t.error().message));
    if (state.max_staleness_ms <= state.refresh_ms)
      return Error::invalid("state.max_staleness_ms must be larger than state.refresh_ms");
  } else if (state.backend == "sqlite") {
    if (!state.url.empty() || !state.password_file.empty())
      return Error::invalid("state.url and state.password_file need state.backend = \"postgres\"");
  } else {
    return Error::invalid("state.backend must be \"sqlite\" or \"postgres\", not '" + state.backend + "'");
  }
  auto& p = config.providers.pkcs11;
  if (p.label.empty() || p.label.find(':') != std::string::npos)
    return Error::invalid("--pkcs11-label must be non-empty and contain no ':'");
  if (p.sessions < 1 || p.sessions > 64) return Error::invalid("--pkcs11-sessions must be between 1 and 64");
  return {};
}

Result<Config> build_config(ConfigFlags f) {
  Config c;
  if (!f.config_file.empty()) FH_TRY(apply_toml_file(c, f.config_file));
  auto take = [](auto& dst, auto& flag) {
    if (flag) dst = std::move(*flag);
  };
  take(c.listen, f.listen);
  take(c.state_dir, f.state_dir);
  take(c.database, f.database);
  take(c.key_provider, f.key_provider);
  take(c.state.backend, f.state_backend);
  take(c.state.url, f.state_url);
  take(c.state.password_file, f.state_password_file);
  take(c.providers.software_seed_file, f.software_seed_file);
  take(c.tls.cert_file, f.tls_cert);
  take(c.tls.key_file, f.tls_key);
  take(c.tls.client_ca_file, f.tls_client_ca);
  take(c.providers.pkcs11.module, f.pkcs11_module);
  take(c.providers.pkcs11.slot, f.pkcs11_slot);
  take(c.providers.pkcs11.pin_file, f.pkcs11_pin_file);
  take(c.providers.pkcs11.pin, f.pkcs11_pin);
  take(c.providers.pkcs11.label, f.pkcs11_label);
  take(c.providers.pkcs11.sessions, f.pkcs11_sessions);
  take(c.request_timeout_ms, f.request_timeout_ms);
  take(c.log_level, f.log_level);
  take(c.port_file, f.port_file);
  for (const auto& [key, value] : f.cloud_text) {
    const auto rows = cloud_text_settings();
    auto row = std::find_if(rows.begin(), rows.end(), [&](const CloudText& r) { return r.key == key; });
    if (row == rows.end()) return Error::invalid("unknown cloud setting '" + key + "'");
    row->set(c, value);
  }
  for (const auto& [key, value] : f.cloud_numbers) {
    const auto rows = cloud_number_settings();
    auto row = std::find_if(rows.begin(), rows.end(), [&](const CloudNumber& r) { return r.key == key; });
    if (row == rows.end()) return Error::invalid("unknown cloud setting '" + key + "'");
    if (value < row->min || value > row->max)
      return Error::invalid(std::string(row->flag) + " must be between " + std::to_string(row->min) + " and " +
                            std::to_string(row->max));
    row->set(c, value);
  }
  FH_TRY(finalize_config(c));
  return c;
}

}  // namespace ferrohsm::signer
