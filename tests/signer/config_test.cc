// Configuration: defaults, TOML, flags over TOML, and the checks — through the daemon's
// command line (tools/ferrohsm-signer) and through the library's build_config.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/bytes.h"
#include "command_line.h"
#include "ferrohsm/signer/config.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {
namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ferrohsm-signer");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

void write_text(const std::string& path, const std::string& text) {
  write_file(path, as_bytes(text));
}

TEST(Config, DefaultsUseTheXdgDataDir) {
  TempDir dir;
  setenv("XDG_DATA_HOME", dir.path().c_str(), 1);
  auto cl = parse({});
  unsetenv("XDG_DATA_HOME");
  ASSERT_FALSE(cl.exit_now) << cl.output;
  EXPECT_EQ(cl.config.listen, "127.0.0.1:8443");
  EXPECT_EQ(cl.config.key_provider, "software");
  EXPECT_EQ(cl.config.database, dir.path() + "/ferrohsm/signer.db");
  EXPECT_EQ(cl.config.providers.software_seed_file, dir.path() + "/ferrohsm/software-seed");
}

TEST(Config, TomlThenFlags) {
  TempDir dir;
  write_text(dir.file("signer.toml"), R"(
listen = "127.0.0.1:9001"
state_dir = "/var/lib/signer"
key_provider = "pkcs11"
request_timeout_ms = 1500
[pkcs11]
module = "/usr/lib/softhsm/libsofthsm2.so"
slot = 3
pin_file = "/run/secrets/pin"
label = "acme"
)");
  auto cl = parse({"--config", dir.file("signer.toml"), "--listen", "127.0.0.1:9002", "--pkcs11-label", "other"});
  ASSERT_FALSE(cl.exit_now) << cl.output;
  EXPECT_EQ(cl.config.listen, "127.0.0.1:9002");
  EXPECT_EQ(cl.config.key_provider, "pkcs11");
  EXPECT_EQ(cl.config.request_timeout_ms, 1500);
  EXPECT_EQ(cl.config.database, "/var/lib/signer/signer.db");
  EXPECT_EQ(cl.config.providers.pkcs11.module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(cl.config.providers.pkcs11.slot, 3ul);
  EXPECT_EQ(cl.config.providers.pkcs11.pin_file, "/run/secrets/pin");
  EXPECT_EQ(cl.config.providers.pkcs11.label, "other");
  EXPECT_FALSE(cl.pin_flag_used);
}

TEST(Config, BadInputIsNamed) {
  TempDir dir;
  struct Case {
    std::string toml, expect;
  } cases[] = {{"lisen = \"x\"\n", "unknown config key 'lisen'"},
               {"[pkcs11]\npin = \"1234\"\n", "use pkcs11.pin_file"},
               {"request_timeout_ms = \"fast\"\n", "request_timeout_ms' must be an integer"},
               {"listen = \n", "cannot read config file"}};
  for (const auto& c : cases) {
    write_text(dir.file("bad.toml"), c.toml);
    auto cl = parse({"--config", dir.file("bad.toml")});
    EXPECT_TRUE(cl.exit_now);
    EXPECT_EQ(cl.exit_code, 2);
    EXPECT_NE(cl.output.find(c.expect), std::string::npos) << cl.output;
    EXPECT_EQ(cl.output.find("1234"), std::string::npos);  // never echo a PIN
  }
}

TEST(Config, BuildConfigTakesValuesOverTheFile) {
  TempDir dir;
  write_text(dir.file("signer.toml"), "listen = \"127.0.0.1:9001\"\nstate_dir = \"/srv/signer\"\n"
                                      "[aws_kms]\nregion = \"eu-west-1\"\n[cloud]\nmax_attempts = 2\n");
  ConfigFlags flags;
  flags.config_file = dir.file("signer.toml");
  flags.listen = "unix:/run/signer.sock";
  flags.pkcs11_slot = 7;
  flags.pkcs11_pin = Secret("4321");
  flags.cloud_text["aws_kms.region"] = "us-east-2";
  flags.cloud_numbers["cloud.max_attempts"] = 5;
  auto config = build_config(std::move(flags));
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->listen, "unix:/run/signer.sock");
  EXPECT_EQ(config->database, "/srv/signer/signer.db");  // from the file's state_dir
  EXPECT_EQ(config->providers.pkcs11.slot, 7ul);
  ASSERT_TRUE(config->providers.pkcs11.pin.has_value());
  EXPECT_EQ(config->providers.pkcs11.pin->view(), "4321");
  EXPECT_EQ(config->providers.aws_kms.region, "us-east-2");
  EXPECT_EQ(config->providers.gcp_kms.http.max_attempts, 5);

  ConfigFlags unknown;
  unknown.cloud_text["aws_kms.no_such_key"] = "x";
  auto refused = build_config(std::move(unknown));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("aws_kms.no_such_key"), std::string::npos);
  ConfigFlags out_of_range;
  out_of_range.cloud_numbers["aws_kms.deletion_window_days"] = 3;
  auto range = build_config(std::move(out_of_range));
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().message.find("between 7 and 30"), std::string::npos) << range.error().message;
}

