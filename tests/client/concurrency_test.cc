// 8 threads sign through a pooled slot while the fault module drops sessions and logs
// the token out. Runs under ThreadSanitizer (label `concurrency`).
#include <ferrohsm/client/registry.h>

#include <thread>

#include "support/fixtures.h"

using namespace fhc_test;
using namespace std::chrono_literals;

namespace {

constexpr int kThreads = 8;
constexpr int kSignsPerThread = 30;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_token(fault_module_path());
    telemetry->add_sink(rec);
  }
  fc::SlotConfig pooled(fc::ReauthPolicy policy) {
    auto c = slot_config("pooled", fault_module_path());
    c.type = fc::SlotType::pool;
    c.session_pool_size = 4;
    c.pin_callback = pin.callback();
    c.reauthentication = policy;
    return c;
  }
  CountingPin pin;
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  std::shared_ptr<fc::Telemetry> telemetry = std::make_shared<fc::Telemetry>();
};


TEST_F(ConcurrencyTest, EightThreadsSignThroughFaultsWithPrompt) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({pooled(fc::ReauthPolicy::prompt)}).ok());
  ASSERT_TRUE(reg.login("pooled").ok());
  fault_reset();
  fault_set("close_session_every", 7);
  fault_set("logout_every", 11);

  std::vector<std::vector<fc::Bytes>> sigs(kThreads);
  std::vector<std::string> errors[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignsPerThread; ++i) {
        auto sig = reg.sign("pooled", "ec", kDigest, mech(CKM_ECDSA));
        if (sig.ok()) {
          sigs[t].push_back(std::move(sig).value());
        } else {
          errors[t].push_back(sig.error().message);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  fault_set("close_session_every", 0);
  fault_set("logout_every", 0);

  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(errors[t].empty()) << "thread " << t << ": " << errors[t].front();
    ASSERT_EQ(sigs[t].size(), static_cast<std::size_t>(kSignsPerThread));
    for (const auto& s : sigs[t]) EXPECT_TRUE(verify_with_token(fault_module_path(), "client-test", "ec-key",
                                                                CKM_ECDSA, kDigest, s));
  }
  long faults = fault_get("faults");
  EXPECT_GT(faults, 10);
  // Every injected fault was met by a ladder step, and every step succeeded. (A logout is
  // seen by every worker's session, so there can be more steps than faults.)
  EXPECT_GE(rec->count("slot.recover", "ok"), faults);
  EXPECT_EQ(rec->count("slot.recover"), rec->count("slot.recover", "ok"));
  EXPECT_EQ(rec->count("slot.sign", "ok"), kThreads * kSignsPerThread);
  EXPECT_LE(fault_get("open_sessions"), 4);  // broken sessions never went back into the pool
  reg.stop_all();
  EXPECT_EQ(fault_get("open_sessions"), 0);
}

TEST_F(ConcurrencyTest, EightThreadsWithFailPolicyReportAndRecoverAfterLogin) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({pooled(fc::ReauthPolicy::fail)}).ok());
  ASSERT_TRUE(reg.login("pooled").ok());
  fault_reset();
  fault_set("logout_every", 13);

  std::atomic<int> ok{0}, reported{0}, other{0};
  std::mutex sigs_mu;
  std::vector<fc::Bytes> sigs;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kSignsPerThread; ++i) {
        auto sig = reg.sign("pooled", "ec", kDigest, mech(CKM_ECDSA));
        if (sig.ok()) {
          ++ok;
          std::lock_guard lock(sigs_mu);
          sigs.push_back(std::move(sig).value());
        } else if (sig.error().kind == fc::ErrorKind::reauth_required) {
          ++reported;
          (void)reg.login("pooled", fc::Secret(kUserPin));  // the operator's explicit login
        } else {
          if (++other == 1) ADD_FAILURE() << "unexpected error: " << sig.error().message;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  fault_set("logout_every", 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok + reported, kThreads * kSignsPerThread);
  EXPECT_GT(reported.load(), 0);
  EXPECT_EQ(rec->count("slot.reauth"), 0);  // `fail` never logs in by itself
  for (const auto& s : sigs) EXPECT_TRUE(verify_with_token(fault_module_path(), "client-test", "ec-key",
                                                           CKM_ECDSA, kDigest, s));
  ASSERT_TRUE(reg.login("pooled", fc::Secret(kUserPin)).ok());
  EXPECT_TRUE(reg.sign("pooled", "ec", kDigest, mech(CKM_ECDSA)).ok());
}
}  // namespace
