// What a peer sees: its [[access]] rule's `tokens` globs decide which tokens are in its
// slot list; a token outside them is absent (its slot id unknown), and nothing about it
// can be asked or opened.
#include "base/names.h"
#include "sidecar_fixture.h"

#include <cstring>

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::my_uid_rule;

#define EXPECT_RV(expected, expr) EXPECT_STREQ(rv_name(expected), rv_name(expr)) << #expr
#define ASSERT_RV(expected, expr) ASSERT_STREQ(rv_name(expected), rv_name(expr)) << #expr

std::vector<CK_SLOT_ID> slots(CK_FUNCTION_LIST_3_0* f) {
  CK_SLOT_ID ids[64];
  CK_ULONG n = 64;
  EXPECT_RV(CKR_OK, f->C_GetSlotList(CK_TRUE, ids, &n));
  return std::vector<CK_SLOT_ID>(ids, ids + n);
}

TEST_F(SidecarTest, ATokenOutsideThePeersRulesIsNotInItsSlotList) {
  const std::string store = dir_ + "/store.db";
  CK_SLOT_ID app_slot = 0, other_slot = 0;
  {
    // An admin that sees everything makes two tokens.
    ServerProcess all({.dir = dir_, .name = "all", .store = store, .tcp = false, .access = {"!" + my_uid_rule()}});
    ASSERT_TRUE(all.running());
    Library lib(lib_conf("all.toml", {all.unix_endpoint()}));
    ASSERT_RV(CKR_OK, make_token(lib.f(), "app-1"));
    ASSERT_RV(CKR_OK, make_token(lib.f(), "other"));
    ASSERT_RV(CKR_OK, find_slot(lib.f(), "app-1", app_slot));
    ASSERT_RV(CKR_OK, find_slot(lib.f(), "other", other_slot));
  }
  // The same store, served to a peer whose rule names app-* only.
  ServerProcess some({.dir = dir_, .name = "some", .store = store, .tcp = false, .access = {my_uid_rule() + "|app-*"}});
  ASSERT_TRUE(some.running());
  Library lib(lib_conf("some.toml", {some.unix_endpoint()}));
  ASSERT_RV(CKR_OK, lib.init_rv());
  const std::vector<CK_SLOT_ID> seen = slots(lib.f());
  EXPECT_NE(std::find(seen.begin(), seen.end(), app_slot), seen.end()) << "app-1 is the peer's";
  EXPECT_EQ(std::find(seen.begin(), seen.end(), other_slot), seen.end()) << "'other' is outside its rules";
  CK_SLOT_ID found = 0;
  EXPECT_RV(CKR_OK, find_slot(lib.f(), "app-1", found));
  EXPECT_EQ(found, app_slot);
  CK_TOKEN_INFO info{};
  EXPECT_RV(CKR_SLOT_ID_INVALID, lib->C_GetTokenInfo(other_slot, &info));
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_SLOT_ID_INVALID, lib->C_OpenSession(other_slot, CKF_SERIAL_SESSION, nullptr, nullptr, &h));
  // The peer's own token works as before.
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, open_and_login(lib.f(), "app-1", s));
  EXPECT_RV(CKR_OK, sign_and_verify(lib.f(), s, "mine"));
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
