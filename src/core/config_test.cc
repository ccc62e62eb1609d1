#include "core/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace ferrohsm {
namespace {

TEST(ConfigTest, EmptyFileGivesDefaults) {
  auto c = parse_config("", "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->max_failed_logins, 10u);
  EXPECT_EQ(c->kdf_iterations, kMinKdfIterations);
  EXPECT_NE(c->store_path.find("ferrohsm/ferrohsm.db"), std::string::npos);
}

TEST(ConfigTest, ReadsEverySection) {
  auto c = parse_config(R"(
[store]
path = "/tmp/x.db"
[log]
level = "debug"
destination = "/tmp/x.log"
[pin]
min_length = 6
max_length = 64
max_failed_logins = 3
kdf_iterations = 1000
[dev]
allow_weak_kdf = true
[token."pay"]
deny_mechanisms = [0x1, 0x1057]
)", "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->store_path, "/tmp/x.db");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->log_destination, "/tmp/x.log");
  EXPECT_EQ(c->pin_min_length, 6u);
  EXPECT_EQ(c->max_failed_logins, 3u);
  EXPECT_EQ(c->kdf_iterations, 1000u);
  ASSERT_EQ(c->token_policy.count("pay"), 1u);
  EXPECT_EQ(c->token_policy["pay"].deny.count(0x1057), 1u);
}

TEST(ConfigTest, WeakKdfNeedsTheDevFlag) {
  auto c = parse_config("[pin]\nkdf_iterations = 1000\n", "t");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("allow_weak_kdf"), std::string::npos);
}

TEST(ConfigTest, KdfIterationsHaveTheCeilingStoredParametersHave) {
  EXPECT_TRUE(parse_config("[pin]\nkdf_iterations = 10000000\n", "t").ok());
  auto c = parse_config("[pin]\nkdf_iterations = 10000001\n", "t");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("10000000"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, StoreLockAndReadOnlySettings) {
  auto d = parse_config("", "t");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->store_busy_timeout_ms, 5000u);
  EXPECT_FALSE(d->store_read_only);
  auto c = parse_config("[store]\nbusy_timeout_ms = 250\nread_only = true\n", "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->store_busy_timeout_ms, 250u);
  EXPECT_TRUE(c->store_read_only);
  for (const char* bad : {"[store]\nbusy_timeout_ms = 600001\n", "[store]\nbusy_timeout_ms = -1\n",
                          "[store]\nread_only = 1\n"}) {
    auto b = parse_config(bad, "t");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().message.find("store."), std::string::npos) << b.error().message;
  }
}

TEST(ConfigTest, APostgresStoreTakesItsUrlPasswordFileAndPoolSize) {
  auto c = parse_config(R"([store]
backend = "postgres"
url = "postgresql://ferrohsm@db.internal:5432/ferrohsm?sslmode=verify-full"
password_file = "/etc/ferrohsm/pg.password"
pool_size = 16
)", "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const store::StoreSettings s = store_settings(*c);
  EXPECT_EQ(s.backend, "postgres");
  EXPECT_EQ(s.url, "postgresql://ferrohsm@db.internal:5432/ferrohsm?sslmode=verify-full");
  EXPECT_EQ(s.password_file, "/etc/ferrohsm/pg.password");
  EXPECT_EQ(s.pool_size, 16u);
  EXPECT_EQ(store_where(*c), "on PostgreSQL (store.url)") << "a URL is never quoted: it could hold a password";
  auto d = parse_config("", "t");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(store_settings(*d).backend, "sqlite");
  EXPECT_EQ(store_where(*d), d->store_path);
}

