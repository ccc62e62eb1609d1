// An application keeps running while its server goes away and comes back (src/sidecar/
// client.h): the sessions of the lost connection answer CKR_DEVICE_REMOVED, slot calls
// answer CKR_TOKEN_NOT_PRESENT while no server is reachable, and once one is, a new
// session, login and signature work without C_Finalize or reloading the module. With
// several endpoints the library moves to the next one. And fork() in the application
// behaves as in embedded mode (tests/abi/fork_test.cc).
#include "base/names.h"
#include "sidecar_fixture.h"

#include <sys/wait.h>
#include <unistd.h>

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::eventually;
using server::testing::my_uid_rule;

#define EXPECT_RV(expected, expr) EXPECT_STREQ(rv_name(expected), rv_name(expr)) << #expr
#define ASSERT_RV(expected, expr) ASSERT_STREQ(rv_name(expected), rv_name(expr)) << #expr

// A new session and login once a server answers again (the library retries at most
// every 200 ms).
CK_SESSION_HANDLE login_again(CK_FUNCTION_LIST_3_0* f, const std::string& label) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV last = CKR_OK;
  bool ok = eventually([&] { return (last = open_and_login(f, label, s)) == CKR_OK; }, std::chrono::seconds(10));
  EXPECT_TRUE(ok) << "no new session and login: " << rv_name(last);
  return ok ? s : CK_INVALID_HANDLE;
}

TEST_F(SidecarTest, ServerRestartUnderARunningApplication) {
  ServerProcess server({.dir = dir_, .tcp = false, .access = {"!" + my_uid_rule()}});
  ASSERT_TRUE(server.running());
  Library lib(lib_conf("lib.toml", {server.unix_endpoint()}));
  ASSERT_RV(CKR_OK, lib.init_rv());
  ASSERT_RV(CKR_OK, make_token(lib.f(), "restart"));
  CK_SLOT_ID slot = 0;
  ASSERT_RV(CKR_OK, find_slot(lib.f(), "restart", slot));
  CK_SESSION_HANDLE old = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "restart", old));
  ASSERT_RV(CKR_OK, sign_and_verify(lib.f(), old, "before"));

  int status = server.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The session was on the lost connection; slot calls find no server.
  EXPECT_RV(CKR_DEVICE_REMOVED, sign_and_verify(lib.f(), old, "while down"));
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_DEVICE_REMOVED, lib->C_GetSessionInfo(old, &si));
  CK_TOKEN_INFO ti{};
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, lib->C_GetTokenInfo(slot, &ti));
  CK_SESSION_HANDLE none = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, lib->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &none));

  ASSERT_TRUE(server.start());
  CK_SESSION_HANDLE fresh = login_again(lib.f(), "restart");
  EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), fresh, "after"));
  EXPECT_NE(fresh, old);
  EXPECT_RV(CKR_DEVICE_REMOVED, lib->C_GetSessionInfo(old, &si));
  EXPECT_RV(CKR_DEVICE_REMOVED, lib->C_CloseSession(old));
  EXPECT_TRUE(wait_for_status(server.unix_endpoint(), 1, 1));
}

// The server goes and comes back before the application makes a call: the first calls
// find the old connection closed. A session call answers CKR_DEVICE_REMOVED; a slot list
// is the server's answer (the library connects again for it).
TEST_F(SidecarTest, ServerRestartBetweenTwoCalls) {
  ServerProcess server({.dir = dir_, .tcp = false, .access = {"!" + my_uid_rule()}});
  Library lib(lib_conf("lib.toml", {server.unix_endpoint()}));
  ASSERT_RV(CKR_OK, lib.init_rv());
  ASSERT_RV(CKR_OK, make_token(lib.f(), "restart"));
  CK_SESSION_HANDLE old = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "restart", old));

  int status = server.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(server.start());
  CK_SLOT_ID slots[8];
  CK_ULONG n = 8;
  EXPECT_RV(CKR_OK, lib->C_GetSlotList(CK_TRUE, slots, &n));
  EXPECT_EQ(n, 2u);  // the token and the free slot's uninitialised one
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_DEVICE_REMOVED, lib->C_GetSessionInfo(old, &si));
  CK_SESSION_HANDLE fresh = login_again(lib.f(), "restart");
  EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), fresh, "after"));
}

