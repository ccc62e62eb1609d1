// 200 applications connected at once (one connection per process that loads the module:
// 200 processes, a quarter of them over TCP+mTLS), each logged in; released together,
// each signs, verifies and digests data of its own, and checks that every answer is the
// answer to its own call.
#include "base/names.h"
#include "sidecar_fixture.h"

#include <sys/wait.h>

#include <cstdio>

#ifndef FERROHSM_SIDECAR_CLIENTS
#define FERROHSM_SIDECAR_CLIENTS 200
#endif

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::my_uid_rule;

TEST_F(SidecarTest, TwoHundredConcurrentClientsAllGetTheirOwnAnswers) {
  constexpr int kClients = FERROHSM_SIDECAR_CLIENTS;
  constexpr int kRounds = 3;
  ServerProcess server({.dir = dir_, .access = {"!" + my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(server.running());
  {
    Library lib(lib_conf("admin.toml", {server.unix_endpoint()}));
    ASSERT_EQ(lib.init_rv(), CKR_OK);
    ASSERT_STREQ(rv_name(make_token(lib.f(), "many")), "CKR_OK");
  }
  const std::string over_unix = lib_conf("unix.toml", {server.unix_endpoint()});
  const std::string over_tls = lib_conf("tls.toml", {server.tcp_endpoint()}, &test_pki().app1);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<App>> apps;
  for (int i = 0; i < kClients; ++i)
    apps.push_back(std::make_unique<App>(std::vector<std::string>{
        app_path(), module_path(), i % 4 == 0 ? over_tls : over_unix, "together", "many", std::to_string(kRounds)}));
  for (int i = 0; i < kClients; ++i) ASSERT_EQ(apps[i]->line(std::chrono::seconds(60)), "ready") << "client " << i;
  // All connected at once, each with its session.
  EXPECT_TRUE(wait_for_status(server.unix_endpoint(), kClients, kClients));
  for (auto& app : apps) app->go();
  int ok = 0;
  for (int i = 0; i < kClients; ++i) {
    auto line = apps[i]->line(std::chrono::seconds(60));
    EXPECT_EQ(line, "ok " + std::to_string(kRounds)) << "client " << i;
    int status = apps[i]->wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "client " << i << ": status " << status;
    ok += line == "ok " + std::to_string(kRounds);
  }
  std::printf("%d of %d concurrent clients right in %.1f s\n", ok, kClients,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_TRUE(wait_for_status(server.unix_endpoint(), 0, 0));
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
