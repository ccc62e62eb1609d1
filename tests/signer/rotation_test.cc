// The rotation state machine over SQLite, with the test double as the provider.
#include <gtest/gtest.h>

#include <thread>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/rotation_service.h"
#include "ferrohsm/signer/rotation_store.h"
#include "ferrohsm/signer/state_listener.h"
#include "support/reference.h"
#include "support/test_double_provider.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

class Rotation : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    service_.reset();
    store_.reset();
    auto s = RotationStore::open(dir_.file("signer.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    service_ = std::make_unique<RotationService>(provider_, *store_);
    ASSERT_TRUE(service_->load());
  }
  KeyState state_of(const Scope& scope, const KeyId& id) {
    for (const auto& k : service_->keys(scope))
      if (k.key_id == id) return k.state;
    ADD_FAILURE() << "no key " << id.str();
    return KeyState::kRetired;
  }
  PublicKey public_of(const Scope& scope, const KeyId& id) {
    for (const auto& k : service_->keys(scope))
      if (k.key_id == id) return k.public_key;
    return {};
  }

  TempDir dir_;
  TestDoubleProvider provider_;
  std::unique_ptr<RotationStore> store_;
  std::unique_ptr<RotationService> service_;
};

TEST_F(Rotation, FullLifecycleSignsWithTheKeyItReports) {
  auto first = service_->generate(kCtx, S("pay"), K("v1"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->state, KeyState::kActive);
  Digest d = sha512_of("m1");
  auto s1 = service_->sign(kCtx, S("pay"), d);
  ASSERT_TRUE(s1);
  EXPECT_EQ(s1->key_id.str(), "v1");
  EXPECT_TRUE(ed25519::verify(first->public_key, d, s1->signature));

  auto pending = service_->open(kCtx, S("pay"), K("v2"));
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->state, KeyState::kPending);
  EXPECT_EQ(service_->sign(kCtx, S("pay"), d)->key_id.str(), "v1");  // pending does not sign yet

  auto active = service_->activate(kCtx, S("pay"));
  ASSERT_TRUE(active);
  EXPECT_EQ(active->key_id.str(), "v2");
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetiring);
  auto s2 = service_->sign(kCtx, S("pay"), d);
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->key_id.str(), "v2");
  EXPECT_TRUE(ed25519::verify(pending->public_key, d, s2->signature));

  auto closed = service_->close(kCtx, S("pay"));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->key_id.str(), "v1");
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetired);
  ASSERT_EQ(provider_.count(Method::kRetire), 1u);
  EXPECT_EQ(provider_.calls().back().target, first->handle_id);

  // The states survive a restart (SQLite is the record).
  reopen();
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetired);
  EXPECT_EQ(state_of(S("pay"), K("v2")), KeyState::kActive);
  EXPECT_EQ(public_of(S("pay"), K("v2")), pending->public_key);
  EXPECT_EQ(service_->sign(kCtx, S("pay"), d)->key_id.str(), "v2");
}

TEST_F(Rotation, GuardRefusesBeforeTheProviderIsConsulted) {
  ASSERT_TRUE(service_->generate(kCtx, S("pay"), K("v1")));
  ASSERT_TRUE(service_->open(kCtx, S("pay"), K("v2")));
  provider_.clear_calls();
  struct Case {
    const char* key;
    ErrorKind kind;
  } pending_cases[] = {{"v2", ErrorKind::kInvalidState}, {"v9", ErrorKind::kKeyNotFound}};
  for (const auto& c : pending_cases) {
    auto r = service_->sign(kCtx, S("pay"), sha512_of("x"), K(c.key));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, c.kind) << c.key;
  }
  ASSERT_TRUE(service_->activate(kCtx, S("pay"), K("v2")));
  auto retiring = service_->sign(kCtx, S("pay"), sha512_of("x"), K("v1"));
  ASSERT_FALSE(retiring);
  EXPECT_EQ(retiring.error().kind, ErrorKind::kKeyRetired);
  ASSERT_TRUE(service_->close(kCtx, S("pay"), K("v1")));
  auto retired = service_->sign(kCtx, S("pay"), sha512_of("x"), K("v1"));
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().kind, ErrorKind::kKeyRetired);
  auto none = service_->sign(kCtx, S("empty"), sha512_of("x"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::kNoActiveKey);
  EXPECT_NE(none.error().message.find("no active signing key"), std::string::npos);
  EXPECT_EQ(provider_.count(Method::kSign), 0u);
  EXPECT_TRUE(service_->sign(kCtx, S("pay"), sha512_of("x"), K("v2")));
  EXPECT_EQ(provider_.count(Method::kSign), 1u);
}