// Two servers on one store, the first endpoint killed: the library moves to the second,
// and when that one is killed and the first is back, to the first again.
TEST_F(SidecarTest, FailoverToTheNextEndpoint) {
  const std::vector<std::string> access = {"!" + my_uid_rule(), "!cert:CN=app1"};
  ServerProcess a({.dir = dir_, .name = "a", .tcp = false, .access = access});
  ServerProcess b({.dir = dir_, .name = "b", .tcp = true, .access = access});
  ASSERT_TRUE(a.running() && b.running());
  Library lib(lib_conf("lib.toml", {a.unix_endpoint(), b.tcp_endpoint()}, &test_pki().app1));
  ASSERT_RV(CKR_OK, lib.init_rv());
  ASSERT_RV(CKR_OK, make_token(lib.f(), "failover"));
  CK_SESSION_HANDLE on_a = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "failover", on_a));
  ASSERT_RV(CKR_OK, sign_and_verify(lib.f(), on_a, "on a"));
  EXPECT_TRUE(wait_for_status(a.unix_endpoint(), 1, 1));
  EXPECT_TRUE(wait_for_status(b.unix_endpoint(), 0, 0));

  a.stop(SIGKILL);
  EXPECT_RV(CKR_DEVICE_REMOVED, sign_and_verify(lib.f(), on_a, "a is gone"));
  CK_SESSION_HANDLE on_b = login_again(lib.f(), "failover");
  EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), on_b, "on b"));
  EXPECT_TRUE(wait_for_status(b.unix_endpoint(), 1, 1));
  EXPECT_FALSE(b.wait_for_log({"cert:CN=app1,O=Test"}).empty()) << "the library came over TLS";

  ASSERT_TRUE(a.start());
  b.stop(SIGKILL);
  EXPECT_RV(CKR_DEVICE_REMOVED, sign_and_verify(lib.f(), on_b, "b is gone"));
  CK_SESSION_HANDLE back_on_a = login_again(lib.f(), "failover");
  EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), back_on_a, "on a again"));
  EXPECT_TRUE(wait_for_status(a.unix_endpoint(), 1, 1));
}

// ---- fork()

enum ChildStep : int {
  kChildOk = 0,
  kStillInitialised = 10,
  kReinitFailed = 11,
  kLoginFailed = 12,
  kSignFailed = 13,
  kFinalizeFailed = 14,
};

// In the forked child: no gtest, only an exit code naming the step that failed.
int child_body(CK_FUNCTION_LIST_3_0* f, const std::string& conf, CK_SESSION_HANDLE parents) {
  CK_ULONG n = 0;
  CK_SESSION_INFO si{};
  if (f->C_GetSlotList(CK_FALSE, nullptr, &n) != CKR_CRYPTOKI_NOT_INITIALIZED ||
      f->C_GetSessionInfo(parents, &si) != CKR_CRYPTOKI_NOT_INITIALIZED)
    return kStillInitialised;
  if (initialize(f, conf) != CKR_OK) return kReinitFailed;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (open_and_login(f, "fork", s) != CKR_OK) return kLoginFailed;
  if (sign_and_verify(f, s, "in the child") != CKR_OK) return kSignFailed;
  if (f->C_Finalize(nullptr) != CKR_OK) return kFinalizeFailed;
  return kChildOk;
}

TEST_F(SidecarTest, ForkedChildStartsUninitialisedAndTheParentKeepsItsSession) {
  ServerProcess server({.dir = dir_, .tcp = false, .access = {"!" + my_uid_rule()}});
  std::string conf = lib_conf("lib.toml", {server.unix_endpoint()});
  Library lib(conf);
  ASSERT_RV(CKR_OK, lib.init_rv());
  ASSERT_RV(CKR_OK, make_token(lib.f(), "fork"));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "fork", s));
  ASSERT_RV(CKR_OK, sign_and_verify(lib.f(), s, "before the fork"));

  for (int round = 0; round < 3; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(child_body(lib.f(), conf, s));
    int status = -1;
    bool done = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(30));
    if (!done) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(done && WIFEXITED(status)) << "child: status " << status;
    EXPECT_EQ(WEXITSTATUS(status), kChildOk) << "round " << round;
    // The parent's connection, session and login are untouched by the child.
    CK_SESSION_INFO si{};
    ASSERT_RV(CKR_OK, lib->C_GetSessionInfo(s, &si));
    EXPECT_EQ(si.state, static_cast<CK_STATE>(CKS_RO_USER_FUNCTIONS));
    EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), s, "after fork " + std::to_string(round)));
  }
  // The children's connections and sessions are gone; the parent's remain.
  EXPECT_TRUE(wait_for_status(server.unix_endpoint(), 1, 1));
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
