// aws-kms's own rules over FakeAwsKms: ARN handles, aliases, key states, the credential
// sources (environment, shared file, web identity) and their failures.
#include <gtest/gtest.h>

#include "base/bytes.h"
#include "fakes/fake_aws_kms.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "ferrohsm/signer/ed25519.h"
#include "support/cloud_rig.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

class AwsKms : public ::testing::Test {
 protected:
  AwsKmsSettings settings(std::map<std::string, std::string> env) {
    AwsKmsSettings s;
    s.region = FakeAwsKms::kRegion;
    s.endpoint = fake_.url();
    s.sts_endpoint = fake_.url();
    s.http.attempt_timeout_ms = 1000;
    s.http.backoff_base_ms = 5;
    s.http.backoff_max_ms = 20;
    s.env = [env](const std::string& k) -> std::optional<std::string> {
      auto it = env.find(k);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return s;
  }
  std::unique_ptr<KeyProvider> with_env_keys() {
    fake_.add_credentials("AKIDSTATIC", "static-secret-key-0123456789");
    auto p = make_aws_kms_provider(settings({{"AWS_ACCESS_KEY_ID", "AKIDSTATIC"},
                                             {"AWS_SECRET_ACCESS_KEY", "static-secret-key-0123456789"}}));
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  }
  TempDir dir_;
  FakeAwsKms fake_;
};

TEST_F(AwsKms, HandleIsTheKeyArnAndTheAliasFindsItAgain) {
  auto p = with_env_keys();
  ASSERT_TRUE(p);
  auto gen = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_TRUE(gen->handle_id.starts_with("arn:aws:kms:eu-west-1:111122223333:key/")) << gen->handle_id;
  EXPECT_EQ(fake_.alias_target("alias/ferrohsm/payments_2eeu/k_5f1"), gen->handle_id);
  auto again = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->handle_id, gen->handle_id);
  EXPECT_EQ(fake_.calls("CreateKey"), 1);
  // Retire schedules the deletion (30 days by default); the key is then retired for generate and sign.
  ASSERT_TRUE(p->retire(kCtx, gen->handle_id));
  EXPECT_EQ(fake_.state_of(gen->handle_id), "PendingDeletion");
  auto retired = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().kind, ErrorKind::kKeyRetired);
}

TEST_F(AwsKms, ForeignHandlesAndKeysAreRefused) {
  auto p = with_env_keys();
  ASSERT_TRUE(p);
  for (std::string h : {"alias/ferrohsm/payments/k1", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                        "arn:aws:kms:eu-west-1:111122223333:alias/x", "1234abcd-12ab-34cd-56ef-1234567890ab"}) {
    auto sig = p->sign(kCtx, h, sha512_of("x"));
    ASSERT_FALSE(sig) << h;
    EXPECT_EQ(sig.error().kind, ErrorKind::kKeyNotFound) << h;
  }
  fake_.add_foreign_key("alias/ferrohsm/payments/rsa", "RSA_2048");
  auto rsa = p->generate(kCtx, S("payments"), K("rsa"));
  ASSERT_FALSE(rsa);
  EXPECT_EQ(rsa.error().kind, ErrorKind::kNotSupported);
  EXPECT_NE(rsa.error().message.find("RSA_2048"), std::string::npos);
}

TEST_F(AwsKms, StaticCredentialsThatExpiredAreProviderUnavailable) {
  fake_.add_credentials("ASIAOLD", "old-secret-0123456789", "old-session-token-abcdef",
                        std::chrono::system_clock::now() - std::chrono::minutes(1));
  auto p = make_aws_kms_provider(settings({{"AWS_ACCESS_KEY_ID", "ASIAOLD"},
                                           {"AWS_SECRET_ACCESS_KEY", "old-secret-0123456789"},
                                           {"AWS_SESSION_TOKEN", "old-session-token-abcdef"}}));
  ASSERT_TRUE(p) << p.error().message;
  LogCapture logs;
  auto gen = (*p)->generate(kCtx, S("payments"), K("k1"));
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(gen.error().message.find("ExpiredTokenException"), std::string::npos) << gen.error().message;
  std::string text = logs.text() + gen.error().message;
  EXPECT_EQ(text.find("old-secret-0123456789"), std::string::npos);
  EXPECT_EQ(text.find("old-session-token-abcdef"), std::string::npos);
}

