// C_WaitForSlotEvent (PKCS#11 3.0 §5.5): a token created or deleted, here or by another
// process sharing the store, is a slot event, reported once; CKF_DONT_BLOCK answers
// CKR_NO_EVENT when nothing happened; C_Finalize wakes a blocked waiter, which answers
// CKR_CRYPTOKI_NOT_INITIALIZED. Every wait is bounded by the test.
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "fixture/child_process.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using namespace std::chrono_literals;

struct Answer {
  CK_RV rv = CKR_GENERAL_ERROR;
  CK_SLOT_ID slot = kNoSlot;
};

// One C_WaitForSlotEvent on a thread of its own.
class Waiter {
 public:
  Waiter(CK_FUNCTION_LIST_PTR f, CK_FLAGS flags) : answer_(done_.get_future()) {
    thread_ = std::thread([this, f, flags] {
      Answer a;
      a.rv = f->C_WaitForSlotEvent(flags, &a.slot, nullptr);
      done_.set_value(a);
    });
  }
  ~Waiter() {
    if (!thread_.joinable()) return;
    if (answer_.wait_for(0s) == std::future_status::ready) thread_.join();
    else thread_.detach();  // never answered (a failure already reported): do not hang the suite
  }
  bool Done(std::chrono::milliseconds within) { return answer_.wait_for(within) == std::future_status::ready; }
  Answer Get() {
    thread_.join();
    return answer_.get();
  }

 private:
  std::promise<Answer> done_;
  std::future<Answer> answer_;
  std::thread thread_;
};

class SlotEventTest : public ModuleTest {
 protected:
  CK_C_INITIALIZE_ARGS* InitArgs() override {
    args_ = CK_C_INITIALIZE_ARGS{};
    args_.flags = CKF_OS_LOCKING_OK;  // a waiting thread beside the test's own
    return &args_;
  }
  CK_RV Poll(CK_SLOT_ID* slot) { return f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, slot, nullptr); }
  // Waits for `w` at most `within`; if it is still blocked, C_Finalize releases it.
  Answer Collect(Waiter& w, std::chrono::milliseconds within) {
    if (!w.Done(within)) {
      ADD_FAILURE() << "C_WaitForSlotEvent did not return within " << within.count() << " ms";
      EXPECT_CKR_OK(f_->C_Finalize(nullptr));
      ForgetInitialized();
      if (!w.Done(5s)) return Answer{};
    }
    return w.Get();
  }

  CK_C_INITIALIZE_ARGS args_{};
};

TEST_F(SlotEventTest, ArgumentsAreChecked) {
  CK_SLOT_ID slot = kNoSlot;
  int reserved = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, nullptr, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, &reserved));
}

TEST_F(SlotEventTest, NothingHappenedIsNoEvent) {
  CK_SLOT_ID slot = kNoSlot;
  EXPECT_CKR(CKR_NO_EVENT, Poll(&slot));
  Slots();  // reading the slot list changes nothing
  EXPECT_CKR(CKR_NO_EVENT, Poll(&slot));
}

TEST_F(SlotEventTest, TokenCreatedHereIsReportedOnce) {
  CK_SLOT_ID created = InitTokenOnly("evt-here");
  ASSERT_NE(created, kNoSlot);
  CK_SLOT_ID slot = kNoSlot;
  ASSERT_CKR_OK(Poll(&slot));
  EXPECT_EQ(slot, created);
  EXPECT_CKR(CKR_NO_EVENT, Poll(&slot)) << "an event is reported once";
}

TEST_F(SlotEventTest, PendingEventEndsABlockingWaitAtOnce) {
  CK_SLOT_ID created = InitTokenOnly("evt-pending");
  ASSERT_NE(created, kNoSlot);
  Waiter w(f_, 0);
  Answer a = Collect(w, 2s);
  EXPECT_CKR_OK(a.rv);
  EXPECT_EQ(a.slot, created);
}

TEST_F(SlotEventTest, BlockingWaitSeesATokenCreatedByAnotherProcess) {
  Waiter w(f_, 0);
  EXPECT_FALSE(w.Done(300ms)) << "the wait returned with nothing to report";
  setenv("FERROHSM_TEST_SO_PIN", kSoPin, 1);
  pid_t pid = SpawnHelper({GetModule().path, "init-token", "evt-child", "-"});
  ASSERT_GT(pid, 0) << "cannot start " << ChildHelperPath();
  ASSERT_EQ(WaitChild(pid, 60), 0) << "abi_child_helper failed (see its stderr)";
  Answer a = Collect(w, 10s);
  ASSERT_CKR_OK(a.rv);
  EXPECT_EQ(a.slot, SlotByLabel("evt-child"));
  CK_SLOT_ID slot = kNoSlot;
  EXPECT_CKR(CKR_NO_EVENT, Poll(&slot));
}

TEST_F(SlotEventTest, TokenDeletedByAnotherProcessIsAnEvent) {
  SKIP_IF_SOFTHSM("tokens are deleted with FerroHSM's CLI");
  CK_SLOT_ID slot = InitTokenOnly("evt-deleted");
  ASSERT_NE(slot, kNoSlot);
  CK_SLOT_ID seen = kNoSlot;
  ASSERT_CKR_OK(Poll(&seen));  // the creation
  ASSERT_CKR(CKR_NO_EVENT, Poll(&seen));
  Waiter w(f_, 0);
  setenv("FERROHSM_SO_PIN", kSoPin, 1);
  pid_t pid = SpawnProgram(FERROHSM_CLI_PATH, {"token", "delete", "--token", "evt-deleted"});
  ASSERT_GT(pid, 0) << "cannot start " << FERROHSM_CLI_PATH;
  ASSERT_EQ(WaitChild(pid, 60), 0) << "ferrohsm token delete failed (see its stderr)";
  unsetenv("FERROHSM_SO_PIN");
  Answer a = Collect(w, 10s);
  ASSERT_CKR_OK(a.rv);
  EXPECT_EQ(a.slot, slot);
  CK_TOKEN_INFO info{};
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetTokenInfo(slot, &info));
}

TEST_F(SlotEventTest, FinalizeWakesABlockedWaiter) {
  Waiter w(f_, 0);
  ASSERT_FALSE(w.Done(300ms)) << "the wait returned with nothing to report";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  ASSERT_TRUE(w.Done(5s)) << "C_Finalize did not wake the waiting thread";
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, w.Get().rv);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(SlotEventTest, BeforeInitializeIsNotInitialized) {
  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  CK_SLOT_ID slot = kNoSlot;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, Poll(&slot));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_WaitForSlotEvent(0, &slot, nullptr));
}

}  // namespace
}  // namespace ferrohsm::abi
