// PINs: C_InitPIN, C_SetPIN, length limits, failure counters and lockout.
#include <cstring>

#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class PinTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
  }
  CK_RV SetPin(CK_SESSION_HANDLE s, const std::string& old_pin, const std::string& new_pin) {
    return f_->C_SetPIN(s, U8(old_pin), old_pin.size(), U8(new_pin), new_pin.size());
  }
  CK_SLOT_ID slot_ = kNoSlot;
};

TEST_F(PinTest, InitPinNeedsAnSoSession) {
  CK_SESSION_HANDLE s = Open(slot_);
  std::string pin = "another-user-pin";
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_InitPIN(s, U8(pin), pin.size()));
  ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_InitPIN(s, U8(pin), pin.size()));
}

TEST_F(PinTest, InitPinRejectsBadLength) {
  CK_SESSION_HANDLE s = Open(slot_);
  ASSERT_CKR_OK(Login(s, CKU_SO, kSoPin));
  std::string too_short = "abc";
  EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_InitPIN(s, U8(too_short), too_short.size()));
  std::string too_long(300, 'u');
  EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_InitPIN(s, U8(too_long), too_long.size()));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin)) << "a refused C_InitPIN changed the user PIN";
}

TEST_F(PinTest, UserChangesOwnPin) {
  CK_SESSION_HANDLE s = OpenUser(slot_);
  std::string new_pin = "changed-user-pin";
  ASSERT_CKR_OK(SetPin(s, kUserPin, new_pin));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, kUserPin));
  EXPECT_CKR_OK(Login(s, CKU_USER, new_pin));
}

TEST_F(PinTest, PublicRwSessionChangesTheUserPin) {
  // §5.6 C_SetPIN: in the "R/W public session" state the normal user's PIN is changed.
  CK_SESSION_HANDLE s = Open(slot_);
  std::string new_pin = "public-set-pin";
  ASSERT_CKR_OK(SetPin(s, kUserPin, new_pin));
  EXPECT_CKR_OK(Login(s, CKU_USER, new_pin));
}

TEST_F(PinTest, SoChangesSoPin) {
  CK_SESSION_HANDLE s = Open(slot_);
  ASSERT_CKR_OK(Login(s, CKU_SO, kSoPin));
  std::string new_pin = "changed-so-pin";
  ASSERT_CKR_OK(SetPin(s, kSoPin, new_pin));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, kSoPin));
  ASSERT_CKR_OK(Login(s, CKU_SO, new_pin));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin)) << "changing the SO PIN changed the user PIN";
}

TEST_F(PinTest, SetPinRejectsWrongOldPinBadLengthAndReadOnlySession) {
  CK_SESSION_HANDLE s = OpenUser(slot_);
  EXPECT_CKR(CKR_PIN_INCORRECT, SetPin(s, "not-the-old-pin", "whatever-new"));
  EXPECT_CKR(CKR_PIN_LEN_RANGE, SetPin(s, kUserPin, "abc"));
  EXPECT_CKR(CKR_PIN_LEN_RANGE, SetPin(s, kUserPin, std::string(300, 'n')));
  CK_SESSION_HANDLE ro = Open(slot_, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, SetPin(ro, kUserPin, "from-read-only"));
  ASSERT_CKR_OK(f_->C_Logout(s));
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin)) << "a refused C_SetPIN changed the PIN";
}

TEST_F(PinTest, LoginRejectsBadPinLengthWithoutCountingIt) {
  CK_SESSION_HANDLE s = Open(slot_);
  CK_RV rv = Login(s, CKU_USER, std::string(300, 'x'));
  EXPECT_CKR_ONE_OF(rv, {CKR_PIN_LEN_RANGE, CKR_PIN_INCORRECT});
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin));
}

class PinLockoutTest : public PinTest {
 protected:
  StoreOptions Options() const override {
    StoreOptions o;
    o.max_failed_logins = 3;
    return o;
  }
  void SetUp() override {
    SKIP_IF_SOFTHSM("SoftHSMv2 keeps no PIN failure counter (no lockout, no COUNT_LOW flags)");
    PinTest::SetUp();
  }
};

TEST_F(PinLockoutTest, UserPinCountsDownAndLocks) {
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-1"));
  CK_FLAGS flags = TokenFlags(slot_);
  EXPECT_TRUE(flags & CKF_USER_PIN_COUNT_LOW);
  EXPECT_FALSE(flags & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-2"));
  flags = TokenFlags(slot_);
  EXPECT_TRUE(flags & CKF_USER_PIN_FINAL_TRY);
  EXPECT_FALSE(flags & CKF_USER_PIN_LOCKED);
  EXPECT_CKR_ONE_OF(Login(s, CKU_USER, "wrong-pin-3"), {CKR_PIN_INCORRECT, CKR_PIN_LOCKED});
  EXPECT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_USER, kUserPin)) << "the right PIN after lockout";
  EXPECT_CKR(CKR_PIN_LOCKED, f_->C_SetPIN(s, U8(kUserPin), std::strlen(kUserPin),
                                          U8("new-pin-1234"), 12));
  // The SO is not affected by the user's lockout.
  EXPECT_FALSE(TokenFlags(slot_) & CKF_SO_PIN_LOCKED);
}

TEST_F(PinLockoutTest, SoUnlocksTheUserWithInitPin) {
  CK_SESSION_HANDLE s = Open(slot_);
  for (int i = 0; i < 3; ++i) (void)Login(s, CKU_USER, "wrong-pin");
  ASSERT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED);
  ASSERT_CKR_OK(Login(s, CKU_SO, kSoPin));
  std::string fresh = "fresh-user-pin";
  ASSERT_CKR_OK(f_->C_InitPIN(s, U8(fresh), fresh.size()));
  ASSERT_CKR_OK(f_->C_Logout(s));
  CK_FLAGS flags = TokenFlags(slot_);
  EXPECT_FALSE(flags & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW));
  EXPECT_CKR_OK(Login(s, CKU_USER, fresh));
}

TEST_F(PinLockoutTest, SuccessfulLoginResetsTheCounter) {
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-1"));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-2"));
  ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
  EXPECT_FALSE(TokenFlags(slot_) & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY));
  ASSERT_CKR_OK(f_->C_Logout(s));
  // Two more failures must not lock: the count restarted.
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-3"));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-4"));
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin));
}

TEST_F(PinLockoutTest, SoPinCountsDownAndLocks) {
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, "wrong-so-1"));
  EXPECT_TRUE(TokenFlags(slot_) & CKF_SO_PIN_COUNT_LOW);
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, "wrong-so-2"));
  EXPECT_TRUE(TokenFlags(slot_) & CKF_SO_PIN_FINAL_TRY);
  EXPECT_CKR_ONE_OF(Login(s, CKU_SO, "wrong-so-3"), {CKR_PIN_INCORRECT, CKR_PIN_LOCKED});
  EXPECT_TRUE(TokenFlags(slot_) & CKF_SO_PIN_LOCKED);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_SO, kSoPin));
  EXPECT_FALSE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED) << "the user is not affected";
  EXPECT_CKR_OK(Login(s, CKU_USER, kUserPin));
}

TEST_F(PinLockoutTest, LockoutSurvivesReinitialisation) {
  CK_SESSION_HANDLE s = Open(slot_);
  for (int i = 0; i < 3; ++i) (void)Login(s, CKU_USER, "wrong-pin");
  Reinitialize();
  EXPECT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED) << "the lock must be persistent";
  s = Open(slot_);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_USER, kUserPin));
}

}  // namespace
}  // namespace ferrohsm::abi
