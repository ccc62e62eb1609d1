// The built daemon with --key-provider=aws-kms over the loopback KMS fake (in this test
// process): the same curl commands as on the other providers — generate, sign, rotation
// open/activate/close — every signature verified by openssl, and the published JWKS key
// turned into a PEM here and checked by openssl against a signature the daemon made.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "fakes/fake_aws_kms.h"
#include "base/base64.h"
#include "support/daemon_driver.h"

namespace ferrohsm::signer::testing {
namespace {

using nlohmann::json;

constexpr const char* kAccessKey = "ASIAE2EEXAMPLE";
constexpr const char* kSecret = "e2e/secret+access/key0123456789";
constexpr const char* kSessionToken = "FwoGZXIvYXdzEE2E-session-token-0123456789";

// RFC 8037 OKP "x" (base64url) → SubjectPublicKeyInfo PEM, written out here (not the daemon's).
std::string pem_of_jwk_x(const std::string& x) {
  std::string b64 = x;
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4) b64 += '=';
  auto raw = from_base64(b64);
  EXPECT_TRUE(raw && raw->size() == 32);
  if (!raw) return {};
  std::vector<std::uint8_t> der = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  der.insert(der.end(), raw->begin(), raw->end());
  return "-----BEGIN PUBLIC KEY-----\n" + to_base64(der) + "\n-----END PUBLIC KEY-----\n";
}

class DaemonAwsKms : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.add_credentials(kAccessKey, kSecret, kSessionToken, std::chrono::system_clock::now() + std::chrono::hours(1));
  }
  std::vector<std::string> args() const {
    return {"--key-provider=aws-kms", "--aws-region", FakeAwsKms::kRegion, "--aws-kms-endpoint", fake_.url()};
  }
  std::map<std::string, std::string> env() const {
    return {{"AWS_ACCESS_KEY_ID", kAccessKey}, {"AWS_SECRET_ACCESS_KEY", kSecret}, {"AWS_SESSION_TOKEN", kSessionToken},
            {"AWS_SHARED_CREDENTIALS_FILE", dir_.file("no-credentials")}};
  }
  TempDir dir_;
  FakeAwsKms fake_;
};

TEST_F(DaemonAwsKms, RotationSigningAndOpensslVerifiesTheJwksKey) {
  std::string first, second;
  std::string arn_prefix = std::string("arn:aws:kms:") + FakeAwsKms::kRegion + ":" + FakeAwsKms::kAccount + ":key/";
  {
    Daemon daemon(FERROHSM_SIGNER_BIN, dir_, args(), env());
    ASSERT_TRUE(daemon.up()) << daemon.log();
    auto live = daemon.curl_json("GET", "/livez", 200, "");
    EXPECT_EQ(live["provider"], "aws-kms");
    EXPECT_EQ(live["dev_only"], false);
    std::map<std::string, std::string> handles;
    std::tie(first, second) = rotate_and_verify(daemon, dir_, [&](const std::string& handle, const std::string& key_id) {
      EXPECT_TRUE(handle.starts_with(arn_prefix)) << handle;  // the key ARN, never an alias
      handles[key_id] = handle;
    });
    EXPECT_EQ(fake_.state_of(handles[first]), "PendingDeletion");  // close → ScheduleKeyDeletion
    EXPECT_EQ(fake_.state_of(handles[second]), "Enabled");
    EXPECT_EQ(fake_.alias_target("alias/ferrohsm/payments/" + second), handles[second]);

    // The JWKS key, made into a PEM here, verifies a signature the daemon makes with it.
    auto jwks = daemon.curl_json("GET", "/v1/jwks", 200, "");
    ASSERT_EQ(jwks["keys"].size(), 1u);
    const json& jwk = jwks["keys"][0];
    EXPECT_EQ(jwk["kty"], "OKP");
    EXPECT_EQ(jwk["crv"], "Ed25519");
    EXPECT_EQ(jwk["kid"], second);
    std::string pem = pem_of_jwk_x(jwk["x"]);
    write_file(dir_.file("jwk.pem"), as_bytes(pem));
    Digest d = sha512_of("signed through AWS KMS");
    auto sig = daemon.curl_json("POST", "/v1/scopes/payments/sign", 200, json{{"digest", to_base64(d)}}.dump());
    EXPECT_EQ(sig["key_id"], second);
    auto sig_bytes = from_base64(sig.value("signature", ""));
    ASSERT_TRUE(sig_bytes);
    write_file(dir_.file("digest.bin"), d);
    write_file(dir_.file("sig.bin"), *sig_bytes);
    auto ok = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir_.file("jwk.pem"), "-rawin", "-in",
                           dir_.file("digest.bin"), "-sigfile", dir_.file("sig.bin")});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("Signature Verified Successfully"), std::string::npos) << ok.out;
    EXPECT_GE(fake_.calls("Sign"), 5);

    EXPECT_EQ(daemon.stop(), 0);
    std::string log = daemon.log();
    EXPECT_EQ(log.find("dev-only"), std::string::npos) << log;
    EXPECT_EQ(log.find(kSecret), std::string::npos) << log;
    EXPECT_EQ(log.find(kSessionToken), std::string::npos) << log;
  }
  ASSERT_FALSE(HasFailure());
  // A restart on the same state signs with the active key through KMS again.
  Daemon again(FERROHSM_SIGNER_BIN, dir_, args(), env());
  ASSERT_TRUE(again.up()) << again.log();
  EXPECT_EQ(sign_and_verify_with_openssl(again, dir_, "payments", "after restart"), second);
}

