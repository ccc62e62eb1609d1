// The pkcs11 provider rides on ferrohsm::client's slot servers: a pool of sessions that
// share one login, the PIN chain (the PIN file is read at every login) and the recovery
// ladder (a token that logged out is logged in again, closed sessions are reopened).
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/registry.h>
#include <ferrohsm/client/session.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/pkcs11_provider.h"
#include "support/pkcs11_fixture.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

class Pkcs11SlotServers : public Pkcs11Fixture {
 protected:
  // A provider with a recorder on its slot servers' telemetry, and one generated key.
  void open(const std::string& label, int sessions = 4) {
    auto p = Pkcs11Provider::open(settings_for(label, sessions));
    ASSERT_TRUE(p) << p.error().message;
    provider_ = std::move(*p);
    provider_->registry().telemetry().add_sink(rec_);
    auto gen = provider_->generate(kCtx, *Scope::parse("ladder"), *KeyId::parse("k1"));
    ASSERT_TRUE(gen) << gen.error().message;
    key_ = *gen;
  }
  // Signs through the provider and checks the signature with the published key.
  void sign_and_verify(const std::string& message) {
    Digest d = sha512_of(message);
    auto sig = provider_->sign(kCtx, key_.handle_id, d);
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_TRUE(ed25519::verify(key_.public_key, d, *sig));
  }

  std::unique_ptr<Pkcs11Provider> provider_;
  GeneratedKey key_;
  std::shared_ptr<EventRecorder> rec_ = std::make_shared<EventRecorder>();
};

// One session (a `token` slot): the ladder's steps show one by one.
TEST_F(Pkcs11SlotServers, LogsInAgainWhenTheTokenLoggedOut) {
  open("relogin", 1);
  ASSERT_NO_FATAL_FAILURE(sign_and_verify("before"));
  {
    // Login is per token: another session of this process logging out logs out the provider's too.
    auto other = user_session();
    ASSERT_TRUE(other);
    ASSERT_TRUE(other->logout());
  }
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(sign_and_verify("after " + std::to_string(i)));
  // The private key vanished while the token said "not logged in": CKR_USER_NOT_LOGGED_IN
  // to the ladder, which logged in again from the PIN file and ran the sign again.
  EXPECT_EQ(rec_->count("slot.recover", "ok", "reauthenticate"), 1);
  EXPECT_EQ(rec_->count("slot.reauth", "ok"), 1);
  EXPECT_EQ(rec_->count("slot.run", "ok"), 5);  // generate + 4 signs: no caller saw an error
}

TEST_F(Pkcs11SlotServers, ReopensASessionClosedUnderIt) {
  open("reopen", 1);
  ASSERT_NO_FATAL_FAILURE(sign_and_verify("before"));
  ASSERT_TRUE(test_token().module->close_all_sessions(test_token().slot));  // a token "restart"
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(sign_and_verify("after " + std::to_string(i)));
  EXPECT_EQ(rec_->count("slot.recover", "ok", "reopen_session"), 1);
  EXPECT_EQ(rec_->count("slot.reauth", "ok"), 1);  // closing every session logged the token out
  EXPECT_EQ(rec_->count("slot.run", "ok"), 5);
}

// A pool: every worker mends its own session; the token's login is restored once and shared.
TEST_F(Pkcs11SlotServers, EveryWorkerOfAPoolRecoversFromATokenRestart) {
  open("pool-restart", 4);
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(sign_and_verify("warm " + std::to_string(i)));
  ASSERT_TRUE(test_token().module->close_all_sessions(test_token().slot));
  for (int i = 0; i < 8; ++i) ASSERT_NO_FATAL_FAILURE(sign_and_verify("after " + std::to_string(i)));
  int reopened = rec_->count("slot.recover", "ok", "reopen_session");
  EXPECT_GE(reopened, 1);
  EXPECT_LE(reopened, 4);  // at most once per worker: a reopened session serves on
  EXPECT_GE(rec_->count("slot.reauth", "ok") + rec_->count("slot.login", "ok"), 1);
  EXPECT_EQ(rec_->count("slot.run", "ok"), 13);  // generate + 12 signs
}

TEST_F(Pkcs11SlotServers, ReadsThePinFileAgainAtEveryLogin) {
  open("pinfile", 1);
  ASSERT_NO_FATAL_FAILURE(sign_and_verify("old pin"));
  {
    auto session = user_session();
    ASSERT_TRUE(session);
    std::string old_pin = kTokenUserPin, new_pin = "98765";
    CK_RV rv = test_token().module->functions()->C_SetPIN(
        session->handle(), reinterpret_cast<CK_UTF8CHAR_PTR>(old_pin.data()), old_pin.size(),
        reinterpret_cast<CK_UTF8CHAR_PTR>(new_pin.data()), new_pin.size());
    ASSERT_EQ(rv, CKR_OK);
    std::ofstream(test_token().pin_file, std::ios::trunc) << new_pin << "\n";  // the secret mount is rotated
  }
  ASSERT_TRUE(test_token().module->close_all_sessions(test_token().slot));
  ASSERT_NO_FATAL_FAILURE(sign_and_verify("new pin"));
  EXPECT_EQ(rec_->count("slot.reauth", "ok"), 1);
}

TEST_F(Pkcs11SlotServers, APoolOfSessionsSharesOneLoginAndSignsConcurrently) {
  open("pool", 4);
  constexpr int kThreads = 8, kSignsPerThread = 12;
  std::atomic<int> verified{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignsPerThread; ++i) {
        Digest d = sha512_of("thread " + std::to_string(t) + " sign " + std::to_string(i));
        auto sig = provider_->sign(kCtx, key_.handle_id, d);
        if (sig && ed25519::verify(key_.public_key, d, *sig)) ++verified;
        else ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(verified.load(), kThreads * kSignsPerThread);
  std::set<int> workers;
  {
    std::lock_guard lock(rec_->mu);
    for (const auto& e : rec_->events)
      if (e.name == "slot.run" && e.mechanism == "CKM_EDDSA" && e.result == "ok") workers.insert(e.worker_index);
  }
  EXPECT_EQ(workers, (std::set<int>{1, 2, 3, 4}));
  // Worker 1 logged in at start; the others used the token's login and never asked for a PIN.
  EXPECT_EQ(rec_->count("slot.login"), 0);
  EXPECT_EQ(rec_->count("slot.reauth"), 0);
}

TEST_F(Pkcs11SlotServers, SessionCountIsChecked) {
  auto s = settings_for("bad", 0);
  auto p = Pkcs11Provider::open(s);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("--pkcs11-sessions"), std::string::npos);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
