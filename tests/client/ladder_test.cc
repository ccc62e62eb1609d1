// Every rung of the recovery ladder, the key-handle cache and the single-session token,
// driven through the fault-injecting module over the module under test.
#include <ferrohsm/client/registry.h>

#include <thread>

#include "support/fixtures.h"

using namespace fhc_test;
using namespace std::chrono_literals;

namespace {

class LadderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_token(fault_module_path());
    telemetry->add_sink(rec);
  }
  fc::SlotConfig config(fc::ReauthPolicy policy = fc::ReauthPolicy::prompt) {
    auto c = slot_config("faulty", fault_module_path());
    c.pin_callback = pin.callback();
    c.reauthentication = policy;
    return c;
  }
  std::shared_ptr<fc::SlotServer> started(fc::SlotConfig c) {
    auto s = std::make_shared<fc::SlotServer>(std::make_shared<const fc::SlotConfig>(std::move(c)), 1, telemetry);
    auto r = s->start();
    EXPECT_TRUE(r.ok()) << r.error().message;
    fault_reset();
    return s;
  }
  fc::Result<fc::Bytes> sign(fc::SlotServer& s) { return s.sign("signer", kData, mech(CKM_SHA256_RSA_PKCS)); }
  bool verifies(const fc::Bytes& sig) {
    return verify_with_token(fault_module_path(), "client-test", "rsa-key", CKM_SHA256_RSA_PKCS, kData, sig);
  }

  CountingPin pin;
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  std::shared_ptr<fc::Telemetry> telemetry = std::make_shared<fc::Telemetry>();
};


TEST_F(LadderTest, SessionClosedReopensAndTheBrokenSessionIsGone) {
  auto s = started(config());
  ASSERT_TRUE(s->login().ok());
  fault_set("close_session_every", 3);
  for (int i = 0; i < 6; ++i) {
    auto sig = sign(*s);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(verifies(*sig));
  }
  EXPECT_EQ(fault_get("faults"), 2);
  EXPECT_EQ(rec->count("slot.recover", "ok", "reopen_session"), 2);
  EXPECT_EQ(fault_get("open_sessions"), 1);  // the closed one is not kept anywhere
}

TEST_F(LadderTest, SessionHandleInvalidAfterTokenRestartReopensAndLogsInAgain) {
  auto s = started(config());
  ASSERT_TRUE(s->login().ok());
  ASSERT_TRUE(sign(*s).ok());
  fault_close_all();  // every session gone, and with them the login
  auto sig = sign(*s);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verifies(*sig));
  EXPECT_EQ(rec->count("slot.recover", "ok", "reopen_session"), 1);
  EXPECT_EQ(rec->count("slot.reauth", "ok"), 1);
  EXPECT_EQ(*pin.calls, 2);
}

TEST_F(LadderTest, UserNotLoggedInWithPromptReauthenticates) {
  auto s = started(config(fc::ReauthPolicy::prompt));
  ASSERT_TRUE(s->login().ok());
  fault_set("logout_every", 2);
  for (int i = 0; i < 4; ++i) {
    auto sig = sign(*s);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
  }
  EXPECT_GE(rec->count("slot.recover", "ok", "reauthenticate"), 1);
  EXPECT_EQ(rec->count("slot.recover", "ok", "reauthenticate"), rec->count("slot.reauth", "ok"));
  EXPECT_EQ(fault_get("faults"), rec->count("slot.reauth", "ok"));
}

TEST_F(LadderTest, UserNotLoggedInWithFailReportsUntilExplicitLogin) {
  auto s = started(config(fc::ReauthPolicy::fail));
  ASSERT_TRUE(s->login().ok());
  int asked = *pin.calls;
  fault_set("logout_every", 1);
  auto r = sign(*s);
  fault_set("logout_every", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, fc::ErrorKind::reauth_required);
  EXPECT_EQ(s->status(), fc::SlotState::open);
  EXPECT_EQ(sign(*s).error().kind, fc::ErrorKind::reauth_required);
  EXPECT_EQ(*pin.calls, asked);  // `fail` never prompts
  ASSERT_TRUE(s->login(fc::Secret(kUserPin)).ok());
  auto sig = sign(*s);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verifies(*sig));
}

