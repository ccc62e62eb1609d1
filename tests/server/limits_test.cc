// Limits and timeouts: handshake and idle timeouts, connections per peer and in total,
// calls in flight per connection; and Server::reload (what SIGHUP runs) changing who
// may connect.
#include "server/dev_pki.h"
#include "server_fixture.h"
#include "wire/protocol.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

namespace ferrohsm::server::testing {
namespace {

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    dir_ = make_temp_dir();
  }
  void TearDown() override { remove_tree(dir_); }
  std::string dir_;
};

TEST_F(LimitsTest, HandshakeTimeoutClosesSilentPeers) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}, .limits = "handshake_timeout_ms = 300"});
  ASSERT_TRUE(s.started());
  int u = raw_unix(s.socket_path());
  int t = raw_tcp(s.tcp_endpoint());
  ASSERT_GE(u, 0);
  ASSERT_GE(t, 0);
  auto start = std::chrono::steady_clock::now();
  bool closed_u = false, closed_t = false;
  read_until_closed(u, closed_u, std::chrono::seconds(5));
  read_until_closed(t, closed_t, std::chrono::seconds(5));
  EXPECT_TRUE(closed_u);
  EXPECT_TRUE(closed_t);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ::close(u);
  ::close(t);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"did not finish its handshake within 300 ms"}).empty());
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(echo_ok(**c));
}

TEST_F(LimitsTest, IdleTimeoutClosesIdleConnectionsButNotBusyOnes) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}, .limits = "idle_timeout_ms = 400"});
  ASSERT_TRUE(s.started());
  auto idle = connect(s.unix_endpoint());
  auto busy = connect(s.unix_endpoint());
  ASSERT_TRUE(idle.ok() && busy.ok());
  // A call longer than the idle timeout is not idleness.
  wire::Call c;
  c.set_function(kSlowSleep);
  c.add_args()->set_u(1000);
  auto r = (*busy)->call(c);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(eventually([&] { return s.counters().closed.load() >= 1; }, std::chrono::seconds(5)));
  EXPECT_FALSE(echo_ok(**idle));
  EXPECT_TRUE((*idle)->lost());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"idle for 400 ms"}).empty());
}

TEST_F(LimitsTest, ConnectionsPerPeer) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}, .limits = "max_connections_per_peer = 3"});
  ASSERT_TRUE(s.started());
  std::vector<std::unique_ptr<sidecar::Connection>> conns;
  for (int i = 0; i < 3; ++i) {
    auto c = connect(s.unix_endpoint());
    ASSERT_TRUE(c.ok()) << c.error().message;
    conns.push_back(std::move(*c));
  }
  auto fourth = connect(s.unix_endpoint());
  ASSERT_FALSE(fourth.ok());
  EXPECT_NE(fourth.error().message.find("too many connections from this peer"), std::string::npos);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused " + my_uid_rule(), "max_connections_per_peer (3)"}).empty());
  // Another peer is counted apart.
  auto other = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(other.ok()) << other.error().message;
  conns.pop_back();
  EXPECT_TRUE(eventually([&] {
    auto again = connect(s.unix_endpoint());
    return again.ok() && echo_ok(**again);
  }));
}

TEST_F(LimitsTest, ConnectionsInTotal) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}, .limits = "max_connections = 2"});
  ASSERT_TRUE(s.started());
  auto a = connect(s.unix_endpoint());
  auto b = connect(s.unix_endpoint());
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = connect(s.unix_endpoint());
  ASSERT_FALSE(c.ok());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused", "max_connections (2) reached"}).empty());
  EXPECT_TRUE(echo_ok(**a));
  a->reset();
  EXPECT_TRUE(eventually([&] {
    auto again = connect(s.unix_endpoint());
    return again.ok() && echo_ok(**again);
  }));
}

TEST_F(LimitsTest, CallsInFlightPerConnectionAreBoundedNotRefused) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}, .limits = "max_calls_in_flight = 2"});
  ASSERT_TRUE(s.started());
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok());
  std::atomic<uint64_t> peak{0}, running{0};
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      wire::Call call;
      call.set_function(kSlowSleep);
      call.add_args()->set_u(200);
      auto r = (*c)->call(call);
      ok += r.ok() && r->rv() == CKR_OK;
    });
  }
  // The service never sees more than two of this connection's calls at once.
  std::thread watch([&] {
    for (int i = 0; i < 150; ++i) {
      uint64_t now = s.counters().calls_started.load() - s.counters().calls_finished.load();
      running = now;
      if (now > peak) peak = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& t : threads) t.join();
  watch.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_LE(peak.load(), 2u);
  EXPECT_GE(peak.load(), 1u);
}

TEST_F(LimitsTest, ReloadChangesWhoMayConnect) {
  std::string other = other_uid_rule();
  InProcessServer s({.dir = dir_, .access = {other, "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  ASSERT_FALSE(connect(s.unix_endpoint()).ok());
  auto app1 = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(app1.ok());

  TomlOptions next = s.options();
  next.access = {my_uid_rule()};
  auto config = parse_server_config(server_toml(next), "reloaded");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(s.server().reload(*config).ok());
  EXPECT_EQ(s.counters().reloads.load(), 1u);
  // Refused before, accepted now; accepted before, refused now — and its open
  // connection is closed.
  auto u = connect(s.unix_endpoint());
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(echo_ok(**u));
  EXPECT_TRUE(eventually([&] { return !echo_ok(**app1); }));
  EXPECT_FALSE(connect(s.tcp_endpoint(), tls_options(test_pki().app1)).ok());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"cert:CN=app1", "the reloaded access rules no longer admit it"}).empty());

  // A reload that fails (TLS material that cannot be read) changes nothing.
  next.access = {};
  auto bad = parse_server_config(server_toml(next), "bad");
  ASSERT_TRUE(bad.ok());
  bad->tls_cert = dir_ + "/missing.pem";
  Status refused = s.server().reload(*bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("missing.pem"), std::string::npos);
  EXPECT_EQ(s.counters().reloads.load(), 1u);
  EXPECT_TRUE(echo_ok(**u));
  auto again = connect(s.unix_endpoint());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(echo_ok(**again));
}

TEST_F(LimitsTest, ReloadTakesNewTlsMaterialForNewConnections) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1", "cert:CN=ferrohsm-dev-client"}});
  ASSERT_TRUE(s.started());
  auto old_client = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(old_client.ok()) << old_client.error().message;

  // A whole new PKI: new server certificate, new client CA.
  auto pki = make_dev_pki(dir_ + "/new");
  ASSERT_TRUE(pki.ok()) << pki.error().message;
  TomlOptions next = s.options();
  next.tls_cert = pki->server_cert;
  next.tls_key = pki->server_key;
  next.client_ca = pki->ca;
  auto config = parse_server_config(server_toml(next), "reloaded");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(s.server().reload(*config).ok());

  sidecar::ConnectOptions fresh;
  fresh.tls = sidecar::TlsFiles{pki->client_cert, pki->client_key, pki->ca, {}};
  auto c = connect(s.tcp_endpoint(), fresh);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(echo_ok(**c));
  // New connections with the old material fail: the old CA no longer vouches for the
  // client, nor the new server certificate for the old client's trust.
  EXPECT_FALSE(connect(s.tcp_endpoint(), tls_options(test_pki().app1)).ok());
  // The connection made before the reload goes on.
  EXPECT_TRUE(echo_ok(**old_client));
}

}  // namespace
}  // namespace ferrohsm::server::testing
