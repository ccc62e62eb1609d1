// Clients spread over three servers on one database create, find, sign and destroy while
// something fails under them, and nothing that was committed is lost:
//   - one server is killed with SIGKILL: its clients' sessions end with CKR_DEVICE_REMOVED
//     or CKR_SESSION_HANDLE_INVALID and they carry on through the others;
//   - PostgreSQL is restarted (fast shutdown, then up again): calls in the gap answer
//     CKR_DEVICE_ERROR, the servers reconnect by themselves and the clients carry on with
//     their sessions.
// Either way every object whose creation answered CKR_OK is there afterwards and every
// destroyed one is gone, read through each server that is up.
#include "base/names.h"
#include "cluster_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace ferrohsm::cluster_test {
namespace {

constexpr int kClients = 6;      // two per server
constexpr int kRounds = 150;     // per client
constexpr int kSeconds = 40;     // per client, whatever the rounds
constexpr int kBeforeEvent = 10;  // objects each watched client made before the failure

using Lines = std::vector<std::string>;

size_t count_prefix(const Lines& lines, const std::string& prefix) {
  return static_cast<size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

// Runs kClients clients (client k starts on server k % 3 and lists the other two after
// it; its labels are `name`<k>-<i>); once each client in `watch` made kBeforeEvent
// objects, `event` runs; returns every client's lines when all have ended.
std::vector<Lines> run_load(const std::string& name, const std::vector<int>& watch, const std::function<void()>& event) {
  std::vector<std::unique_ptr<App>> apps;
  for (int k = 0; k < kClients; ++k) {
    const std::string conf = lib_conf(name + std::to_string(k) + ".toml", {k % 3, (k + 1) % 3, (k + 2) % 3});
    apps.push_back(std::make_unique<App>(std::vector<std::string>{app_path(), sidecar_test::module_path(), conf, "load",
                                                                  kToken, name + std::to_string(k),
                                                                  std::to_string(kRounds), std::to_string(kSeconds)}));
  }
  for (auto& a : apps) EXPECT_EQ(a->line(std::chrono::seconds(30)).value_or("(none)"), "ready");
  // Spread: each server carries two of them.
  for (int i = 0; i < kServers; ++i) EXPECT_TRUE(sidecar_test::wait_for_status(server(i).unix_endpoint(), 2, 2));

  std::mutex mu;
  std::vector<Lines> seen(kClients);
  std::vector<std::thread> readers;
  for (int k = 0; k < kClients; ++k)
    readers.emplace_back([&, k] {
      while (auto l = apps[static_cast<size_t>(k)]->line(std::chrono::seconds(kSeconds + 20))) {
        std::lock_guard lock(mu);
        seen[static_cast<size_t>(k)].push_back(*l);
        if (l->starts_with("done") || l->starts_with("FAIL")) break;
      }
    });
  for (auto& a : apps) a->go();
  const bool loaded = server::testing::eventually(
      [&] {
        std::lock_guard lock(mu);
        return std::all_of(watch.begin(), watch.end(), [&](int k) {
          return count_prefix(seen[static_cast<size_t>(k)], "created") >= kBeforeEvent;
        });
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(loaded) << "the clients did not get going";
  event();
  for (auto& r : readers) r.join();
  for (auto& a : apps) EXPECT_EQ(a->wait(std::chrono::seconds(20)), 0);
  for (int k = 0; k < kClients; ++k) {
    const Lines& lines = seen[static_cast<size_t>(k)];
    EXPECT_TRUE(!lines.empty() && lines.back().starts_with("done"))
        << "client " << k << ": " << (lines.empty() ? "(nothing)" : lines.back());
  }
  return seen;
}

struct Outcome {
  std::set<std::string> created, destroyed, unknown;
};

Outcome outcome_of(const std::vector<Lines>& all) {
  Outcome o;
  for (const Lines& lines : all)
    for (const std::string& l : lines) {
      const std::string label = l.substr(l.find(' ') + 1);
      if (l.starts_with("created ")) o.created.insert(label);
      else if (l.starts_with("destroyed ")) o.destroyed.insert(label);
      else if (l.starts_with("unknown ") || l.starts_with("destroy-unknown ")) o.unknown.insert(label);
    }
  return o;
}

// Through server `via`: every object created (CKR_OK) and not destroyed is there, every
// destroyed one is gone, and nothing else of this run (labels `name`…) is.
void check_through(int via, const std::string& name, const Outcome& o) {
  Library lib(lib_conf("check-" + name + std::to_string(via) + ".toml", {via}));
  ASSERT_EQ(lib.init_rv(), static_cast<CK_RV>(CKR_OK));
  CK_SESSION_HANDLE s = rw_session(lib.f(), kToken);
  ASSERT_NE(s, CK_INVALID_HANDLE);
  std::set<std::string> there;
  for (const std::string& l : labels_of(lib.f(), s, "cluster-load"))
    if (l.starts_with(name)) {
      EXPECT_TRUE(there.insert(l).second) << l << " twice";
    }
  size_t kept = 0;
  for (const std::string& l : o.created) {
    if (o.destroyed.contains(l)) {
      EXPECT_FALSE(there.contains(l)) << l << " was destroyed (CKR_OK) but is found through server " << via;
    } else if (!o.unknown.contains(l)) {
      ++kept;
      EXPECT_TRUE(there.contains(l)) << l << " was created (CKR_OK) but is not found through server " << via;
    }
  }
  for (const std::string& l : there)
    EXPECT_TRUE(o.created.contains(l) || o.unknown.contains(l)) << l << " was never created";
  EXPECT_GT(kept, 0u);
}

TEST(Cluster, LoadOverThreeServersLosesNothingWhenOneIsKilled) {
  ASSERT_TRUE(server(0).running() && server(1).running() && server(2).running());
  const std::vector<Lines> seen = run_load("k", {0, 3}, [] {
    const int status = server(0).stop(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  });
  for (int k = 0; k < kClients; ++k) {
    const Lines& lines = seen[static_cast<size_t>(k)];
    EXPECT_EQ(count_prefix(lines, "store-error"), 0u) << "client " << k << ": PostgreSQL stayed up";
    const size_t lost = count_prefix(lines, "lost");
    if (k % 3 != 0) {
      EXPECT_EQ(lost, 0u) << "client " << k << " was not on the killed server";
      continue;
    }
    // Its server went: the session ended with one of the two codes, and it went on.
    EXPECT_EQ(lost, 1u) << "client " << k;
    auto it = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.starts_with("lost"); });
    if (it == lines.end()) continue;
    EXPECT_TRUE(*it == "lost CKR_DEVICE_REMOVED" || *it == "lost CKR_SESSION_HANDLE_INVALID") << *it;
    ASSERT_NE(it + 1, lines.end());
    EXPECT_EQ(*(it + 1), "reopened");
    EXPECT_GE(count_prefix(Lines(it + 1, lines.end()), "created"), 1u) << "client " << k << " made nothing after";
  }
  const Outcome o = outcome_of(seen);
  std::printf("server killed: %zu objects created, %zu destroyed, %zu with an unknown outcome (cut off)\n",
              o.created.size(), o.destroyed.size(), o.unknown.size());
  EXPECT_GE(o.created.size(), static_cast<size_t>(2 * kBeforeEvent));
  for (int survivor : {1, 2}) check_through(survivor, "k", o);
  // The rest of the program has three servers again.
  ASSERT_TRUE(server(0).start()) << server(0).log_path();
}

TEST(Cluster, LoadOverThreeServersLosesNothingWhenPostgresRestarts) {
  ASSERT_TRUE(server(0).running() && server(1).running() && server(2).running());
  std::string restarted = "(not run)";
  const std::vector<Lines> seen = run_load("r", {0, 1, 2}, [&] { restarted = restart_postgres(); });
  ASSERT_EQ(restarted, "");
  size_t store_errors = 0;
  for (int k = 0; k < kClients; ++k) {
    const Lines& lines = seen[static_cast<size_t>(k)];
    store_errors += count_prefix(lines, "store-error");
    EXPECT_EQ(count_prefix(lines, "lost"), 0u) << "client " << k << ": no server went away";
    // After the gap, it went on creating.
    auto last_error = std::find_if(lines.rbegin(), lines.rend(),
                                   [](const std::string& l) { return l.starts_with("store-error"); });
    if (last_error != lines.rend()) {
      EXPECT_GE(count_prefix(Lines(last_error.base(), lines.end()), "created"), 1u) << "client " << k;
    }
  }
  const Outcome o = outcome_of(seen);
  std::printf("PostgreSQL restarted: %zu objects created, %zu destroyed, %zu with an unknown outcome, %zu calls "
              "answered CKR_DEVICE_ERROR\n",
              o.created.size(), o.destroyed.size(), o.unknown.size(), store_errors);
  EXPECT_GE(store_errors, 1u) << "no call fell into the restart: it tested nothing";
  for (int via = 0; via < kServers; ++via) check_through(via, "r", o);
}

}  // namespace
}  // namespace ferrohsm::cluster_test