TEST_F(Rotation, OneOpenRotationPerScopeAndTransitionsCheckState) {
  ASSERT_TRUE(service_->generate(kCtx, S("pay"), K("v1")));
  auto again = service_->generate(kCtx, S("pay"), K("v1b"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kInvalidState);
  auto nothing_pending = service_->activate(kCtx, S("pay"));
  ASSERT_FALSE(nothing_pending);
  EXPECT_EQ(nothing_pending.error().kind, ErrorKind::kInvalidState);
  auto nothing_retiring = service_->close(kCtx, S("pay"));
  ASSERT_FALSE(nothing_retiring);
  EXPECT_EQ(nothing_retiring.error().kind, ErrorKind::kInvalidState);

  ASSERT_TRUE(service_->open(kCtx, S("pay"), K("v2")));
  auto second_open = service_->open(kCtx, S("pay"));
  ASSERT_FALSE(second_open);
  EXPECT_EQ(second_open.error().kind, ErrorKind::kRotationInProgress);
  auto wrong = service_->activate(kCtx, S("pay"), K("v1"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::kInvalidState);
  ASSERT_TRUE(service_->activate(kCtx, S("pay"), K("v2")));
  // Still open until close: the retiring key blocks a new rotation.
  auto while_retiring = service_->open(kCtx, S("pay"));
  ASSERT_FALSE(while_retiring);
  EXPECT_EQ(while_retiring.error().kind, ErrorKind::kRotationInProgress);
  ASSERT_TRUE(service_->close(kCtx, S("pay")));
  auto next = service_->open(kCtx, S("pay"));  // generated key id
  ASSERT_TRUE(next);
  EXPECT_EQ(next->key_id.str().front(), 'k');
  auto dup = service_->open(kCtx, S("other"), K("v1"));
  ASSERT_TRUE(dup);  // key ids are per scope
  auto counts = service_->state_counts();
  EXPECT_EQ(counts[static_cast<int>(KeyState::kPending)], 2u);
  EXPECT_EQ(counts[static_cast<int>(KeyState::kActive)], 1u);
  EXPECT_EQ(counts[static_cast<int>(KeyState::kRetired)], 1u);
}

TEST_F(Rotation, ProviderFailuresSurfaceAndLeaveStateUntouched) {
  ASSERT_TRUE(service_->generate(kCtx, S("pay"), K("v1")));
  provider_.inject_failure(Method::kGenerate, ErrorKind::kProviderUnavailable);
  auto open = service_->open(kCtx, S("pay"), K("v2"));
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_EQ(service_->keys(S("pay")).size(), 1u);
  provider_.clear_failure(Method::kGenerate);

  provider_.inject_failure(Method::kGenerate, ErrorKind::kRotationInProgress);
  auto busy = service_->open(kCtx, S("pay"), K("v2"));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().kind, ErrorKind::kRotationInProgress);
  provider_.clear_failure(Method::kGenerate);

  ASSERT_TRUE(service_->open(kCtx, S("pay"), K("v2")));
  ASSERT_TRUE(service_->activate(kCtx, S("pay")));
  provider_.inject_failure(Method::kRetire, ErrorKind::kProviderUnavailable);
  auto close = service_->close(kCtx, S("pay"));
  ASSERT_FALSE(close);
  EXPECT_EQ(close.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetiring);
  provider_.clear_failure(Method::kRetire);
  ASSERT_TRUE(service_->close(kCtx, S("pay")));
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetired);

  provider_.inject_failure(Method::kSign, ErrorKind::kProviderUnavailable);
  auto sig = service_->sign(kCtx, S("pay"), sha512_of("x"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_EQ(provider_.count(Method::kSign), 1u);  // tried once, not retried
}

TEST_F(Rotation, StoreEnforcesOneActiveKeyPerScope) {
  auto now = std::int64_t{1700000000};
  SigningKey a{S("pay"), K("a"), "testdouble", "h-a", {}, KeyState::kActive, now, now};
  SigningKey b{S("pay"), K("b"), "testdouble", "h-b", {}, KeyState::kActive, now, now};
  ASSERT_TRUE(store_->insert(a));
  auto second = store_->insert(b);
  ASSERT_FALSE(second);
  auto dup = store_->insert(a);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, ErrorKind::kInvalidState);
  auto not_pending = store_->activate(S("pay"), K("a"), now);
  ASSERT_FALSE(not_pending);
  EXPECT_EQ(not_pending.error().kind, ErrorKind::kInvalidState);
  auto all = store_->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, KeyState::kActive);  // the failed activate rolled back
}