TEST(ConfigTest, BadInputIsNamed) {
  struct Case {
    const char* text;
    const char* mentions;
  } cases[] = {
      {"[store\npath=1", "line"},
      {"[nope]\n", "unknown section [nope]"},
      {"[store]\npth = \"x\"\n", "unknown key store.pth"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"[pin]\nmax_failed_logins = 0\n", "pin.max_failed_logins"},
      {"[pin]\nmin_length = 9\nmax_length = 8\n", "min_length"},
      {"[store]\nbackend = \"oracle\"\n", "not supported (sqlite, postgres)"},
      {"[store]\nbackend = \"postgres\"\n", "needs store.url"},
      {"[store]\nbackend = \"postgres\"\nurl = \"\"\n", "needs store.url"},
      {"[store]\nurl = \"postgresql://db/fh\"\n", "are for backend = \"postgres\""},
      {"[store]\nbackend = \"postgres\"\nurl = \"postgresql://db/fh\"\npassword_file = \"\"\n",
       "store.password_file is empty"},
      {"[store]\nbackend = \"postgres\"\nurl = \"postgresql://db/fh\"\nread_only = true\n", "store.read_only"},
      {"[store]\nbackend = \"postgres\"\nurl = \"postgresql://db/fh\"\npool_size = 0\n", "store.pool_size"},
  };
  for (const Case& k : cases) {
    auto c = parse_config(k.text, "bad.toml");
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_EQ(c.rv(), CKR_GENERAL_ERROR);
    EXPECT_NE(c.error().message.find(k.mentions), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("bad.toml"), std::string::npos);
  }
}

