// The KeyProvider contract suite on aws-kms and gcp-kms over their fakes, then what a
// cloud custodian adds: throttling, 5xx and slow answers retried inside the deadline,
// a key deleted or disabled behind the adapter's back, credentials that expire early,
// and logs that never show a key or a token.
#include <gtest/gtest.h>

#include "ferrohsm/signer/ed25519.h"
#include "support/cloud_rig.h"
#include "support/provider_contract.h"

namespace ferrohsm::signer::testing {
namespace {

using namespace std::chrono_literals;

ProviderFactory cloud_factory(std::string name, std::function<std::unique_ptr<CloudRig>()> make_rig) {
  ProviderFactory f;
  f.name = std::move(name);
  f.make = [make_rig]() -> std::unique_ptr<KeyProvider> { return std::make_unique<RigProvider>(make_rig()); };
  f.import_key = [](KeyProvider& p, const Scope& scope, const KeyId& key_id,
                    std::span<const std::uint8_t, 32> seed) -> std::optional<GeneratedKey> {
    return static_cast<RigProvider&>(p).rig().import_key(scope, key_id, seed);
  };
  return f;
}

std::vector<ProviderFactory> cloud_factories() {
  std::vector<ProviderFactory> out;
#if FERROHSM_SIGNER_WITH_AWS_KMS
  out.push_back(cloud_factory("aws_kms", make_aws_rig));
#endif
#if FERROHSM_SIGNER_WITH_GCP_KMS
  out.push_back(cloud_factory("gcp_kms", make_gcp_rig));
#endif
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cloud, ProviderContract, ::testing::ValuesIn(cloud_factories()), factory_name);

struct RigCase {
  std::string name;
  std::function<std::unique_ptr<CloudRig>()> make;
};
void PrintTo(const RigCase& c, std::ostream* os) { *os << c.name; }

class CloudResilience : public ::testing::TestWithParam<RigCase> {
 protected:
  void SetUp() override {
    rig_ = GetParam().make();
    auto g = p().generate(Context::background(), *Scope::parse("payments"), *KeyId::parse("k1"));
    ASSERT_TRUE(g) << g.error().message;
    key_ = *g;
  }
  KeyProvider& p() { return rig_->provider(); }
  Result<Signature> sign(const Context& ctx = Context::background()) {
    return p().sign(ctx, key_.handle_id, sha512_of("resilience"));
  }
  std::unique_ptr<CloudRig> rig_;
  GeneratedKey key_;
};

TEST_P(CloudResilience, ThrottlingAndServerErrorsAreRetried) {
  rig_->fake().inject(rig_->throttle(), 2, rig_->sign_path());
  rig_->fake().inject(rig_->server_error(), 1, rig_->sign_path());
  int before = rig_->fake().faults_served();
  auto sig = sign();
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(ed25519::verify(key_.public_key, sha512_of("resilience"), *sig));
  EXPECT_EQ(rig_->fake().faults_served() - before, 3);
}

TEST_P(CloudResilience, PersistentThrottlingIsProviderUnavailableAfterBoundedAttempts) {
  rig_->fake().inject(rig_->throttle(), 100, rig_->sign_path());
  int before = rig_->fake().faults_served();
  auto sig = sign();
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(sig.error().message.find("gave up after 4 attempts"), std::string::npos) << sig.error().message;
  EXPECT_EQ(rig_->fake().faults_served() - before, 4);
}

TEST_P(CloudResilience, PersistentServerErrorsAreProviderUnavailable) {
  rig_->fake().inject(rig_->server_error(), 100, rig_->sign_path());
  auto sig = sign();
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kProviderUnavailable);
}

TEST_P(CloudResilience, ASlowAnswerTimesOutAndIsTriedAgain) {
  Fault slow;
  slow.delay = 1200ms;  // the rig's attempt timeout is 400 ms
  slow.then_route = true;
  rig_->fake().inject(slow, 1, rig_->sign_path());
  auto start = Context::Clock::now();
  auto sig = sign();
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_LT(Context::Clock::now() - start, 1100ms);  // did not wait for the slow answer
}

TEST_P(CloudResilience, TimeoutsUpToTheDeadlineAreProviderUnavailable) {
  Fault slow;
  slow.delay = 1500ms;
  slow.then_route = true;
  rig_->fake().inject(slow, 100, rig_->sign_path());
  auto start = Context::Clock::now();
  auto sig = sign(Context::with_timeout(600ms));
  auto took = Context::Clock::now() - start;
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kProviderUnavailable) << sig.error().message;
  EXPECT_LT(took, 1000ms) << "the call outlived its deadline";
}

TEST_P(CloudResilience, ADeletedKeyIsKeyNotFound) {
  rig_->delete_key(key_.handle_id);
  auto sig = sign();
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kKeyNotFound) << sig.error().message;
  auto retired = p().retire(Context::background(), key_.handle_id);
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().kind, ErrorKind::kKeyNotFound);
}

TEST_P(CloudResilience, ADisabledKeyIsKeyNotFound) {
  rig_->disable_key(key_.handle_id);
  auto sig = sign();
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kKeyNotFound) << sig.error().message;
  EXPECT_NE(sig.error().message.find("disabled"), std::string::npos) << sig.error().message;
}

TEST_P(CloudResilience, ExpiredCredentialsAreFetchedAgain) {
  int fetches = rig_->credential_fetches();
  rig_->expire_credentials();
  auto sig = sign();
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(rig_->credential_fetches(), fetches + 1);
  ASSERT_TRUE(sign());  // the new ones are kept
  EXPECT_EQ(rig_->credential_fetches(), fetches + 1);
}

TEST_P(CloudResilience, LogsNeverShowSecrets) {
  LogCapture logs;
  rig_->expire_credentials();
  rig_->fake().inject(rig_->throttle(), 100, rig_->sign_path());
  EXPECT_FALSE(sign());
  rig_->delete_key(key_.handle_id);
  EXPECT_FALSE(sign());
  std::string text = logs.text();
  EXPECT_NE(text.find("attempt 1/4 failed"), std::string::npos) << text;  // the service's message is logged
  for (const auto& secret : rig_->secrets()) EXPECT_EQ(text.find(secret), std::string::npos) << secret;
}

std::vector<RigCase> rig_cases() {
  std::vector<RigCase> out;
#if FERROHSM_SIGNER_WITH_AWS_KMS
  out.push_back({"aws_kms", make_aws_rig});
#endif
#if FERROHSM_SIGNER_WITH_GCP_KMS
  out.push_back({"gcp_kms", make_gcp_rig});
#endif
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cloud, CloudResilience, ::testing::ValuesIn(rig_cases()),
                         [](const ::testing::TestParamInfo<RigCase>& i) { return i.param.name; });

}  // namespace
}  // namespace ferrohsm::signer::testing
