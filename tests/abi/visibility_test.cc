// Who sees which object when: private objects and login, session objects and their
// session, logout (PKCS#11 3.0 §4.4, §5.6 C_Logout), persistence across C_Finalize.
#include <algorithm>

#include "fixture/attributes.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using VisibilityTest = TokenTest;

CK_RV Probe(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h) {
  CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
  return f->C_GetAttributeValue(s, h, &a, 1);
}

TEST_F(VisibilityTest, PrivateObjectsAreInvisibleBeforeLogin) {
  Created priv = CreateObject(f_, session_, DataObject("secret-obj", true, true));
  Created pub = CreateObject(f_, session_, DataObject("public-obj", true, false));
  ASSERT_CKR_OK(priv.rv);
  ASSERT_CKR_OK(pub.rv);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  auto all = Find(f_, session_, Template());
  EXPECT_EQ(all.size(), 1u);
  EXPECT_TRUE(std::find(all.begin(), all.end(), pub.handle) != all.end());
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, Probe(f_, session_, priv.handle));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_DestroyObject(session_, priv.handle));
  ASSERT_CKR_OK(Login(session_, CKU_USER, kUserPin));
  EXPECT_EQ(Find(f_, session_, Template().Str(CKA_LABEL, "secret-obj")).size(), 1u);
}

TEST_F(VisibilityTest, PrivateTokenObjectHandlesStayInvalidAfterRelogin) {
  // §5.6 C_Logout / §4.4: handles to private objects become invalid at logout, "even if
  // a user is later logged back into the token"; the object is found again by search.
  SKIP_IF_SOFTHSM("SoftHSMv2 keeps private object handles valid across logout/login");
  Created priv = CreateObject(f_, session_, DataObject("relogin", true, true));
  ASSERT_CKR_OK(priv.rv);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  ASSERT_CKR_OK(Login(session_, CKU_USER, kUserPin));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, Probe(f_, session_, priv.handle));
  auto found = Find(f_, session_, Template().Str(CKA_LABEL, "relogin"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_CKR_OK(Probe(f_, session_, found[0]));
}

TEST_F(VisibilityTest, LogoutDestroysPrivateSessionObjectsOnly) {
  Created priv = CreateObject(f_, session_, DataObject("priv-session", false, true));
  Created pub = CreateObject(f_, session_, DataObject("pub-session", false, false));
  ASSERT_CKR_OK(priv.rv);
  ASSERT_CKR_OK(pub.rv);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, Probe(f_, session_, priv.handle));
  EXPECT_CKR_OK(Probe(f_, session_, pub.handle)) << "public session objects survive logout";
  ASSERT_CKR_OK(Login(session_, CKU_USER, kUserPin));
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "priv-session")).empty())
      << "private session objects must be destroyed at logout";
}

TEST_F(VisibilityTest, SessionObjectsDieWithTheirSession) {
  CK_SESSION_HANDLE other = Open(slot_);
  Created obj = CreateObject(f_, other, DataObject("short-lived"));
  ASSERT_CKR_OK(obj.rv);
  EXPECT_CKR_OK(Probe(f_, session_, obj.handle)) << "visible to the application's sessions";
  ASSERT_CKR_OK(f_->C_CloseSession(other));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, Probe(f_, session_, obj.handle));
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "short-lived")).empty());
}

TEST_F(VisibilityTest, TokenObjectsPersistAndSessionObjectsDoNot) {
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("persistent", true, true)).rv);
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("volatile", false, false)).rv);
  Reinitialize();
  slot_ = SlotByLabel(kTokenLabel);  // SoftHSMv2 renumbers slots at C_Initialize
  CK_SESSION_HANDLE s = OpenUser(slot_);
  EXPECT_EQ(Find(f_, s, Template().Str(CKA_LABEL, "persistent")).size(), 1u);
  EXPECT_TRUE(Find(f_, s, Template().Str(CKA_LABEL, "volatile")).empty());
}

TEST_F(VisibilityTest, SoSeesOnlyPublicObjects) {
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("user-private", true, true)).rv);
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("everyone", true, false)).rv);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  ASSERT_CKR_OK(Login(session_, CKU_SO, kSoPin));
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "user-private")).empty());
  EXPECT_EQ(Find(f_, session_, Template().Str(CKA_LABEL, "everyone")).size(), 1u);
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN,
             CreateObject(f_, session_, DataObject("so-private", true, true)).rv)
      << "the SO cannot create private objects";
}

}  // namespace
}  // namespace ferrohsm::abi
