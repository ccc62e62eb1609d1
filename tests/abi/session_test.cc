// Sessions: C_OpenSession / C_CloseSession / C_CloseAllSessions / C_GetSessionInfo.
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class SessionTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
  }
  CK_SLOT_ID slot_ = kNoSlot;
};

TEST_F(SessionTest, SerialSessionFlagIsRequired) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED, f_->C_OpenSession(slot_, 0, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED,
             f_->C_OpenSession(slot_, CKF_RW_SESSION, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, nullptr));
}

TEST_F(SessionTest, SessionInfoStatesFollowLogin) {
  CK_SESSION_HANDLE ro = Open(slot_, false);
  CK_SESSION_HANDLE rw = Open(slot_, true);
  EXPECT_EQ(SessionState(ro), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(SessionState(rw), CKS_RW_PUBLIC_SESSION);
  ASSERT_CKR_OK(Login(rw, CKU_USER, kUserPin));
  // Login state belongs to the application: every session sees it.
  EXPECT_EQ(SessionState(ro), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(SessionState(rw), CKS_RW_USER_FUNCTIONS);
  CK_SESSION_HANDLE later = Open(slot_, true);
  EXPECT_EQ(SessionState(later), CKS_RW_USER_FUNCTIONS);
  ASSERT_CKR_OK(f_->C_Logout(ro));
  EXPECT_EQ(SessionState(rw), CKS_RW_PUBLIC_SESSION);
  ASSERT_CKR_OK(f_->C_CloseSession(ro));
  ASSERT_CKR_OK(Login(rw, CKU_SO, kSoPin));
  EXPECT_EQ(SessionState(rw), CKS_RW_SO_FUNCTIONS);
  EXPECT_EQ(SessionState(later), CKS_RW_SO_FUNCTIONS);
}

TEST_F(SessionTest, SessionInfoFields) {
  CK_SESSION_HANDLE rw = Open(slot_, true);
  CK_SESSION_HANDLE ro = Open(slot_, false);
  CK_SESSION_INFO info{};
  ASSERT_CKR_OK(f_->C_GetSessionInfo(rw, &info));
  EXPECT_EQ(info.slotID, slot_);
  EXPECT_TRUE(info.flags & CKF_SERIAL_SESSION);
  EXPECT_TRUE(info.flags & CKF_RW_SESSION);
  ASSERT_CKR_OK(f_->C_GetSessionInfo(ro, &info));
  EXPECT_TRUE(info.flags & CKF_SERIAL_SESSION);
  EXPECT_FALSE(info.flags & CKF_RW_SESSION);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSessionInfo(rw, nullptr));
}

TEST_F(SessionTest, ClosedAndUnknownHandlesAreInvalid) {
  CK_SESSION_HANDLE s = Open(slot_);
  ASSERT_CKR_OK(f_->C_CloseSession(s));
  CK_SESSION_INFO info{};
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &info));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(s));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(0x7fff1234, &info));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, Login(s, CKU_USER, kUserPin));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_Logout(s));
}

TEST_F(SessionTest, HandlesAreNotReusedAfterClose) {
  CK_SESSION_HANDLE first = Open(slot_);
  ASSERT_CKR_OK(f_->C_CloseSession(first));
  CK_SESSION_HANDLE second = Open(slot_);
  CK_SESSION_INFO info{};
  if (second == first) {
    // Reuse is legal, but then the handle must be live again.
    EXPECT_CKR_OK(f_->C_GetSessionInfo(first, &info));
  } else {
    EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(first, &info));
  }
}

TEST_F(SessionTest, CloseAllSessionsClosesOnlyThatSlot) {
  CK_SLOT_ID other = InitToken("other-token");
  ASSERT_NE(other, kNoSlot);
  if (IsSoftHsm()) {
    // SoftHSMv2 numbers the new slot only after re-enumeration.
    Reinitialize();
    other = SlotByLabel("other-token");
    slot_ = SlotByLabel(kTokenLabel);
    ASSERT_NE(other, kNoSlot);
  }
  CK_SESSION_HANDLE a = Open(slot_), b = Open(slot_, false), c = Open(other);
  ASSERT_CKR_OK(f_->C_CloseAllSessions(slot_));
  CK_SESSION_INFO info{};
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(a, &info));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(b, &info));
  EXPECT_CKR_OK(f_->C_GetSessionInfo(c, &info));
  EXPECT_EQ(info.slotID, other);
  EXPECT_CKR_OK(f_->C_CloseAllSessions(slot_)) << "no sessions left is not an error";
}

TEST_F(SessionTest, ClosingTheLastSessionLogsOut) {
  CK_SESSION_HANDLE a = OpenUser(slot_);
  CK_SESSION_HANDLE b = Open(slot_);
  ASSERT_CKR_OK(f_->C_CloseSession(a));
  EXPECT_EQ(SessionState(b), CKS_RW_USER_FUNCTIONS) << "another session is still open";
  ASSERT_CKR_OK(f_->C_CloseSession(b));
  CK_SESSION_HANDLE c = Open(slot_);
  EXPECT_EQ(SessionState(c), CKS_RW_PUBLIC_SESSION) << "closing the last session must log out";
}

TEST_F(SessionTest, CloseAllSessionsLogsOut) {
  OpenUser(slot_);
  ASSERT_CKR_OK(f_->C_CloseAllSessions(slot_));
  CK_SESSION_HANDLE s = Open(slot_);
  EXPECT_EQ(SessionState(s), CKS_RW_PUBLIC_SESSION);
}

TEST_F(SessionTest, FinalizeInvalidatesSessions) {
  CK_SESSION_HANDLE s = OpenUser(slot_);
  Reinitialize();
  slot_ = SlotByLabel(kTokenLabel);  // SoftHSMv2 renumbers slots at C_Initialize
  CK_SESSION_INFO info{};
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &info));
  CK_SESSION_HANDLE fresh = Open(slot_);
  EXPECT_EQ(SessionState(fresh), CKS_RW_PUBLIC_SESSION) << "login must not survive C_Finalize";
}

}  // namespace
}  // namespace ferrohsm::abi
