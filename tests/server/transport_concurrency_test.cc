// Many threads on one sidecar connection (label concurrency: runs under TSan too):
// every caller gets its own Return although replies come back in another order than
// the calls went out; a lost connection or a shutdown wakes every caller with
// CKR_DEVICE_REMOVED instead of leaving one hanging.
#include "server_fixture.h"

#include <gtest/gtest.h>

#include <thread>

namespace ferrohsm::server::testing {
namespace {

class TransportConcurrency : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { remove_tree(dir_); }

  // `threads` callers share `conn`; every 7th call is a slow one, so that replies
  // overtake each other. Returns the number of calls that got someone else's answer or failed.
  static int hammer(sidecar::Connection& conn, int threads, int calls) {
    std::atomic<int> bad{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < calls; ++i) {
          std::string payload = std::to_string(t) + ":" + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'x');
          if (i % 7 == 3) {
            wire::Call c;
            c.set_function(kSlowSleep);
            c.add_args()->set_u(2);
            auto r = conn.call(c);
            if (!r.ok() || r->rv() != CKR_OK || r->id() != c.id()) ++bad;
          } else if (!echo_ok(conn, payload)) {
            ++bad;
          }
        }
      });
    }
    for (auto& th : ts) th.join();
    return bad.load();
  }

  std::string dir_;
};

TEST_F(TransportConcurrency, ManyThreadsShareOneUnixConnection) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule()}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(hammer(**c, 8, 300), 0);
  EXPECT_EQ(s.counters().opened.load(), 1u);
}

TEST_F(TransportConcurrency, ManyThreadsShareOneTlsConnection) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(hammer(**c, 8, 300), 0);
}

TEST_F(TransportConcurrency, ShutdownWakesEveryCaller) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  for (bool tls : {false, true}) {
    auto c = tls ? connect(s.tcp_endpoint(), tls_options(test_pki().app1)) : connect(s.unix_endpoint());
    ASSERT_TRUE(c.ok()) << c.error().message;
    uint64_t before = s.counters().calls_started.load();
    std::atomic<int> removed{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
      ts.emplace_back([&] {
        wire::Call call;
        call.set_function(kSlowSleep);
        call.add_args()->set_u(1000);
        auto r = (*c)->call(call);
        if (!r.ok() && r.error().rv == CKR_DEVICE_REMOVED) ++removed;
      });
    }
    ASSERT_TRUE(eventually([&] { return s.counters().calls_started.load() >= before + 2; }));
    auto start = std::chrono::steady_clock::now();
    (*c)->shutdown();
    for (auto& t : ts) t.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
    EXPECT_EQ(removed.load(), 4);
    EXPECT_TRUE((*c)->lost());
    EXPECT_FALSE(echo_ok(**c));
  }
}

TEST_F(TransportConcurrency, AServerThatGoesAwayFailsEveryCaller) {
  auto s = std::make_unique<InProcessServer>(TomlOptions{.dir = dir_, .access = {my_uid_rule()}});
  ASSERT_TRUE(s->started());
  auto c = connect(s->unix_endpoint());
  ASSERT_TRUE(c.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> removed{0}, other{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      while (!stop) {
        wire::Call call;
        call.set_function(kEcho);
        auto r = (*c)->call(call);
        if (r.ok()) continue;
        (r.error().rv == CKR_DEVICE_REMOVED ? removed : other)++;
        return;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s.reset();  // stops the server: the connection ends under the callers
  bool all_returned = eventually([&] { return removed.load() + other.load() == 4; }, std::chrono::seconds(10));
  stop = true;
  for (auto& t : ts) t.join();
  EXPECT_TRUE(all_returned);
  EXPECT_EQ(removed.load(), 4);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace ferrohsm::server::testing
