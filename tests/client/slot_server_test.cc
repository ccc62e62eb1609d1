// The slot server's state machine, PIN chain and policies against the module under test.
#include <ferrohsm/client/slot_server.h>

#include <thread>

#include "support/fixtures.h"

using namespace fhc_test;
using namespace std::chrono_literals;

namespace {

class SlotServerTest : public ::testing::Test {
 protected:
  void SetUp() override { prepare_token(module_path()); }
  std::shared_ptr<fc::SlotServer> make(fc::SlotConfig c, int worker = 1) {
    return std::make_shared<fc::SlotServer>(std::make_shared<const fc::SlotConfig>(std::move(c)), worker, telemetry);
  }
  std::shared_ptr<fc::Telemetry> telemetry = std::make_shared<fc::Telemetry>();
};


TEST_F(SlotServerTest, StatesUninitializedOpenLoggedInAndBack) {
  auto s = make(slot_config("a", module_path()));
  EXPECT_EQ(s->status(), fc::SlotState::uninitialized);
  ASSERT_TRUE(s->start().ok());
  EXPECT_EQ(s->status(), fc::SlotState::open);
  ASSERT_TRUE(s->login(fc::Secret(kUserPin)).ok());
  EXPECT_EQ(s->status(), fc::SlotState::logged_in);
  ASSERT_TRUE(s->logout().ok());
  EXPECT_EQ(s->status(), fc::SlotState::open);
  s->shutdown();
  EXPECT_EQ(s->status(), fc::SlotState::terminated);
  auto after = s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().kind, fc::ErrorKind::shut_down);
}

TEST_F(SlotServerTest, SignsWithPerCallPinAndSignatureVerifies) {
  auto s = make(slot_config("a", module_path()));
  ASSERT_TRUE(s->start().ok());
  auto sig = s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(verify_with_token(module_path(), "client-test", "rsa-key", CKM_SHA256_RSA_PKCS, kData, *sig));
  auto ok = s->verify("signer", kData, *sig, mech(CKM_SHA256_RSA_PKCS));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(*ok);
  fc::Bytes tampered = *sig;
  tampered[10] ^= 1;
  auto bad = s->verify("signer", kData, tampered, mech(CKM_SHA256_RSA_PKCS));
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(*bad);
}

TEST_F(SlotServerTest, SignsWithEcdsa) {
  auto s = make(slot_config("a", module_path()));
  ASSERT_TRUE(s->start().ok());
  auto sig = s->sign("ec", kDigest, mech(CKM_ECDSA), fc::Secret(kUserPin));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(sig->size(), 64u);
  auto ok = s->verify("ec", kDigest, *sig, mech(CKM_ECDSA));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
}

TEST_F(SlotServerTest, PinChainPerCallThenCallbackThenError) {
  CountingPin counting;
  auto c = slot_config("a", module_path());
  auto no_pin = make(c);
  ASSERT_TRUE(no_pin->start().ok());
  auto none = no_pin->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, fc::ErrorKind::no_pin);
  no_pin->shutdown();

  c.pin_callback = counting.callback();
  auto s = make(c);
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin)).ok());
  EXPECT_EQ(*counting.calls, 0);  // the per-call PIN came first
  ASSERT_TRUE(s->logout().ok());
  ASSERT_TRUE(s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS)).ok());
  EXPECT_EQ(*counting.calls, 1);  // then the callback
  ASSERT_TRUE(s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS)).ok());
  EXPECT_EQ(*counting.calls, 1);  // logged in: no PIN needed
}

TEST_F(SlotServerTest, WrongPinIsReportedAndNotRetried) {
  auto s = make(slot_config("a", module_path()));
  ASSERT_TRUE(s->start().ok());
  auto r = s->login(fc::Secret("999999"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, fc::ErrorKind::pin_incorrect);
  EXPECT_EQ(r.rv(), CKR_PIN_INCORRECT);
  EXPECT_EQ(s->status(), fc::SlotState::open);
  EXPECT_TRUE(s->login(fc::Secret(kUserPin)).ok());
}

TEST_F(SlotServerTest, IdleTimeoutWithPromptLogsInAgainThroughTheCallback) {
  CountingPin counting;
  auto c = slot_config("a", module_path());
  c.pin_callback = counting.callback();
  c.idle_timeout = 50ms;
  c.reauthentication = fc::ReauthPolicy::prompt;
  auto rec = std::make_shared<Recorder>();
  telemetry->add_sink(rec);
  auto s = make(c);
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(s->login().ok());
  EXPECT_EQ(*counting.calls, 1);
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(s->status(), fc::SlotState::open);  // timeout → open; the session stays
  EXPECT_EQ(rec->count("slot.logout", "idle_timeout"), 1);
  auto sig = s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(*counting.calls, 2);
  EXPECT_EQ(rec->count("slot.reauth", "ok"), 1);
  EXPECT_EQ(s->status(), fc::SlotState::logged_in);
}

TEST_F(SlotServerTest, IdleTimeoutWithFailNeedsExplicitLogin) {
  CountingPin counting;
  auto c = slot_config("a", module_path());
  c.pin_callback = counting.callback();
  c.idle_timeout = 50ms;
  c.reauthentication = fc::ReauthPolicy::fail;
  auto s = make(c);
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(s->login().ok());
  std::this_thread::sleep_for(80ms);
  for (int i = 0; i < 2; ++i) {  // stays failed until the explicit login
    auto r = s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, fc::ErrorKind::reauth_required);
    EXPECT_NE(r.error().message.find("'fail'"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(*counting.calls, 1);  // the callback was not asked
  ASSERT_TRUE(s->login().ok());
  EXPECT_TRUE(s->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS)).ok());
}

TEST_F(SlotServerTest, UnknownKeyRefIsKeyNotFound) {
  auto s = make(slot_config("a", module_path()));
  ASSERT_TRUE(s->start().ok());
  auto r = s->sign("nope", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, fc::ErrorKind::key_not_found);
  auto c = slot_config("b", module_path());
  c.keys["ghost"] = "no-such-label";
  auto s2 = make(c);
  ASSERT_TRUE(s2->start().ok());
  auto g = s2->sign("ghost", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind, fc::ErrorKind::key_not_found);
  EXPECT_NE(g.error().message.find("no-such-label"), std::string::npos);
}

TEST_F(SlotServerTest, TokenSlotWithPoolIsRefusedAtStart) {
  auto c = slot_config("a", module_path());
  c.type = fc::SlotType::token;
  c.session_pool_size = 2;
  auto s = make(c);
  auto r = s->start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, fc::ErrorKind::config);
  EXPECT_NE(r.error().message.find("token slots cannot pool"), std::string::npos);
  EXPECT_EQ(s->status(), fc::SlotState::uninitialized);
}

TEST_F(SlotServerTest, WrongPinOnOneSlotLeavesAnotherSlotLoggedIn) {
  init_token(module_path(), "second");
  generate_key(module_path(), "second", "rsa-key", KeyType::rsa);
  auto a = make(slot_config("a", module_path(), "client-test"));
  auto b = make(slot_config("b", module_path(), "second"));
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(b->login(fc::Secret(kUserPin)).ok());
  auto wrong = a->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret("111111"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.rv(), CKR_PIN_INCORRECT);
  EXPECT_EQ(b->status(), fc::SlotState::logged_in);
  auto sig = b->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS));
  EXPECT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(a->sign("signer", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin)).ok());
}
}  // namespace
