// The ferrohsm CLI beside a running server: given the server's own configuration it
// works on the server's store, and what it does is what the applications of the server
// see (and the other way round); given a sidecar configuration it says where to run
// instead of acting on some other store.
#include "base/names.h"
#include "sidecar_fixture.h"

#include <stdlib.h>

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::my_uid_rule;

#define ASSERT_RV(expected, expr) ASSERT_STREQ(rv_name(expected), rv_name(expr)) << #expr

// Runs the CLI; its stdout and exit status.
std::pair<std::string, int> cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{FERROHSM_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  App run(argv);
  std::string out;
  while (auto l = run.line()) out += *l + "\n";
  const int status = run.wait();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_F(SidecarTest, TheCliWorksOnTheServersStoreWithTheServersConfiguration) {
  ServerProcess server({.dir = dir_, .tcp = false, .access = {"!" + my_uid_rule()}});
  ASSERT_TRUE(server.running());
  ::setenv("FERROHSM_SO_PIN", kSoPin, 1);
  ::setenv("FERROHSM_PIN", kUserPin, 1);
  // The CLI makes a token on the served store…
  auto [init_out, init_status] = cli({"--config", server.config_path(), "token", "init", "--label", "from-cli"});
  ASSERT_EQ(init_status, 0) << init_out;
  // …which an application of the server finds and logs in to,
  Library lib(lib_conf("lib.toml", {server.unix_endpoint()}));
  ASSERT_RV(CKR_OK, lib.init_rv());
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "from-cli", s));
  // and a token the application makes is in the CLI's list.
  ASSERT_RV(CKR_OK, make_token(lib.f(), "from-app"));
  auto [list, list_status] = cli({"--config", server.config_path(), "token", "list", "--json"});
  ASSERT_EQ(list_status, 0);
  EXPECT_NE(list.find("from-cli"), std::string::npos) << list;
  EXPECT_NE(list.find("from-app"), std::string::npos) << list;
  // With the library's sidecar configuration the CLI does not guess another store.
  auto [refused, refused_status] = cli({"--config", dir_ + "/lib.toml", "token", "list"});
  EXPECT_NE(refused_status, 0);
  EXPECT_EQ(refused.find("from-cli"), std::string::npos) << refused;
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