// An error is one log line whatever the file holds: text quoted from it (what a parse
// error saw, a token label or key it names) cannot break the line. Found by
// fuzz/config_fuzzer.cc: "expected 'true', saw 't\n'" spread over two lines.
TEST(ConfigTest, ErrorsStayOnOneLine) {
  for (const char* text : {"[token.\"a\"]\nallow_mechanisms = [1,t\n\n[pin]\n", "[token.\"a\\nb\"]\nsome = 1\n",
                           "[\"x\\ry\"]\n", "[store]\n\"k\\u0007\\n\" = 1\n"}) {
    auto c = parse_config(text, "bad.toml");
    ASSERT_FALSE(c.ok()) << text;
    const std::string& m = c.error().message;
    const bool one_line =
        std::none_of(m.begin(), m.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
    EXPECT_TRUE(one_line) << m;
    EXPECT_NE(m.find("bad.toml"), std::string::npos) << m;
  }
}

// Integer settings take TOML integers only: a float is a mistake worth naming, never
// rounded or converted (1e300 has no int64 value at all; converting it is undefined
// behaviour, which UBSan reports) (issue 11, finding 9).
TEST(ConfigTest, IntegerSettingsRefuseFloats) {
  const char* keys[] = {"min_length", "max_length", "max_failed_logins", "kdf_iterations"};
  const char* values[] = {"1e300", "1.00", "10.0", "-1e300", "1e18", "nan", "inf", "-inf", "0.5"};
  for (const char* key : keys) {
    for (const char* value : values) {
      std::string text = std::string("[pin]\n") + key + " = " + value + "\n[dev]\nallow_weak_kdf = true\n";
      auto c = parse_config(text, "float.toml");
      ASSERT_FALSE(c.ok()) << key << " = " << value << " was accepted";
      EXPECT_EQ(c.rv(), CKR_GENERAL_ERROR);
      EXPECT_NE(c.error().message.find(std::string("pin.") + key), std::string::npos) << c.error().message;
      EXPECT_NE(c.error().message.find("integer"), std::string::npos) << c.error().message;
    }
  }
}

TEST(ConfigTest, IntegerSettingsStayInTheirRanges) {
  struct Case {
    const char* text;
    bool ok;
  } cases[] = {
      {"[pin]\nmin_length = 1\n", true},          {"[pin]\nmin_length = 0\n", false},
      {"[pin]\nmin_length = 255\nmax_length = 255\n", true}, {"[pin]\nmin_length = 256\n", false},
      {"[pin]\nmax_length = 1024\n", true},       {"[pin]\nmax_length = 1025\n", false},
      {"[pin]\nmax_failed_logins = 1000\n", true}, {"[pin]\nmax_failed_logins = 1001\n", false},
      {"[pin]\nmax_failed_logins = -1\n", false},
      {"[pin]\nkdf_iterations = 10000000\n", true},
      {"[pin]\nkdf_iterations = 10000001\n", false},
      {"[pin]\nkdf_iterations = 9223372036854775807\n", false},
      {"[pin]\nkdf_iterations = -9223372036854775808\n", false},
      {"[pin]\nkdf_iterations = 4294967296\n", false},  // would wrap to 0 as a uint32
      {"[pin]\nkdf_iterations = \"600000\"\n", false},
      {"[pin]\nkdf_iterations = true\n", false},
      {"[sidecar]\nbusy_poll_us = 0\n", true},     {"[sidecar]\nbusy_poll_us = 10000\n", true},
      {"[sidecar]\nbusy_poll_us = 10001\n", false}, {"[sidecar]\nbusy_poll_us = -1\n", false},
  };
  for (const Case& k : cases) {
    auto c = parse_config(k.text, "range.toml");
    EXPECT_EQ(c.ok(), k.ok) << k.text << (c.ok() ? "" : c.error().message);
  }
}

TEST(ConfigTest, MechanismListsTakeNamesOrNumbersAndRefuseFloats) {
  for (const char* list : {"[1.0]", "[1e300]", "[0x1, 4.5]", "[-1]", "[\"CKM_NO_SUCH\"]", "[nan]", "[true]", "0x1"}) {
    auto c = parse_config(std::string("[token.\"t\"]\ndeny_mechanisms = ") + list + "\n", "mech.toml");
    ASSERT_FALSE(c.ok()) << list << " was accepted";
    EXPECT_NE(c.error().message.find("token.t.deny_mechanisms"), std::string::npos) << c.error().message;
  }
  auto ok = parse_config("[token.\"t\"]\nallow_mechanisms = [0x1, 4224, 0x80000000, \"CKM_ECDSA\"]\n", "mech.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->token_policy["t"].allow, (std::set<unsigned long>{CKM_RSA_PKCS, CKM_AES_KEY_GEN, 0x80000000UL, CKM_ECDSA}));
}

TEST(ConfigTest, MissingExplicitFileIsAnError) {
  auto c = load_config("/nonexistent/ferrohsm.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("cannot be read"), std::string::npos);
}

TEST(ConfigTest, DefaultStoreFollowsXdgDataHome) {
  setenv("XDG_DATA_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(default_store_path(), "/tmp/xdg-test/ferrohsm/ferrohsm.db");
  unsetenv("XDG_DATA_HOME");
}

}  // namespace
}  // namespace ferrohsm

namespace ferrohsm {
namespace {

TEST(ConfigTest, ReadsTheAuditSection) {
  auto c = parse_config(
      "[audit]\nfile = \"/var/log/a.jsonl\"\ntoken = \"ops\"\npin = \"env:AUDIT_PIN\"\nrequired = true\n"
      "rotate_bytes = 1048576\ncheckpoint_records = 50\nsyslog = true\n",
      "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->audit.file, "/var/log/a.jsonl");
  EXPECT_EQ(c->audit.token, "ops");
  EXPECT_EQ(c->audit.pin, "env:AUDIT_PIN");
  EXPECT_TRUE(c->audit.required);
  EXPECT_TRUE(c->audit.syslog);
  EXPECT_EQ(c->audit.rotate_bytes, 1048576u);
  EXPECT_EQ(c->audit.checkpoint_records, 50u);
  EXPECT_EQ(c->audit.checkpoint_seconds, 60u);
  // Off by default; a PIN written into the file, or an [audit] with no file, is refused.
  EXPECT_TRUE(parse_config("", "t")->audit.file.empty());
  EXPECT_FALSE(parse_config("[audit]\nfile = \"/a\"\ntoken = \"ops\"\npin = \"1234\"\n", "t").ok());
  EXPECT_FALSE(parse_config("[audit]\nrequired = true\n", "t").ok());
  EXPECT_FALSE(parse_config("[audit]\nfile = \"/a\"\nrequired = 1\n", "t").ok());
  EXPECT_FALSE(parse_config("[audit]\nfile = \"/a\"\nsecret = 1\n", "t").ok());
}

}  // namespace
}  // namespace ferrohsm