TEST_F(AwsKms, WrongSecretIsRefusedByTheSignatureCheck) {
  fake_.add_credentials("AKIDSTATIC", "the-real-secret");
  auto p = make_aws_kms_provider(settings({{"AWS_ACCESS_KEY_ID", "AKIDSTATIC"}, {"AWS_SECRET_ACCESS_KEY", "not-it"}}));
  ASSERT_TRUE(p);
  auto gen = (*p)->generate(kCtx, S("payments"), K("k1"));
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(gen.error().message.find("InvalidSignatureException"), std::string::npos) << gen.error().message;
}

TEST_F(AwsKms, SharedCredentialsFileAndProfile) {
  fake_.add_credentials("AKIDFILE", "file-secret");
  std::string ini = "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n\n"
                    "[signer]\n# the signer's keys\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n";
  write_file(dir_.file("credentials"), as_bytes(ini));
  auto p = make_aws_kms_provider(
      settings({{"AWS_SHARED_CREDENTIALS_FILE", dir_.file("credentials")}, {"AWS_PROFILE", "signer"}}));
  ASSERT_TRUE(p) << p.error().message;
  auto gen = (*p)->generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  auto sig = (*p)->sign(kCtx, gen->handle_id, sha512_of("file"));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(ed25519::verify(gen->public_key, sha512_of("file"), *sig));
}

TEST_F(AwsKms, WebIdentityTokenIsExchangedWithSts) {
  std::string token = "eyJ.web.identity";
  write_file(dir_.file("token"), as_bytes(token));
  fake_.allow_web_identity(token, "arn:aws:iam::111122223333:role/signer", std::chrono::hours(1));
  auto p = make_aws_kms_provider(settings({{"AWS_WEB_IDENTITY_TOKEN_FILE", dir_.file("token")},
                                           {"AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/signer"}}));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE((*p)->generate(kCtx, S("payments"), K("k1")));
  ASSERT_TRUE((*p)->generate(kCtx, S("payments"), K("k2")));
  EXPECT_EQ(fake_.sts_exchanges(), 1);  // cached until shortly before they expire
  auto wrong_role = make_aws_kms_provider(settings({{"AWS_WEB_IDENTITY_TOKEN_FILE", dir_.file("token")},
                                                    {"AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/other"}}));
  ASSERT_TRUE(wrong_role);
  auto refused = (*wrong_role)->generate(kCtx, S("payments"), K("k1"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("InvalidIdentityToken"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find(token), std::string::npos);
}

TEST_F(AwsKms, WiringErrorsAreClear) {
  auto none = make_aws_kms_provider(settings({{"HOME", dir_.path()}}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("found no AWS credentials"), std::string::npos) << none.error().message;
  auto s = settings({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}});
  s.region.clear();
  auto no_region = make_aws_kms_provider(s);
  ASSERT_FALSE(no_region);
  EXPECT_NE(no_region.error().message.find("region"), std::string::npos);
  s = settings({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}});
  s.endpoint = "http://kms.example.com";
  EXPECT_FALSE(make_aws_kms_provider(s));
  s = settings({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}});
  s.deletion_window_days = 3;
  EXPECT_FALSE(make_aws_kms_provider(s));
  s = settings({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}, {"AWS_REGION", "us-east-2"}});
  s.region.clear();
  s.endpoint.clear();
  auto defaults = make_aws_kms_provider(s);
  EXPECT_TRUE(defaults) << defaults.error().message;  // https://kms.us-east-2.amazonaws.com, not contacted
}

}  // namespace
}  // namespace ferrohsm::signer::testing
