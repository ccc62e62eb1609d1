// gcp-kms's own rules over FakeGcpKms: version-name handles, the key ring made when
// missing, key ids, the CRC32C integrity fields both ways, tokens (service account and
// metadata server) and their failures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "fakes/fake_gcp_kms.h"
#include "ferrohsm/signer/cloud/crc32c.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"
#include "support/cloud_rig.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

class GcpKms : public ::testing::Test {
 protected:
  GcpKmsSettings settings() {
    std::string sa = fake_.service_account_json();
    write_file(dir_.file("sa.json"), as_bytes(sa));
    GcpKmsSettings s;
    s.key_ring = FakeGcpKms::kKeyRing;
    s.endpoint = fake_.url();
    s.credentials_file = dir_.file("sa.json");
    s.http.attempt_timeout_ms = 1000;
    s.http.backoff_base_ms = 5;
    s.http.backoff_max_ms = 20;
    s.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return s;
  }
  std::unique_ptr<KeyProvider> provider(GcpKmsSettings s) {
    auto p = make_gcp_kms_provider(s);
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  }
  TempDir dir_;
  FakeGcpKms fake_;
};

TEST_F(GcpKms, HandleIsTheVersionNameAndTheKeyRingIsMadeWhenMissing) {
  auto p = provider(settings());
  ASSERT_TRUE(p);
  EXPECT_FALSE(fake_.key_ring_exists());
  auto gen = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_EQ(gen->handle_id, std::string(FakeGcpKms::kKeyRing) + "/cryptoKeys/payments_2eeu__k_5f1/cryptoKeyVersions/1");
  EXPECT_TRUE(fake_.key_ring_exists());
  auto again = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key, gen->public_key);
  // Names past Cloud KMS's 63 characters get a hashed id.
  auto long_one = p->generate(kCtx, S(std::string(64, 'a')), K(std::string(64, 'b')));
  ASSERT_TRUE(long_one) << long_one.error().message;
  EXPECT_NE(long_one->handle_id.find("/cryptoKeys/h_"), std::string::npos) << long_one->handle_id;
  ASSERT_TRUE(p->retire(kCtx, gen->handle_id));
  EXPECT_EQ(fake_.version_state(gen->handle_id), "DESTROY_SCHEDULED");
  auto retired = p->generate(kCtx, S("payments.eu"), K("k_1"));
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().kind, ErrorKind::kKeyRetired);
  for (std::string h : {std::string("projects/other/locations/x/keyRings/y/cryptoKeys/a/cryptoKeyVersions/1"),
                        std::string(FakeGcpKms::kKeyRing) + "/cryptoKeys/a", std::string(FakeGcpKms::kKeyRing)}) {
    auto sig = p->sign(kCtx, h, sha512_of("x"));
    ASSERT_FALSE(sig) << h;
    EXPECT_EQ(sig.error().kind, ErrorKind::kKeyNotFound) << h;
  }
}

TEST_F(GcpKms, AWrongSignatureChecksumIsTriedAgainThenRefused) {
  auto p = provider(settings());
  auto gen = p->generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  fake_.corrupt_signature_crc(1);
  int before = fake_.sign_calls();
  auto sig = p->sign(kCtx, gen->handle_id, sha512_of("crc"));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(fake_.sign_calls() - before, 2);
  EXPECT_TRUE(ed25519::verify(gen->public_key, sha512_of("crc"), *sig));
  fake_.corrupt_signature_crc(100);
  auto bad = p->sign(kCtx, gen->handle_id, sha512_of("crc"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(bad.error().message.find("signatureCrc32c"), std::string::npos) << bad.error().message;
  fake_.corrupt_signature_crc(0);
  fake_.skip_data_crc_verification(100);
  auto unverified = p->sign(kCtx, gen->handle_id, sha512_of("crc"));
  ASSERT_FALSE(unverified);
  EXPECT_NE(unverified.error().message.find("dataCrc32c"), std::string::npos) << unverified.error().message;
}

TEST_F(GcpKms, TheFakeChecksDataCrc32cAsCloudKmsDoes) {
  // A token from the (fake) metadata server, then asymmetricSign with a wrong checksum.
  auto seed = std::array<std::uint8_t, 32>{};
  std::string version = fake_.import_key("direct", seed);
  httplib::Client c("127.0.0.1", fake_.port());
  auto tok = c.Get("/computeMetadata/v1/instance/service-accounts/default/token", {{"Metadata-Flavor", "Google"}});
  ASSERT_TRUE(tok && tok->status == 200);
  std::string token = nlohmann::json::parse(tok->body)["access_token"];
  std::string data = "sixty-four bytes of digest would go here; this is just the data";
  nlohmann::json body = {{"data", to_base64(as_bytes(data))},
                         {"dataCrc32c", std::to_string(cloud::crc32c(data) ^ 1)}};
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  auto bad = c.Post(("/v1/" + version + ":asymmetricSign").c_str(), auth, body.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("data_crc32c"), std::string::npos);
  body["dataCrc32c"] = std::to_string(cloud::crc32c(data));
  auto good = c.Post(("/v1/" + version + ":asymmetricSign").c_str(), auth, body.dump(), "application/json");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(crc32c_bitwise("123456789"), 0xE3069283u);  // the fake's own CRC-32C, bit by bit
  auto no_token = c.Post(("/v1/" + version + ":asymmetricSign").c_str(), body.dump(), "application/json");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
}

TEST_F(GcpKms, ServiceAccountTokensAreCachedAndARevokedAccountIsUnavailable) {
  auto p = provider(settings());
  ASSERT_TRUE(p->generate(kCtx, S("payments"), K("k1")));
  ASSERT_TRUE(p->generate(kCtx, S("payments"), K("k2")));
  EXPECT_EQ(fake_.tokens_issued(), 1);
  fake_.revoke_service_account();
  fake_.expire_tokens();
  LogCapture logs;
  auto gen = p->generate(kCtx, S("payments"), K("k3"));
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(gen.error().message.find("invalid_grant"), std::string::npos) << gen.error().message;
  EXPECT_EQ(logs.text().find("ya29.fake-"), std::string::npos);
}

TEST_F(GcpKms, MetadataServerTokens) {
  auto s = settings();
  s.credentials_file.clear();
  s.metadata_host = "127.0.0.1:" + std::to_string(fake_.port());
  auto p = provider(s);
  ASSERT_TRUE(p);
  auto gen = p->generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  auto sig = p->sign(kCtx, gen->handle_id, sha512_of("metadata"));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(ed25519::verify(gen->public_key, sha512_of("metadata"), *sig));
}

TEST_F(GcpKms, WiringErrorsAreClear) {
  auto s = settings();
  s.key_ring = "projects/p/keyRings/r";
  auto bad_ring = make_gcp_kms_provider(s);
  ASSERT_FALSE(bad_ring);
  EXPECT_NE(bad_ring.error().message.find("--gcp-kms-key-ring"), std::string::npos);
  s = settings();
  s.credentials_file = dir_.file("absent.json");
  EXPECT_FALSE(make_gcp_kms_provider(s));
  s = settings();
  s.protection_level = "EXTERNAL";
  EXPECT_FALSE(make_gcp_kms_provider(s));
  s = settings();
  s.endpoint = "http://cloudkms.example.com";
  EXPECT_FALSE(make_gcp_kms_provider(s));
}

}  // namespace
}  // namespace ferrohsm::signer::testing
