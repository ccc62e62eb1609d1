// The server serves calls over unix: and tcp:+mTLS through the sidecar transport, with
// each peer's identity and grant, slow calls beside quick ones, the admin status call,
// 200 connections at once, and a client killed in the middle of a call.
#include "server_fixture.h"
#include "wire/frame.h"
#include "wire/protocol.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

namespace ferrohsm::server::testing {
namespace {

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { remove_tree(dir_); }
  std::string dir_;
};

wire::Return call_ok(sidecar::Connection& conn, uint32_t function, uint64_t u = 0) {
  wire::Call c;
  c.set_function(function);
  c.add_args()->set_u(u);
  auto r = conn.call(c);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : wire::Return();
}

TEST_F(ServeTest, ServesUnixAndTcpPeersWithTheirIdentityAndGrant) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"listening on", s.unix_endpoint(), "socket mode 0660"}).empty());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"listening on", s.tcp_endpoint(), "TLS 1.3"}).empty());

  auto u = connect(s.unix_endpoint());
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(echo_ok(**u, std::string(100000, 'u')));
  EXPECT_EQ((*u)->hello().identity(), my_uid_rule());
  EXPECT_EQ((*u)->hello().functions_size(), 4);
  wire::Return who = call_ok(**u, kWhoAmI);
  ASSERT_EQ(who.args_size(), 3);
  EXPECT_EQ(who.args(0).data(), my_uid_rule());
  EXPECT_EQ(who.args(1).data(), "access[0] peer=" + my_uid_rule());
  EXPECT_EQ(who.args(2).u(), 0u);

  auto t = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(echo_ok(**t, std::string(100000, 't')));
  EXPECT_EQ((*t)->hello().identity(), "cert:CN=app1,O=Test");
  who = call_ok(**t, kWhoAmI);
  ASSERT_EQ(who.args_size(), 3);
  EXPECT_EQ(who.args(1).data(), "access[1] peer=cert:CN=app1");

  // An unknown function is the service's business, answered, not a protocol error.
  EXPECT_EQ(call_ok(**t, 999).rv(), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_TRUE(echo_ok(**t));
}

TEST_F(ServeTest, TheServerNameIsChecked) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  // The certificate names localhost and 127.0.0.1, not this name.
  sidecar::ConnectOptions o = tls_options(test_pki().app1);
  o.tls->server_name = "hsm.example.org";
  auto bad = connect(s.tcp_endpoint(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rv, CKR_DEVICE_ERROR);
  EXPECT_NE(bad.error().message.find("certificate"), std::string::npos) << bad.error().message;
  o.tls->server_name = "localhost";
  auto good = connect(s.tcp_endpoint(), o);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_TRUE(echo_ok(**good));
  // And a tcp: endpoint without TLS files is refused before any byte is sent.
  auto plain = connect(s.tcp_endpoint());
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("no plaintext TCP"), std::string::npos);
}

TEST_F(ServeTest, SlowCallsDoNotHoldUpQuickOnes) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}});
  ASSERT_TRUE(s.started());
  auto a = connect(s.unix_endpoint());
  auto b = connect(s.unix_endpoint());
  ASSERT_TRUE(a.ok() && b.ok());
  std::thread slow([&] { EXPECT_EQ(call_ok(**a, kSlowSleep, 1500).rv(), CKR_OK); });
  ASSERT_TRUE(eventually([&] { return s.counters().calls_started.load() >= 1; }));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(echo_ok(**b));
  EXPECT_TRUE(echo_ok(**a));  // the same connection too: calls of one connection run side by side
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  slow.join();
}

TEST_F(ServeTest, StatusIsForAdminPeersOnly) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "!cert:URI:spiffe://test/admin"}});
  ASSERT_TRUE(s.started());
  auto user = connect(s.unix_endpoint());
  ASSERT_TRUE(user.ok());
  EXPECT_EQ((*user)->hello().capabilities_size(), 0);
  wire::Call c;
  c.set_function(wire::kServerStatusFunction);
  auto refused = (*user)->call(c);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->rv(), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_FALSE(refused->has_server_status());
  EXPECT_FALSE(wait_for_log(s.log_path(), {my_uid_rule(), "server status", "admin"}).empty());

  auto admin = connect(s.tcp_endpoint(), tls_options(test_pki().admin));
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  ASSERT_EQ((*admin)->hello().capabilities_size(), 1);
  EXPECT_EQ((*admin)->hello().capabilities(0), wire::kCapabilityServerStatus);
  auto st = (*admin)->call(c);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->rv(), CKR_OK);
  const wire::ServerStatus& status = st->server_status();
  EXPECT_EQ(status.connections(), 2u);
  EXPECT_EQ(status.sessions(), 2u);  // the test service counts one per live application
  ASSERT_EQ(status.logged_in_tokens_size(), 1);
  EXPECT_EQ(status.listen_size(), 2);
  ASSERT_EQ(status.peers_size(), 2);
  std::set<std::string> ids = {status.peers(0).identity(), status.peers(1).identity()};
  EXPECT_TRUE(ids.count(my_uid_rule()));
  EXPECT_TRUE(ids.count("cert:CN=admin"));
  EXPECT_TRUE(status.software().starts_with("ferrohsm "));
}