TEST(Config, PlainHttpOnlyOnLoopbackOrUnixSocket) {
  auto open = parse({"--listen", "0.0.0.0:8443"});
  EXPECT_TRUE(open.exit_now);
  EXPECT_NE(open.output.find("plain HTTP listens only on loopback"), std::string::npos);
  EXPECT_FALSE(parse({"--listen", "127.0.0.1:0"}).exit_now);
  EXPECT_FALSE(parse({"--listen", "[::1]:8443"}).exit_now);
  EXPECT_FALSE(parse({"--listen", "unix:/tmp/x.sock"}).exit_now);
  EXPECT_FALSE(parse({"--listen", "0.0.0.0:8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}).exit_now);
  auto half = parse({"--tls-cert", "c.pem"});
  EXPECT_TRUE(half.exit_now);
  EXPECT_NE(half.output.find("--tls-key"), std::string::npos);
}

TEST(Config, PinFlagIsFlaggedAndListProvidersExits) {
  auto cl = parse({"--pkcs11-pin", "1234"});
  EXPECT_TRUE(cl.pin_flag_used);
  auto list = parse({"--list-providers"});
  EXPECT_TRUE(list.exit_now);
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.output.find("aws-kms"), std::string::npos);
  auto bad = parse({"--no-such-flag"});
  EXPECT_TRUE(bad.exit_now);
  EXPECT_NE(bad.exit_code, 0);
}

TEST(Config, CloudProviderSettingsFromTomlAndFlags) {
  TempDir dir;
  write_text(dir.file("signer.toml"), R"(key_provider = "aws-kms"
[aws_kms]
region = "eu-west-1"
endpoint = "https://kms.eu-west-1.amazonaws.com"
deletion_window_days = 7
[gcp_kms]
key_ring = "projects/p/locations/l/keyRings/r"
protection_level = "SOFTWARE"
[azure_kv]
vault_url = "https://v.vault.azure.net"
client_secret_file = "/run/secrets/azure"
[cloud]
max_attempts = 2
)");
  auto cl = parse({"--config", dir.file("signer.toml"), "--aws-region", "us-east-2", "--cloud-attempt-timeout-ms", "1500",
                   "--gcp-metadata-host", "127.0.0.1:8080"});
  ASSERT_FALSE(cl.exit_now) << cl.output;
  const auto& p = cl.config.providers;
  EXPECT_EQ(cl.config.key_provider, "aws-kms");
  EXPECT_EQ(p.aws_kms.region, "us-east-2");  // the flag wins over the file
  EXPECT_EQ(p.aws_kms.endpoint, "https://kms.eu-west-1.amazonaws.com");
  EXPECT_EQ(p.aws_kms.deletion_window_days, 7);
  EXPECT_EQ(p.gcp_kms.key_ring, "projects/p/locations/l/keyRings/r");
  EXPECT_EQ(p.gcp_kms.protection_level, "SOFTWARE");
  EXPECT_EQ(p.gcp_kms.metadata_host, "127.0.0.1:8080");
  EXPECT_EQ(p.azure_kv.client_secret_file, "/run/secrets/azure");
  for (const auto* http : {&p.aws_kms.http, &p.gcp_kms.http, &p.azure_kv.http}) {
    EXPECT_EQ(http->max_attempts, 2);
    EXPECT_EQ(http->attempt_timeout_ms, 1500);
  }
  write_text(dir.file("secret.toml"), "[azure_kv]\nclient_secret = \"x\"\n");
  auto secret = parse({"--config", dir.file("secret.toml")});
  EXPECT_TRUE(secret.exit_now);
  EXPECT_NE(secret.output.find("use azure_kv.client_secret_file"), std::string::npos) << secret.output;
  write_text(dir.file("window.toml"), "[aws_kms]\ndeletion_window_days = 3\n");
  auto window = parse({"--config", dir.file("window.toml")});
  EXPECT_TRUE(window.exit_now);
  EXPECT_NE(window.output.find("between 7 and 30"), std::string::npos) << window.output;
  EXPECT_TRUE(parse({"--cloud-max-attempts", "0"}).exit_now);
  EXPECT_TRUE(parse({"--azure-client-secret", "x"}).exit_now);  // no flag puts a cloud secret on the command line
}

}  // namespace
}  // namespace ferrohsm::signer::testing

