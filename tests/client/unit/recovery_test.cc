#include <ferrohsm/client/recovery.h>
#include <gtest/gtest.h>

#include <set>

namespace fc = ferrohsm::client;

TEST(RecoveryLadder, EachCodeHasItsStep) {
  EXPECT_EQ(fc::recovery_step(CKR_SESSION_HANDLE_INVALID), fc::RecoveryStep::reopen_session);
  EXPECT_EQ(fc::recovery_step(CKR_SESSION_CLOSED), fc::RecoveryStep::reopen_session);
  EXPECT_EQ(fc::recovery_step(CKR_USER_NOT_LOGGED_IN), fc::RecoveryStep::reauthenticate);
  EXPECT_EQ(fc::recovery_step(CKR_DEVICE_REMOVED), fc::RecoveryStep::reinitialize);
  EXPECT_EQ(fc::recovery_step(CKR_TOKEN_NOT_PRESENT), fc::RecoveryStep::reinitialize);
  EXPECT_EQ(fc::recovery_step(CKR_DEVICE_ERROR), fc::RecoveryStep::reinitialize);
  EXPECT_EQ(fc::recovery_step(CKR_PIN_INCORRECT), fc::RecoveryStep::report_pin);
  EXPECT_EQ(fc::recovery_step(CKR_KEY_HANDLE_INVALID), fc::RecoveryStep::refind_key);
  EXPECT_EQ(fc::recovery_step(CKR_MECHANISM_INVALID), fc::RecoveryStep::none);
}

TEST(RecoveryLadder, TableHasNoDuplicateCodes) {
  std::set<CK_RV> seen;
  for (const auto& rung : fc::recovery_ladder()) {
    EXPECT_TRUE(seen.insert(rung.rv).second) << rung.rv;
    EXPECT_STRNE(fc::recovery_step_name(rung.step), "unknown");
  }
}