TEST_F(Rotation, KeysOfAnotherProviderAreRefused) {
  auto now = std::int64_t{1700000000};
  SigningKey foreign{S("pay"), K("a"), "software", "software:pay|a", {}, KeyState::kActive, now, now};
  ASSERT_TRUE(store_->insert(foreign));
  reopen();
  auto r = service_->sign(kCtx, S("pay"), sha512_of("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidState);
  EXPECT_NE(r.error().message.find("'software'"), std::string::npos);
  EXPECT_EQ(provider_.count(Method::kSign), 0u);
}

}  // namespace
}  // namespace ferrohsm::signer::testing

namespace ferrohsm::signer::testing {
namespace {

// Keys another replica made or moved reach the cache through refresh(); the guard then
// judges by them.
TEST_F(Rotation, RefreshTakesKeysAndStatesAnotherReplicaWrote) {
  ASSERT_TRUE(service_->generate(kCtx, S("pay"), K("v1")));
  TestDoubleProvider other_provider;
  RotationService other(other_provider, *store_);  // a second replica on the same store
  ASSERT_TRUE(other.load());
  ASSERT_TRUE(other.open(kCtx, S("pay"), K("v2")));
  ASSERT_TRUE(other.activate(kCtx, S("pay")));
  EXPECT_EQ(service_->sign(kCtx, S("pay"), sha512_of("m"))->key_id.str(), "v1");  // not told yet
  ASSERT_TRUE(service_->refresh([&] { return store_->load_all(); }));
  EXPECT_EQ(state_of(S("pay"), K("v1")), KeyState::kRetiring);
  EXPECT_EQ(state_of(S("pay"), K("v2")), KeyState::kActive);
  auto refused = service_->sign(kCtx, S("pay"), sha512_of("m"), K("v1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kKeyRetired);
  EXPECT_EQ(service_->keys(S("pay")).size(), 2u);
  auto failed = service_->refresh([]() -> Result<std::vector<SigningKey>> { return Error::state_unavailable("gone"); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(state_of(S("pay"), K("v2")), KeyState::kActive);  // a failed read changes nothing
}

// The guard fails closed while the shared state is unconfirmed: never read, lost, or
// not confirmed within max_staleness.
TEST_F(Rotation, UnconfirmedSharedStateRefusesSigningAndSaysWhy) {
  ASSERT_TRUE(service_->generate(kCtx, S("pay"), K("v1")));
  StateFreshness freshness(std::chrono::milliseconds(80));
  service_->set_freshness(&freshness);
  auto never = service_->sign(kCtx, S("pay"), sha512_of("m"));
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().kind, ErrorKind::kStateUnavailable);
  freshness.confirm();
  EXPECT_TRUE(service_->sign(kCtx, S("pay"), sha512_of("m")));
  EXPECT_TRUE(service_->state_status());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto stale = service_->sign(kCtx, S("pay"), sha512_of("m"));
  ASSERT_FALSE(stale);
  EXPECT_NE(stale.error().message.find("last confirmed"), std::string::npos) << stale.error().message;
  freshness.confirm();
  EXPECT_TRUE(service_->sign(kCtx, S("pay"), sha512_of("m")));
  freshness.lose("lost the connection to the state database");
  auto lost = service_->sign(kCtx, S("pay"), sha512_of("m"));
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().kind, ErrorKind::kStateUnavailable);
  EXPECT_NE(lost.error().message.find("lost the connection"), std::string::npos) << lost.error().message;
  EXPECT_FALSE(service_->state_status());
  service_->set_freshness(nullptr);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