namespace ferrohsm::signer::testing {
namespace {

TEST(Config, StateOnPostgresFromTomlAndFlags) {
  TempDir dir;
  write_text(dir.file("signer.toml"), R"(
[state]
backend = "postgres"
url = "postgresql://signer@db.internal:5432/ferrohsm?sslmode=verify-full"
password_file = "/run/secrets/pg-password"
refresh_ms = 250
max_staleness_ms = 1000
)");
  auto cl = parse({"--config", dir.file("signer.toml")});
  ASSERT_FALSE(cl.exit_now) << cl.output;
  EXPECT_EQ(cl.config.state.backend, "postgres");
  EXPECT_EQ(cl.config.state.url, "postgresql://signer@db.internal:5432/ferrohsm?sslmode=verify-full");
  EXPECT_EQ(cl.config.state.password_file, "/run/secrets/pg-password");
  EXPECT_EQ(cl.config.state.refresh_ms, 250);
  EXPECT_EQ(cl.config.state.max_staleness_ms, 1000);
  EXPECT_EQ(cl.config.state.pool_size, 4);
  auto flags = parse({"--state-backend", "postgres", "--state-url", "host=/run/pg dbname=signer"});
  ASSERT_FALSE(flags.exit_now) << flags.output;
  EXPECT_EQ(flags.config.state.url, "host=/run/pg dbname=signer");
  EXPECT_EQ(parse({}).config.state.backend, "sqlite");
}

TEST(Config, StateMistakesAreNamedAndNoPasswordIsTaken) {
  TempDir dir;
  struct Case {
    std::string toml, needle;
  } cases[] = {
      {"[state]\nbackend = \"postgres\"\n", "needs state.url"},
      {"[state]\nbackend = \"mysql\"\n", "state.backend must be"},
      {"[state]\nurl = \"postgresql://h/db\"\n", "need state.backend = \"postgres\""},
      {"[state]\nbackend = \"postgres\"\nurl = \"postgresql://u:hunter2@h/db\"\n", "holds a password"},
      {"[state]\nbackend = \"postgres\"\nurl = \"host=h password=hunter2\"\n", "holds a password"},
      {"[state]\npassword = \"hunter2\"\n", "use state.password_file"},
      {"[state]\nbackend = \"postgres\"\nurl = \"postgresql://h/db\"\nrefresh_ms = 900\nmax_staleness_ms = 800\n",
       "larger than state.refresh_ms"},
      {"[state]\nrefresh_ms = 0\n", "state.refresh_ms"},
  };
  for (const auto& c : cases) {
    write_text(dir.file("bad.toml"), c.toml);
    auto cl = parse({"--config", dir.file("bad.toml")});
    EXPECT_TRUE(cl.exit_now) << c.toml;
    EXPECT_EQ(cl.exit_code, 2) << c.toml;
    EXPECT_NE(cl.output.find(c.needle), std::string::npos) << c.toml << " → " << cl.output;
    EXPECT_EQ(cl.output.find("hunter2"), std::string::npos) << "the password was echoed: " << cl.output;
  }
}

}  // namespace
}  // namespace ferrohsm::signer::testing
