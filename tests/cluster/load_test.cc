// Clients spread over three servers on one database create, find, sign and destroy; one
// server is killed with SIGKILL in the middle. Every object whose creation answered
// CKR_OK is there afterwards, every destroyed one is gone (both read through each
// surviving server), and the killed server's clients carry on through the others: their
// sessions end with CKR_DEVICE_REMOVED or CKR_SESSION_HANDLE_INVALID, and they open new
// ones.
#include "base/names.h"
#include "cluster_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

namespace ferrohsm::cluster_test {
namespace {

constexpr int kClients = 6;        // two per server
constexpr int kRounds = 150;       // per client
constexpr int kSeconds = 40;       // per client, whatever the rounds
constexpr int kBeforeKill = 10;    // objects each client of the killed server made first

struct Seen {
  std::vector<std::string> lines;
  bool ended = false;
};

size_t count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

TEST(Cluster, LoadOverThreeServersLosesNothingWhenOneIsKilled) {
  ASSERT_TRUE(server(0).running() && server(1).running() && server(2).running());
  std::vector<std::unique_ptr<App>> apps;
  for (int k = 0; k < kClients; ++k) {
    // Client k starts on server k % 3 and lists the other two after it.
    const std::string conf = lib_conf("load-" + std::to_string(k) + ".toml", {k % 3, (k + 1) % 3, (k + 2) % 3});
    apps.push_back(std::make_unique<App>(std::vector<std::string>{app_path(), sidecar_test::module_path(), conf, "load",
                                                                  kToken, "c" + std::to_string(k),
                                                                  std::to_string(kRounds), std::to_string(kSeconds)}));
  }
  for (auto& a : apps) ASSERT_EQ(a->line(std::chrono::seconds(30)).value_or("(none)"), "ready");
  // Spread: each server carries two of them.
  for (int i = 0; i < kServers; ++i) EXPECT_TRUE(sidecar_test::wait_for_status(server(i).unix_endpoint(), 2, 2));

  std::mutex mu;
  std::vector<Seen> seen(kClients);
  std::vector<std::thread> readers;
  for (int k = 0; k < kClients; ++k)
    readers.emplace_back([&, k] {
      while (auto l = apps[static_cast<size_t>(k)]->line(std::chrono::seconds(kSeconds + 20))) {
        std::lock_guard lock(mu);
        seen[static_cast<size_t>(k)].lines.push_back(*l);
        if (l->starts_with("done") || l->starts_with("FAIL")) break;
      }
      std::lock_guard lock(mu);
      seen[static_cast<size_t>(k)].ended = true;
    });
  for (auto& a : apps) a->go();

  // SIGKILL server 0 once each of its clients (0 and 3) has made kBeforeKill objects.
  const bool loaded = server::testing::eventually(
      [&] {
        std::lock_guard lock(mu);
        return count_prefix(seen[0].lines, "created") >= kBeforeKill && count_prefix(seen[3].lines, "created") >= kBeforeKill;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(loaded) << "the clients of server 0 did not get going";
  const int status = server(0).stop(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (auto& r : readers) r.join();
  for (auto& a : apps) EXPECT_EQ(a->wait(std::chrono::seconds(20)), 0);

  std::set<std::string> created, destroyed, unknown;
  for (int k = 0; k < kClients; ++k) {
    const auto& lines = seen[static_cast<size_t>(k)].lines;
    ASSERT_FALSE(lines.empty()) << "client " << k;
    EXPECT_TRUE(lines.back().starts_with("done")) << "client " << k << ": " << lines.back();
    const size_t lost = count_prefix(lines, "lost");
    if (k % 3 == 0) {
      // Its server went: the session ended with one of the two codes, and it went on.
      EXPECT_EQ(lost, 1u) << "client " << k;
      auto it = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.starts_with("lost"); });
      if (it != lines.end()) {
        EXPECT_TRUE(*it == "lost CKR_DEVICE_REMOVED" || *it == "lost CKR_SESSION_HANDLE_INVALID") << *it;
        ASSERT_NE(it + 1, lines.end());
        EXPECT_EQ(*(it + 1), "reopened");
        EXPECT_GE(count_prefix(std::vector<std::string>(it + 1, lines.end()), "created"), 1u)
            << "client " << k << " made nothing after the failover";
      }
    } else {
      EXPECT_EQ(lost, 0u) << "client " << k << " was not on the killed server";
    }
    for (const std::string& l : lines) {
      const std::string label = l.substr(l.find(' ') + 1);
      if (l.starts_with("created ")) created.insert(label);
      else if (l.starts_with("destroyed ")) destroyed.insert(label);
      else if (l.starts_with("unknown ") || l.starts_with("destroy-unknown ")) unknown.insert(label);
    }
  }
  std::printf("cluster load: %zu objects created, %zu destroyed, %zu with an unknown outcome (cut off by the kill)\n",
              created.size(), destroyed.size(), unknown.size());
  EXPECT_GE(created.size(), static_cast<size_t>(2 * kBeforeKill));

  // Read through each surviving server: the same answer from both.
  for (int survivor : {1, 2}) {
    Library lib(lib_conf("check-" + std::to_string(survivor) + ".toml", {survivor}));
    ASSERT_EQ(lib.init_rv(), static_cast<CK_RV>(CKR_OK));
    CK_SESSION_HANDLE s = rw_session(lib.f(), kToken);
    ASSERT_NE(s, CK_INVALID_HANDLE);
    const std::vector<std::string> found = labels_of(lib.f(), s, "cluster-load");
    const std::set<std::string> there(found.begin(), found.end());
    EXPECT_EQ(there.size(), found.size()) << "a label twice";
    size_t kept = 0;
    for (const std::string& l : created) {
      if (destroyed.contains(l)) {
        EXPECT_FALSE(there.contains(l)) << l << " was destroyed (CKR_OK) but is found through server " << survivor;
      } else if (!unknown.contains(l)) {
        ++kept;
        EXPECT_TRUE(there.contains(l)) << l << " was created (CKR_OK) but is not found through server " << survivor;
      }
    }
    for (const std::string& l : there)
      EXPECT_TRUE(created.contains(l) || unknown.contains(l)) << l << " was never created";
    EXPECT_GT(kept, 0u);
  }
  // The rest of the program has three servers again.
  ASSERT_TRUE(server(0).start()) << server(0).log_path();
}

}  // namespace
}  // namespace ferrohsm::cluster_test