TEST_F(LadderTest, DeviceErrorsReinitialiseWithBackoff) {
  auto s = started(config());
  ASSERT_TRUE(s->login().ok());
  for (CK_RV rv : {CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR}) {
    fault_set("device_fail_rv", static_cast<long>(rv));
    fault_set("device_fail_calls", 2);  // the sign and the first re-initialisation attempt
    auto sig = sign(*s);
    ASSERT_TRUE(sig.ok()) << rv << ": " << sig.error().message;
    EXPECT_TRUE(verifies(*sig));
    EXPECT_FALSE(s->failed());
  }
  EXPECT_EQ(rec->count("slot.recover", "ok", "reinitialize"), 3);
}

TEST_F(LadderTest, DeviceGoneBeyondBackoffIsReportedAndTheRegistryRestartsTheWorker) {
  fc::Registry reg(telemetry);
  auto c = config();
  ASSERT_TRUE(reg.start({c}).ok());
  ASSERT_TRUE(reg.login("faulty").ok());
  fault_set("device_fail_calls", 1000);
  auto start = std::chrono::steady_clock::now();
  auto r = reg.sign("faulty", "signer", kData, mech(CKM_SHA256_RSA_PKCS));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, fc::ErrorKind::device_unavailable);
  EXPECT_NE(r.error().message.find("gave up after 4 attempts"), std::string::npos) << r.error().message;
  EXPECT_GE(took, 5ms + 10ms + 20ms + 40ms);  // the bounded backoff really waited
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(reg.find("faulty", 1)->failed());
  fault_set("device_fail_calls", 0);
  auto sig = reg.sign("faulty", "signer", kData, mech(CKM_SHA256_RSA_PKCS));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(reg.restarts(), 1u);
  EXPECT_EQ(rec->count("slot.recover", "ok", "restart"), 1);
}

TEST_F(LadderTest, RefusedPinIsReportedOnceWithoutRetry) {
  auto s = started(config());
  fault_set("refuse_logins", 1);
  auto r = sign(*s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rv(), CKR_PIN_INCORRECT);
  EXPECT_EQ(fault_get("logins"), 1);
  EXPECT_EQ(rec->count("slot.login", "CKR_PIN_INCORRECT"), 1);
  EXPECT_TRUE(sign(*s).ok());  // the next call asks the chain again
}

TEST_F(LadderTest, KeyHandlesAreCachedPerSessionAndDroppedWithIt) {
  auto s = started(config());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sign(*s).ok());
  EXPECT_EQ(fault_get("find_inits"), 1);  // one lookup, not one per signature
  EXPECT_EQ(s->cached_key_count(), 1u);
  fault_close_all();
  ASSERT_TRUE(sign(*s).ok());
  EXPECT_EQ(fault_get("find_inits"), 2);  // the new session looked the key up again
}

TEST_F(LadderTest, SingleSessionTokenKeepsItsOneSessionThroughRecovery) {
  auto s = started(config());
  fault_set("max_sessions", 1);
  fault_set("close_session_every", 2);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(sign(*s).ok());
  EXPECT_EQ(fault_get("open_sessions"), 1);
  auto second = std::make_shared<fc::SlotServer>(std::make_shared<const fc::SlotConfig>(config()), 1, telemetry);
  auto r = second->start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rv(), CKR_SESSION_COUNT);
  EXPECT_NE(r.error().message.find("CKR_SESSION_COUNT"), std::string::npos);
}

TEST_F(LadderTest, CallsOnOneWorkerSerialise) {
  auto s = started(config());
  ASSERT_TRUE(s->login().ok());
  fault_set("slow_sign_ms", 60);
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] { EXPECT_TRUE(sign(*s).ok()); });
  EXPECT_TRUE(sign(*s).ok());
  t.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 120ms);
}
}  // namespace