TEST_F(DaemonAwsKms, AnOutageIsA503AndTheKeyKeepsWorkingAfterwards) {
  Daemon daemon(FERROHSM_SIGNER_BIN, dir_, {"--key-provider=aws-kms", "--aws-region", FakeAwsKms::kRegion,
                                            "--aws-kms-endpoint", fake_.url(), "--cloud-max-attempts", "2"},
                env());
  ASSERT_TRUE(daemon.up()) << daemon.log();
  daemon.curl_json("POST", "/v1/scopes/payments/keys", 201);
  fake_.inject({500, "application/x-amz-json-1.1", R"({"__type":"KMSInternalException","message":"internal"})",
                {{"x-amzn-ErrorType", "KMSInternalException"}}},
               2);
  auto down = daemon.curl_json("POST", "/v1/scopes/payments/sign", 503, json{{"digest", to_base64(sha512_of("x"))}}.dump());
  EXPECT_EQ(down["error"]["kind"], "provider_unavailable");
  sign_and_verify_with_openssl(daemon, dir_, "payments", "after the outage");
}

TEST(DaemonCloudProviders, ListProvidersSaysWhatEachSupports) {
  auto list = run_command({FERROHSM_SIGNER_BIN, "--list-providers"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (std::string line : {"aws-kms   available", "gcp-kms   available", "azure-kv  available"})
    EXPECT_NE(list.out.find(line), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("ECC_NIST_EDWARDS25519"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("EC_SIGN_ED25519"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("Key Vault offers no Ed25519"), std::string::npos) << list.out;
}

TEST(DaemonCloudProviders, AzureKvStartsAndRefusesEd25519GenerationWithTheDocumentedMessage) {
  TempDir dir;
  write_file(dir.file("secret"), as_bytes("s3cret-value"));
  Daemon daemon(FERROHSM_SIGNER_BIN, dir,
                {"--key-provider=azure-kv", "--azure-vault-url", "http://127.0.0.1:9", "--azure-tenant-id", "t",
                 "--azure-client-id", "c", "--azure-client-secret-file", dir.file("secret")});
  ASSERT_TRUE(daemon.up()) << daemon.log();
  auto refused = daemon.curl_json("POST", "/v1/scopes/payments/keys", 501);
  EXPECT_EQ(refused["error"]["kind"], "not_supported");
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("Azure Key Vault does not offer Ed25519 keys"),
            std::string::npos)
      << refused.dump();
  EXPECT_EQ(daemon.log().find("s3cret-value"), std::string::npos);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
