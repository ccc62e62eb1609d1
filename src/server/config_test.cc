#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ferrohsm::server {
namespace {

TEST(ServerConfig, DefaultsAreSafe) {
  auto c = parse_server_config("[server]\nlisten = [\"unix:/run/x.sock\"]\n", "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->listen.size(), 1u);
  EXPECT_TRUE(c->listen[0].is_unix());
  EXPECT_EQ(c->socket_mode, 0660u);
  EXPECT_EQ(c->limits.max_message, 16u << 20);
  EXPECT_EQ(c->limits.max_connections, 1024u);
  EXPECT_EQ(c->limits.max_connections_per_peer, 256u);
  EXPECT_EQ(c->limits.handshake_timeout_ms, 5000u);
  EXPECT_EQ(c->limits.idle_timeout_ms, 0u);
  EXPECT_TRUE(c->access.empty());  // nobody is admitted until a rule says so
  EXPECT_EQ(c->core.log_level, "info");  // a server says where it listens
}

TEST(ServerConfig, ReadsEverySection) {
  const char* text = R"(
[server]
listen = ["unix:run/s.sock", "tcp:127.0.0.1:5696"]
tls_cert = "server.pem"
tls_key = "/abs/server.key"
client_ca = "ca.pem"
socket_mode = "0600"
io_threads = 2
workers = 3
blocking_workers = 5
busy_poll_us = 0
[limits]
max_message = 65536
max_sessions_per_connection = 10
max_connections = 20
max_connections_per_peer = 2
max_calls_in_flight = 4
handshake_timeout_ms = 1000
idle_timeout_ms = 60000
shutdown_timeout_ms = 500
[[access]]
peer = "uid:0"
tokens = ["web-*", "db"]
admin = true
[[access]]
peer = "cert:URI:spiffe://example.org/app"
[store]
path = "/var/lib/ferrohsm/x.db"
[log]
level = "warn"
)";
  auto c = parse_server_config(text, "t", "/etc/fh");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen[0].path, "/etc/fh/run/s.sock");
  EXPECT_EQ(c->listen[1].port, 5696);
  EXPECT_EQ(c->tls_cert, "/etc/fh/server.pem");
  EXPECT_EQ(c->tls_key, "/abs/server.key");
  EXPECT_EQ(c->client_ca, "/etc/fh/ca.pem");
  EXPECT_EQ(c->socket_mode, 0600u);
  EXPECT_EQ(c->io_threads, 2u);
  EXPECT_EQ(c->workers, 3u);
  EXPECT_EQ(c->blocking_workers, 5u);
  EXPECT_EQ(c->busy_poll_us, 0u);  // the default is 50
  EXPECT_EQ(c->limits.max_message, 65536u);
  EXPECT_EQ(c->limits.max_sessions_per_connection, 10u);
  EXPECT_EQ(c->limits.max_connections, 20u);
  EXPECT_EQ(c->limits.max_connections_per_peer, 2u);
  EXPECT_EQ(c->limits.max_calls_in_flight, 4u);
  EXPECT_EQ(c->limits.handshake_timeout_ms, 1000u);
  EXPECT_EQ(c->limits.idle_timeout_ms, 60000u);
  EXPECT_EQ(c->limits.shutdown_timeout_ms, 500u);
  ASSERT_EQ(c->access.size(), 2u);
  EXPECT_EQ(c->access[0].kind, AccessRule::Kind::kUid);
  EXPECT_EQ(c->access[0].tokens, (std::vector<std::string>{"web-*", "db"}));
  EXPECT_TRUE(c->access[0].admin);
  EXPECT_EQ(c->access[1].kind, AccessRule::Kind::kCertSan);
  EXPECT_EQ(c->access[1].tokens, (std::vector<std::string>{"*"}));
  EXPECT_FALSE(c->access[1].admin);
  // The core's sections went to the core's parser.
  EXPECT_EQ(c->core.store_path, "/var/lib/ferrohsm/x.db");
  EXPECT_EQ(c->core.log_level, "warn");
  EXPECT_EQ(c->core_toml.find("[server]"), std::string::npos);
}

TEST(ServerConfig, TheAuditSectionIsTheCoresToo) {
  auto c = parse_server_config("[server]\nlisten = [\"unix:/run/x.sock\"]\n[audit]\nfile = \"/var/log/a.jsonl\"\n"
                               "required = true\n",
                               "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->core.audit.file, "/var/log/a.jsonl");
  EXPECT_TRUE(c->core.audit.required);
}

TEST(ServerConfig, SocketModeAsTomlOctal) {
  auto c = parse_server_config("[server]\nlisten = [\"unix:/x\"]\nsocket_mode = 0o640\n", "t");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->socket_mode, 0640u);
}

TEST(ServerConfig, RefusesMistakesWithTheirName) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "[server] is required"},
      {"[server]\nlisten = []\n", "at least one endpoint"},
      {"[server]\nlisten = [\"udp:x:1\"]\n", "must start with unix: or tcp:"},
      {"[server]\nlisten = [\"tcp:127.0.0.1:5696\"]\n", "needs server.tls_cert"},
      {"[server]\nlisten = [\"unix:/x\"]\nbogus = 1\n", "unknown key server.bogus"},
      {"[server]\nlisten = [\"unix:/x\"]\n[limits]\nmax_mesage = 1\n", "unknown key limits.max_mesage"},
      {"[server]\nlisten = [\"unix:/x\"]\n[limits]\nmax_message = 10\n", "limits.max_message must be"},
      {"[server]\nlisten = [\"unix:/x\"]\nsocket_mode = \"0999\"\n", "socket_mode"},
      {"[server]\nlisten = [\"unix:/x\"]\n[[access]]\ntokens = [\"*\"]\n", "access[0].peer is required"},
      {"[server]\nlisten = [\"unix:/x\"]\n[[access]]\npeer = \"user:1\"\n", "must start with uid:, gid: or cert:"},
      {"[server]\nlisten = [\"unix:/x\"]\n[[access]]\npeer = \"uid:0\"\nadmin = \"yes\"\n", "admin must be true or false"},
      {"[server]\nlisten = [\"unix:/x\"]\n[[access]]\npeer = \"uid:0\"\nwho = 1\n", "unknown key access[0].who"},
      {"[server]\nlisten = [\"unix:/x\"]\n[access]\npeer = \"uid:0\"\n", "[[access]]"},
      // The core's sections are the core's to refuse.
      {"[server]\nlisten = [\"unix:/x\"]\n[store]\npaht = \"x\"\n", "unknown key store.paht"},
      {"[server]\nlisten = [\"unix:/x\"]\n[whatever]\n", "unknown section [whatever]"},
      {"[server\n", "line 1"},
  };
  for (const Case& c : cases) {
    auto r = parse_server_config(c.text, "t");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
  }
}

TEST(ServerConfig, TheSampleConfigurationParses) {
  auto c = load_server_config(std::string(FERROHSM_SOURCE_DIR) + "/packaging/server.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->listen.size(), 1u);
  EXPECT_EQ(c->listen[0].text, "unix:/run/ferrohsm/ferrohsm.sock");
  ASSERT_EQ(c->access.size(), 1u);
  EXPECT_TRUE(c->access[0].admin);
  EXPECT_EQ(c->core.store_path, "/var/lib/ferrohsm/ferrohsm.db");
}

}  // namespace
}  // namespace ferrohsm::server
