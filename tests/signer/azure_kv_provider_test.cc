// azure-kv over FakeAzureKv: Key Vault has no Ed25519, so generation is refused with the
// documented message, and a Key Vault key named by a handle is read (with a
// client-credentials token) and refused the same way, naming its type.
#include <gtest/gtest.h>

#include "base/bytes.h"
#include "fakes/fake_azure_kv.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "support/cloud_rig.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

class AzureKv : public ::testing::Test {
 protected:
  AzureKvSettings settings() {
    std::string secret = std::string(FakeAzureKv::kSecret) + "\n";
    write_file(dir_.file("secret"), as_bytes(secret));
    AzureKvSettings s;
    s.vault_url = fake_.url();
    s.tenant_id = FakeAzureKv::kTenant;
    s.client_id = FakeAzureKv::kClientId;
    s.client_secret_file = dir_.file("secret");
    s.authority_host = fake_.url();
    s.http.backoff_base_ms = 5;
    s.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return s;
  }
  TempDir dir_;
  FakeAzureKv fake_;
};

TEST_F(AzureKv, GenerateIsRefusedNamingTheEd25519Limit) {
  auto p = make_azure_kv_provider(settings());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)->name(), "azure-kv");
  auto gen = (*p)->generate(kCtx, *Scope::parse("payments"), *KeyId::parse("k1"));
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ErrorKind::kNotSupported);
  EXPECT_EQ(gen.error().message, "azure-kv: " + std::string(kAzureNoEd25519));
  EXPECT_NE(gen.error().message.find("does not offer Ed25519"), std::string::npos);
  EXPECT_EQ(fake_.requests(), 0);  // a limit of the service, known without asking it
}

TEST_F(AzureKv, ForeignKeyTypesAreRefusedTheSameWay) {
  auto p = make_azure_kv_provider(settings());
  ASSERT_TRUE(p);
  LogCapture logs;
  auto pub = (*p)->public_key(kCtx, fake_.ec_key());
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().kind, ErrorKind::kNotSupported);
  EXPECT_NE(pub.error().message.find("is EC P-256, not Ed25519"), std::string::npos) << pub.error().message;
  EXPECT_NE(pub.error().message.find(kAzureNoEd25519), std::string::npos);
  auto retire = (*p)->retire(kCtx, fake_.rsa_key());
  ASSERT_FALSE(retire);
  EXPECT_EQ(retire.error().kind, ErrorKind::kNotSupported);
  EXPECT_NE(retire.error().message.find("is RSA, not Ed25519"), std::string::npos) << retire.error().message;
  auto sig = (*p)->sign(kCtx, fake_.ec_key(), sha512_of("x"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kNotSupported);
  EXPECT_EQ(fake_.key_reads(), 3);       // the key was looked at, with a token …
  EXPECT_EQ(fake_.tokens_issued(), 1);   // … fetched once and kept
  EXPECT_EQ(logs.text().find(FakeAzureKv::kSecret), std::string::npos);
  EXPECT_EQ(logs.text().find("fake-aad-token"), std::string::npos);
}

TEST_F(AzureKv, MissingKeysAndForeignHandlesAreKeyNotFound) {
  auto p = make_azure_kv_provider(settings());
  ASSERT_TRUE(p);
  auto missing = (*p)->public_key(kCtx, fake_.url() + "/keys/nope/0123");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kKeyNotFound);
  EXPECT_NE(missing.error().message.find("KeyNotFound"), std::string::npos);
  for (std::string h : {std::string("https://other.vault.azure.net/keys/a/b"), fake_.url() + "/keys/only-a-name",
                        fake_.url() + "/secrets/a/b", std::string("aws-kms:x")}) {
    auto r = (*p)->retire(kCtx, h);
    ASSERT_FALSE(r) << h;
    EXPECT_EQ(r.error().kind, ErrorKind::kKeyNotFound) << h;
  }
}

TEST_F(AzureKv, AWrongClientSecretIsUnavailableAndNeverEchoed) {
  write_file(dir_.file("wrong"), as_bytes("wrong-secret-value"));
  auto s = settings();
  s.client_secret_file = dir_.file("wrong");
  auto p = make_azure_kv_provider(s);
  ASSERT_TRUE(p);
  auto pub = (*p)->public_key(kCtx, fake_.ec_key());
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(pub.error().message.find("invalid_client"), std::string::npos) << pub.error().message;
  EXPECT_EQ(pub.error().message.find("wrong-secret-value"), std::string::npos);
}

TEST_F(AzureKv, WiringErrorsAreClear) {
  auto s = settings();
  s.vault_url.clear();
  EXPECT_NE(make_azure_kv_provider(s).error().message.find("--azure-vault-url"), std::string::npos);
  s = settings();
  s.tenant_id.clear();
  EXPECT_NE(make_azure_kv_provider(s).error().message.find("AZURE_TENANT_ID"), std::string::npos);
  s = settings();
  s.client_secret_file.clear();
  EXPECT_NE(make_azure_kv_provider(s).error().message.find("AZURE_CLIENT_SECRET"), std::string::npos);
  s.env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "AZURE_CLIENT_SECRET") return std::string(FakeAzureKv::kSecret);
    return std::nullopt;
  };
  EXPECT_TRUE(make_azure_kv_provider(s));
  s.vault_url = "http://vault.example.net";
  EXPECT_FALSE(make_azure_kv_provider(s));
}

}  // namespace
}  // namespace ferrohsm::signer::testing
