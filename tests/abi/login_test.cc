// C_Login / C_Logout rules (PKCS#11 3.0 §5.6, §6.7 session states), and
// CKU_CONTEXT_SPECIFIC for keys with CKA_ALWAYS_AUTHENTICATE.
#include <cstring>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class LoginTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
  }
  CK_SLOT_ID slot_ = kNoSlot;
};

TEST_F(LoginTest, SoLoginWithReadOnlySessionOpen) {
  CK_SESSION_HANDLE ro = Open(slot_, false);
  CK_SESSION_HANDLE rw = Open(slot_, true);
  EXPECT_CKR(CKR_SESSION_READ_ONLY_EXISTS, Login(rw, CKU_SO, kSoPin));
  ASSERT_CKR_OK(f_->C_CloseSession(ro));
  EXPECT_CKR_OK(Login(rw, CKU_SO, kSoPin));
}

TEST_F(LoginTest, ReadOnlySessionWhileSoLoggedIn) {
  CK_SESSION_HANDLE rw = Open(slot_, true);
  ASSERT_CKR_OK(Login(rw, CKU_SO, kSoPin));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_SESSION_READ_WRITE_SO_EXISTS,
             f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
  EXPECT_CKR_OK(f_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
}

TEST_F(LoginTest, AlreadyLoggedInAndAnotherUser) {
  CK_SESSION_HANDLE a = Open(slot_);
  CK_SESSION_HANDLE b = Open(slot_);
  ASSERT_CKR_OK(Login(a, CKU_USER, kUserPin));
  EXPECT_CKR(CKR_USER_ALREADY_LOGGED_IN, Login(a, CKU_USER, kUserPin));
  EXPECT_CKR(CKR_USER_ALREADY_LOGGED_IN, Login(b, CKU_USER, kUserPin)) << "state is shared";
  EXPECT_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, Login(b, CKU_SO, kSoPin));
  ASSERT_CKR_OK(f_->C_Logout(b));
  ASSERT_CKR_OK(Login(b, CKU_SO, kSoPin));
  EXPECT_CKR(CKR_USER_ALREADY_LOGGED_IN, Login(a, CKU_SO, kSoPin));
  EXPECT_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, Login(a, CKU_USER, kUserPin));
}

TEST_F(LoginTest, LogoutWhenNotLoggedIn) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_OK to C_Logout without a login");
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Logout(s));
  ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Logout(s));
}

TEST_F(LoginTest, WrongPinInvalidTypeAndNullPin) {
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "definitely-wrong"));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, "definitely-wrong"));
  EXPECT_CKR(CKR_USER_TYPE_INVALID, Login(s, 7, kUserPin));
  // The token has no protected authentication path, so a PIN is required.
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Login(s, CKU_USER, nullptr, 8));
  EXPECT_EQ(SessionState(s), CKS_RW_PUBLIC_SESSION);
}

TEST_F(LoginTest, UserPinNotInitialised) {
  CK_SLOT_ID bare = InitTokenOnly("no-user-pin");
  ASSERT_NE(bare, kNoSlot);
  CK_SESSION_HANDLE s = Open(bare);
  EXPECT_CKR(CKR_USER_PIN_NOT_INITIALIZED, Login(s, CKU_USER, kUserPin));
}

TEST_F(LoginTest, ContextSpecificWithoutOperationIsRejected) {
  CK_SESSION_HANDLE s = OpenUser(slot_);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Login(s, CKU_CONTEXT_SPECIFIC, kUserPin));
}

class AlwaysAuthenticateTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    KeyOptions o;
    o.always_authenticate = true;
    KeyPair kp = GenerateEc(f_, session_, "P-256", o);
    ASSERT_CKR_OK(kp.rv);
    key_ = kp.priv;
    pub_ = kp.pub;
  }
  CK_RV SignInit() {
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    return f_->C_SignInit(session_, &m, key_);
  }
  CK_RV Sign(CK_ULONG* len, CK_BYTE* out) {
    CK_BYTE data[32] = {1, 2, 3, 4};  // a SHA-256-sized digest for raw CKM_ECDSA
    return f_->C_Sign(session_, data, sizeof data, out, len);
  }
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE, pub_ = CK_INVALID_HANDLE;
};

TEST_F(AlwaysAuthenticateTest, AttributeIsSet) {
  EXPECT_EQ(GetBool(f_, session_, key_, CKA_ALWAYS_AUTHENTICATE), true);
}

TEST_F(AlwaysAuthenticateTest, SignWithoutContextLoginIsUserNotLoggedIn) {
  ASSERT_CKR_OK(SignInit());
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, Sign(&len, sig));
}

TEST_F(AlwaysAuthenticateTest, ContextLoginAuthorisesOneOperation) {
  ASSERT_CKR_OK(SignInit());
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(session_, CKU_CONTEXT_SPECIFIC, "wrong-pin-here"));
  ASSERT_CKR_OK(Login(session_, CKU_CONTEXT_SPECIFIC, kUserPin));
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  ASSERT_CKR_OK(Sign(&len, sig));
  EXPECT_EQ(len, 64u);
  // The next operation needs its own context login.
  ASSERT_CKR_OK(SignInit());
  len = sizeof sig;
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, Sign(&len, sig));
  EXPECT_EQ(SessionState(session_), CKS_RW_USER_FUNCTIONS) << "the user stays logged in";
}

// C_SignRecover with an always-authenticate key: the context-specific login reaches it too.
TEST_F(AlwaysAuthenticateTest, ContextLoginAuthorisesSignRecover) {
  SKIP_IF_SOFTHSM("FerroHSM's RSA key template");
  Template pub, priv;
  pub.Bool(CKA_TOKEN, false).Bool(CKA_VERIFY_RECOVER, true).Ulong(CKA_MODULUS_BITS, 1024);
  priv.Bool(CKA_TOKEN, false).Bool(CKA_SIGN_RECOVER, true).Bool(CKA_ALWAYS_AUTHENTICATE, true);
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE rsa_pub = CK_INVALID_HANDLE, rsa_priv = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_GenerateKeyPair(session_, &gen, pub.data(), pub.size(), priv.data(), priv.size(), &rsa_pub,
                                      &rsa_priv));
  CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
  CK_BYTE data[20] = {9, 8, 7};
  CK_BYTE sig[128];
  CK_ULONG len = sizeof sig;
  ASSERT_CKR_OK(f_->C_SignRecoverInit(session_, &m, rsa_priv));
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_SignRecover(session_, data, sizeof data, sig, &len));
  ASSERT_CKR_OK(Login(session_, CKU_CONTEXT_SPECIFIC, kUserPin));
  len = sizeof sig;
  ASSERT_CKR_OK(f_->C_SignRecover(session_, data, sizeof data, sig, &len));
  CK_BYTE back[128];
  CK_ULONG back_len = sizeof back;
  ASSERT_CKR_OK(f_->C_VerifyRecoverInit(session_, &m, rsa_pub));
  ASSERT_CKR_OK(f_->C_VerifyRecover(session_, sig, len, back, &back_len));
  EXPECT_EQ(Bytes(back, back + back_len), Bytes(data, data + sizeof data));
}

}  // namespace
}  // namespace ferrohsm::abi