TEST_F(ServeTest, TwoHundredConnectionsAtOnce) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  constexpr int kUnix = 160, kTcp = 40;
  std::vector<std::unique_ptr<sidecar::Connection>> conns;
  for (int i = 0; i < kUnix + kTcp; ++i) {
    auto c = i < kUnix ? connect(s.unix_endpoint()) : connect(s.tcp_endpoint(), tls_options(test_pki().app1));
    ASSERT_TRUE(c.ok()) << i << ": " << c.error().message;
    conns.push_back(std::move(*c));
  }
  EXPECT_EQ(s.server().connection_count(), static_cast<size_t>(kUnix + kTcp));
  EXPECT_EQ(s.server().status().connections(), static_cast<uint64_t>(kUnix + kTcp));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = static_cast<size_t>(t); i < conns.size(); i += 8)
          if (!echo_ok(*conns[i], "c" + std::to_string(i))) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  conns.clear();
  EXPECT_TRUE(eventually([&] { return s.server().connection_count() == 0; }));
  EXPECT_EQ(s.counters().opened.load(), static_cast<uint64_t>(kUnix + kTcp));
  EXPECT_TRUE(eventually([&] { return s.counters().closed.load() == s.counters().opened.load(); }));
}

TEST_F(ServeTest, AClientKilledMidCallHasItsApplicationClosed) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  const Pki& p = test_pki();
  for (bool tls : {false, true}) {
    uint64_t started_before = s.counters().calls_started.load();
    uint64_t closed_before = s.counters().closed.load();
    std::vector<std::string> argv = {test_client_path(), tls ? s.tcp_endpoint() : s.unix_endpoint(),
                                     std::to_string(kSlowSleep), "800"};
    if (tls) argv.insert(argv.end(), {p.app1.cert, p.app1.key, p.ca});
    Process client(argv);
    ASSERT_TRUE(eventually([&] { return s.counters().calls_started.load() > started_before; }));
    client.signal(SIGKILL);
    EXPECT_NE(client.wait(), -1);
    // closed() comes once the call in flight has finished, not before.
    EXPECT_TRUE(eventually([&] { return s.counters().closed.load() == closed_before + 1; }));
    EXPECT_EQ(s.counters().calls_finished.load(), s.counters().calls_started.load());
    EXPECT_TRUE(eventually([&] { return s.server().connection_count() == 0; }));
  }
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(echo_ok(**c));
}

// Clients that send a Hello and a call and vanish at once, in every order the server
// may see it: the call still queued, running, or answered with its Return (and the
// HelloReply) still being written. Every connection must finish and close its
// application; none may be left waiting.
TEST_F(ServeTest, ClientsThatVanishMidCallAreAllFinished) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}});
  ASSERT_TRUE(s.started());
  ::signal(SIGPIPE, SIG_IGN);
  std::string hello = frame(wire::make_hello(1 << 20));
  for (int i = 0; i < 600; ++i) {
    wire::Call c;
    c.set_id(1);
    switch (i % 3) {
      case 0:  // a slow call, queued or running when the client goes
        c.set_function(kSlowSleep);
        c.add_args()->set_u(i % 2);
        break;
      case 1:  // a quick call answered on the I/O thread
        c.set_function(kSleep);
        c.add_args()->set_u(0);
        break;
      default:  // a large answer that is still being written
        c.set_function(kEcho);
        c.add_args()->set_data(std::string(256 * 1024, 'v'));
        break;
    }
    int fd = raw_unix(s.socket_path());
    ASSERT_GE(fd, 0);
    send_all(fd, hello + frame(c));
    if (i % 2) ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }
  EXPECT_TRUE(eventually([&] { return s.server().connection_count() == 0; }, std::chrono::seconds(30)))
      << s.server().connection_count() << " connections left";
  EXPECT_EQ(s.counters().closed.load(), s.counters().opened.load());
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(echo_ok(**c));
}

// After fork() the child shares the parent's socket: abandon() in the child must leave
// the parent's connection (and its TLS state) untouched.
TEST_F(ServeTest, AbandonInAForkedChildLeavesTheParentsConnectionAlone) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  for (bool tls : {false, true}) {
    auto c = tls ? connect(s.tcp_endpoint(), tls_options(test_pki().app1)) : connect(s.unix_endpoint());
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(echo_ok(**c));
    pid_t pid = ::fork();
    if (pid == 0) {
      (*c)->abandon();
      ::_exit((*c)->lost() ? 0 : 1);
    }
    int status = -1;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_FALSE((*c)->lost());
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(echo_ok(**c, "after fork " + std::to_string(i)));
  }
}

TEST_F(ServeTest, StopFinishesCallsInFlightAndClosesEveryApplication) {
  auto s = std::make_unique<InProcessServer>(TomlOptions{.dir = dir_, .access = {my_uid_rule()}});
  ASSERT_TRUE(s->started());
  auto a = connect(s->unix_endpoint());
  auto idle = connect(s->unix_endpoint());
  ASSERT_TRUE(a.ok() && idle.ok());
  std::thread slow([&] {
    wire::Return r = call_ok(**a, kSlowSleep, 700);
    EXPECT_EQ(r.rv(), CKR_OK);
  });
  ASSERT_TRUE(eventually([&] { return s->counters().calls_started.load() >= 1; }));
  TestCounters& counters = s->counters();
  uint64_t opened = counters.opened.load();
  EXPECT_TRUE(s->server().stop());
  slow.join();
  EXPECT_EQ(counters.closed.load(), opened);
  EXPECT_FALSE(echo_ok(**idle));
  EXPECT_TRUE((*idle)->lost());
  EXPECT_FALSE(connect(s->unix_endpoint()).ok());
  EXPECT_NE(::access(s->socket_path().c_str(), F_OK), 0) << "the socket file is removed";
}

}  // namespace
}  // namespace ferrohsm::server::testing
