// C_Finalize while other threads are inside calls (issue 11, finding 8). The
// specification leaves the outcome undefined, but the library must not touch freed
// memory: every call of a thread that races with C_Finalize either finishes
// (CKR_OK) or answers CKR_CRYPTOKI_NOT_INITIALIZED. AddressSanitizer and
// ThreadSanitizer judge the rest. Rounds are bounded in count and time.
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRounds = 12;
constexpr int kThreads = 4;
constexpr auto kTestBudget = std::chrono::seconds(60);
// After a thread has seen CKR_CRYPTOKI_NOT_INITIALIZED it makes this many more calls,
// each of which must answer the same.
constexpr int kCallsAfterFinalize = 20;
constexpr int kMaxCallsPerThread = 200000;

class FinalizeRaceTest : public TokenTest {
 protected:
  CK_C_INITIALIZE_ARGS* InitArgs() override {
    args_ = CK_C_INITIALIZE_ARGS{};
    args_.flags = CKF_OS_LOCKING_OK;
    return &args_;
  }

  void Record(const char* what, CK_RV rv) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 20) failures_.push_back(std::string(what) + " answered " + CkrName(rv));
    ++failure_count_;
  }

  // Signs, and asks for session info, until the module answers
  // CKR_CRYPTOKI_NOT_INITIALIZED; then checks that it keeps saying so.
  void Hammer(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, std::atomic<int>& started) {
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    uint8_t digest[32];
    std::memset(digest, 0x5a, sizeof digest);
    int after = -1;  // calls left after finalize was first seen
    bool counted = false;
    for (int i = 0; i < kMaxCallsPerThread && after != 0; ++i) {
      CK_RV rvs[3];
      rvs[0] = f_->C_SignInit(s, &m, key);
      rvs[1] = CKR_CRYPTOKI_NOT_INITIALIZED;
      if (rvs[0] == CKR_OK) {
        uint8_t sig[128];
        CK_ULONG len = sizeof sig;
        rvs[1] = f_->C_Sign(s, digest, sizeof digest, sig, &len);
      }
      CK_SESSION_INFO info{};
      rvs[2] = f_->C_GetSessionInfo(s, &info);
      static const char* kWhat[] = {"C_SignInit", "C_Sign", "C_GetSessionInfo"};
      for (int k = 0; k < 3; ++k) {
        const bool finalized = after >= 0;
        if (rvs[k] == CKR_CRYPTOKI_NOT_INITIALIZED) {
          if (after < 0) after = kCallsAfterFinalize;
        } else if (rvs[k] != CKR_OK || finalized) {
          Record(kWhat[k], rvs[k]);
        }
      }
      if (!counted && rvs[0] == CKR_OK) {
        counted = true;
        started.fetch_add(1);
      }
      if (after > 0) --after;
    }
    if (after != 0) Record("a thread never saw C_Finalize; last call", CKR_OK);
  }

  CK_C_INITIALIZE_ARGS args_{};
  std::mutex mu_;
  std::vector<std::string> failures_;
  int failure_count_ = 0;
};

TEST_F(FinalizeRaceTest, CallsRacingFinalizeFinishOrAnswerNotInitialized) {
  KeyOptions o;
  o.token = true;
  KeyPair ec = GenerateEc(f_, session_, "P-256", o);
  ASSERT_CKR_OK(ec.rv);
  const auto deadline = Clock::now() + kTestBudget;
  int rounds = 0;
  for (int round = 0; round < kRounds && Clock::now() < deadline; ++round, ++rounds) {
    if (round > 0) {  // the fixture's session logged the user in for round 0
      ASSERT_CKR_OK(f_->C_Initialize(InitArgs()));
      MarkInitialized();
      ASSERT_NE(OpenUser(slot_), CK_INVALID_HANDLE);
    }
    std::vector<CK_SESSION_HANDLE> sessions;
    for (int t = 0; t < kThreads; ++t) sessions.push_back(Open(slot_, false));
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([this, &sessions, &started, t, &ec] { Hammer(sessions[t], ec.priv, started); });
    // Finalize once every thread is signing, after a delay that differs per round.
    const auto wait_until = Clock::now() + std::chrono::seconds(10);
    while (started.load() < kThreads && Clock::now() < wait_until) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200 * round));
    EXPECT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
    for (auto& t : threads) t.join();
    EXPECT_EQ(started.load(), kThreads) << "round " << round << ": not every thread got to sign";
  }
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(failure_count_, 0) << [&] {
    std::string all;
    for (const auto& f : failures_) all += f + "\n";
    return all;
  }();
  EXPECT_GE(rounds, 3) << "too few rounds ran within the time budget";
  // Leave the module initialised for TearDown.
  ASSERT_CKR_OK(f_->C_Initialize(InitArgs()));
  MarkInitialized();
}

}  // namespace
}  // namespace ferrohsm::abi
