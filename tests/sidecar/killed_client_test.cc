// Applications killed with SIGKILL while they use the server: a child that signs in a
// loop loses its connection in the middle of a call, and the server frees its sessions
// and logins; 1,000 connect/login/kill cycles of real library clients leave the server's
// descriptors and memory where they were (tests/server/process_test.cc does the same for
// the network layer alone, with raw sockets).
#include "base/names.h"
#include "sidecar_fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <thread>

#ifndef FERROHSM_SIDECAR_CYCLES
#define FERROHSM_SIDECAR_CYCLES 1000
#define FERROHSM_SIDECAR_WARMUP 100
#endif

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::eventually;
using server::testing::my_uid_rule;
using server::testing::open_fd_count;
using server::testing::resident_kb;

// A server with a token "kill" on it (made through the library in this process, which
// is then finalised: only the children connect).
struct Served {
  explicit Served(const std::string& dir, std::vector<std::string> env = {})
      : server({.dir = dir, .access = {"!" + my_uid_rule(), "cert:CN=app1"}, .env = std::move(env)}) {
    std::string admin = dir + "/admin.toml";
    write_lib_toml(admin, {server.unix_endpoint()});
    Library lib(admin);
    EXPECT_EQ(lib.init_rv(), CKR_OK);
    EXPECT_STREQ(rv_name(make_token(lib.f(), "kill")), "CKR_OK");
  }
  ServerProcess server;
};

TEST_F(SidecarTest, ClientKilledMidCallLeavesNoSessionBehind) {
  Served s(dir_);
  ASSERT_TRUE(s.server.running());
  const std::string over_unix = lib_conf("unix.toml", {s.server.unix_endpoint()});
  const std::string over_tls = lib_conf("tls.toml", {s.server.tcp_endpoint()}, &test_pki().app1);
  for (const std::string& conf : {over_unix, over_tls}) {
    SCOPED_TRACE(conf);
    App app({app_path(), module_path(), conf, "sign-loop", "kill"});
    ASSERT_EQ(app.line(), "ready");
    EXPECT_TRUE(wait_for_status(s.server.unix_endpoint(), 1, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // signing, calls in flight
    app.signal(SIGKILL);
    int status = app.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "the loop stopped by itself: " << app.line(std::chrono::milliseconds(0)).value_or("");
    EXPECT_TRUE(wait_for_status(s.server.unix_endpoint(), 0, 0));
  }
  // Still serving: a new application logs in and signs.
  App app({app_path(), module_path(), over_tls, "together", "kill", "3"});
  ASSERT_EQ(app.line(), "ready");
  app.go();
  EXPECT_EQ(app.line(), "ok 3");
}

TEST_F(SidecarTest, ConnectKillCyclesLeaveDescriptorsAndMemoryWhereTheyWere) {
  // ASan keeps freed memory in quarantine; a small one keeps resident memory honest.
  Served s(dir_, {"ASAN_OPTIONS=quarantine_size_mb=4:detect_leaks=1:abort_on_error=1"});
  ASSERT_TRUE(s.server.running());
  const pid_t pid = s.server.pid();
  const std::string over_unix = lib_conf("unix.toml", {s.server.unix_endpoint()});
  const std::string over_tls = lib_conf("tls.toml", {s.server.tcp_endpoint()}, &test_pki().app1);
  // Four applications at a time, each connected, with a session, logged in, then killed;
  // every tenth over TCP+mTLS.
  auto cycles = [&](int n) {
    constexpr int kTogether = 4;
    for (int i = 0; i < n; i += kTogether) {
      std::vector<std::unique_ptr<App>> apps;
      for (int k = i; k < i + kTogether && k < n; ++k)
        apps.push_back(std::make_unique<App>(
            std::vector<std::string>{app_path(), module_path(), k % 10 == 0 ? over_tls : over_unix, "hold", "kill"}));
      for (auto& app : apps) ASSERT_EQ(app->line(), "ready") << "cycle " << i;
      for (auto& app : apps) app->signal(SIGKILL);
      for (auto& app : apps) ASSERT_NE(app->wait(), -1);
    }
    ASSERT_TRUE(wait_for_status(s.server.unix_endpoint(), 0, 0, std::chrono::seconds(30)));
  };
  const auto start = std::chrono::steady_clock::now();
  cycles(FERROHSM_SIDECAR_WARMUP);  // warm up: allocator caches, thread stacks, TLS and protobuf state
  const int fds_before = open_fd_count(pid);
  const long rss_before = resident_kb(pid);
  constexpr int kCycles = FERROHSM_SIDECAR_CYCLES;
  cycles(kCycles);
  ASSERT_TRUE(eventually([&] { return open_fd_count(pid) <= fds_before; }, std::chrono::seconds(10)))
      << open_fd_count(pid) << " descriptors, " << fds_before << " before";
  const long rss_after = resident_kb(pid);
  std::printf("server after %d connect/login/kill cycles (%.1f s): %d descriptors (%d before), %ld kB resident "
              "(%ld kB before)\n",
              kCycles, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), open_fd_count(pid),
              fds_before, rss_after, rss_before);
  EXPECT_LE(rss_after, rss_before + 8 * 1024) << "resident " << rss_before << " kB before, " << rss_after << " kB after";

  int status = s.server.stop(SIGTERM, std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);  // and, under ASan, LeakSanitizer found nothing at exit
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
