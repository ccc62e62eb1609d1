// The PIN lockout cannot be outrun: processes and threads that try wrong PINs at the
// same moment get, all together, exactly max_failed_logins answers of
// CKR_PIN_INCORRECT; every other attempt answers CKR_PIN_LOCKED. The PBKDF2 is made
// slow enough (200,000 iterations) that concurrent attempts overlap during the
// derivation: a counter read before the derivation and written after it lost counts
// there (issue 11, finding 2). Each path that checks a PIN is raced: C_Login (user and
// SO), C_SetPIN and the context-specific login.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixture/attributes.h"
#include "fixture/child_process.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

constexpr int kMaxFailed = 10;

struct Tally {
  std::atomic<int> incorrect{0};
  std::atomic<int> locked{0};
  std::atomic<int> other{0};
  void Count(CK_RV rv) {
    if (rv == CKR_PIN_INCORRECT) ++incorrect;
    else if (rv == CKR_PIN_LOCKED) ++locked;
    else ++other;
  }
};

class PinRaceTest : public ModuleTest {
 protected:
  StoreOptions Options() const override {
    StoreOptions o;
    o.max_failed_logins = kMaxFailed;
    o.kdf_iterations = 200000;
    return o;
  }
  CK_C_INITIALIZE_ARGS* InitArgs() override {
    args_ = CK_C_INITIALIZE_ARGS{};
    args_.flags = CKF_OS_LOCKING_OK;
    return &args_;
  }
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
  }

  // Runs `threads` threads, released together; thread i runs attempt(i, j) for j < tries.
  template <typename Attempt>
  void RunThreads(int threads, int tries, Attempt attempt) {
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        for (int j = 0; j < tries; ++j) attempt(i, j);
      });
    }
    go = true;
    for (auto& t : pool) t.join();
  }

  CK_C_INITIALIZE_ARGS args_{};
  CK_SLOT_ID slot_ = kNoSlot;
};

TEST_F(PinRaceTest, ProcessesTogetherGetExactlyTheLimit) {
  constexpr int kProcesses = 6, kTries = 5;
  setenv("FERROHSM_TEST_USER_PIN", kUserPin, 1);
  // Every child waits for the same wall-clock moment, after its C_Initialize.
  long long start = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() +
                    2000;
  std::vector<std::pair<pid_t, int>> children;
  for (int i = 0; i < kProcesses; ++i) {
    int fd = -1;
    pid_t pid = SpawnHelper({GetModule().path, "guess", kTokenLabel, std::to_string(kTries),
                             std::to_string(start)},
                            &fd);
    ASSERT_GT(pid, 0) << "cannot start " << ChildHelperPath();
    children.emplace_back(pid, fd);
  }
  int incorrect = 0, locked = 0, other = 0;
  for (auto [pid, fd] : children) {
    EXPECT_EQ(WaitChild(pid, 120), 0) << "abi_child_helper failed (see its stderr)";
    std::istringstream out(ReadAll(fd));
    int a = -1, b = -1, c = -1;
    out >> a >> b >> c;
    ASSERT_GE(a, 0) << "no tally from a child";
    incorrect += a;
    locked += b;
    other += c;
  }
  EXPECT_EQ(incorrect, kMaxFailed) << "wrong PINs evaluated across " << kProcesses << " processes";
  EXPECT_EQ(locked, kProcesses * kTries - kMaxFailed);
  EXPECT_EQ(other, 0);
  // And from this process too, even with the right PIN.
  CK_SESSION_HANDLE s = Open(slot_, false);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_USER, kUserPin));
  EXPECT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED);
}

TEST_F(PinRaceTest, LoginAndSetPinThreadsTogetherGetExactlyTheLimit) {
  constexpr int kThreads = 8, kTries = 4;
  std::vector<CK_SESSION_HANDLE> sessions;
  for (int i = 0; i < kThreads; ++i) sessions.push_back(Open(slot_, true));
  Tally tally;
  RunThreads(kThreads, kTries, [&](int i, int j) {
    std::string wrong = "wrong-pin-" + std::to_string(i) + "-" + std::to_string(j);
    std::string fresh = "new-user-pin-1234";
    if (i % 2 == 0) {
      tally.Count(f_->C_Login(sessions[i], CKU_USER, U8(wrong), wrong.size()));
    } else {
      tally.Count(f_->C_SetPIN(sessions[i], U8(wrong), wrong.size(), U8(fresh), fresh.size()));
    }
  });
  EXPECT_EQ(tally.incorrect.load(), kMaxFailed);
  EXPECT_EQ(tally.locked.load(), kThreads * kTries - kMaxFailed);
  EXPECT_EQ(tally.other.load(), 0);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(sessions[0], CKU_USER, kUserPin));
  EXPECT_FALSE(TokenFlags(slot_) & CKF_SO_PIN_LOCKED) << "the SO is not affected";
}

TEST_F(PinRaceTest, SoLoginThreadsTogetherGetExactlyTheLimit) {
  constexpr int kThreads = 6, kTries = 4;
  std::vector<CK_SESSION_HANDLE> sessions;
  for (int i = 0; i < kThreads; ++i) sessions.push_back(Open(slot_, true));
  Tally tally;
  RunThreads(kThreads, kTries, [&](int i, int j) {
    std::string wrong = "wrong-so-" + std::to_string(i) + "-" + std::to_string(j);
    tally.Count(f_->C_Login(sessions[i], CKU_SO, U8(wrong), wrong.size()));
  });
  EXPECT_EQ(tally.incorrect.load(), kMaxFailed);
  EXPECT_EQ(tally.locked.load(), kThreads * kTries - kMaxFailed);
  EXPECT_EQ(tally.other.load(), 0);
  EXPECT_CKR(CKR_PIN_LOCKED, Login(sessions[0], CKU_SO, kSoPin));
  EXPECT_TRUE(TokenFlags(slot_) & CKF_SO_PIN_LOCKED);
}

TEST_F(PinRaceTest, ContextSpecificLoginThreadsTogetherGetExactlyTheLimit) {
  constexpr int kThreads = 6, kTries = 4;
  CK_SESSION_HANDLE first = OpenUser(slot_);
  ASSERT_NE(first, CK_INVALID_HANDLE);
  KeyOptions o{.token = true, .always_authenticate = true};
  KeyPair key = GenerateEc(f_, first, "P-256", o);
  ASSERT_CKR_OK(key.rv);
  std::vector<CK_SESSION_HANDLE> sessions;
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  for (int i = 0; i < kThreads; ++i) {
    sessions.push_back(Open(slot_, false));
    ASSERT_CKR_OK(f_->C_SignInit(sessions.back(), &m, key.priv));
  }
  Tally tally;
  RunThreads(kThreads, kTries, [&](int i, int j) {
    std::string wrong = "wrong-ctx-" + std::to_string(i) + "-" + std::to_string(j);
    tally.Count(f_->C_Login(sessions[i], CKU_CONTEXT_SPECIFIC, U8(wrong), wrong.size()));
  });
  EXPECT_EQ(tally.incorrect.load(), kMaxFailed);
  EXPECT_EQ(tally.locked.load(), kThreads * kTries - kMaxFailed);
  EXPECT_EQ(tally.other.load(), 0);
  EXPECT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED);
}

}  // namespace
}  // namespace ferrohsm::abi
