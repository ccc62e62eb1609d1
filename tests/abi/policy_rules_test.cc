// [[policy]] rules through the C ABI (issue 14, item 4; docs/POLICY.md): mechanisms and
// key sizes at generation and at use, the validity window, a maximum number of uses kept
// in the store (across sessions and a re-initialisation), a rate per identity per key,
// and who may use, export, wrap and destroy a key. Each refusal's code is checked, and
// that the allowed call next to it still works. The module's identity is
// "uid:<this uid>" in every mode (embedded: the process's; sidecar: the peer's).
#include <unistd.h>

#include <string>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

const uint8_t kPolicyDigest[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

std::string PolicyMe() { return "uid:" + std::to_string(::getuid()); }

std::string PolicyToml() {
  return R"toml(
[[policy]]
name = "ec-sign"
token = "pol-*"
key = "ec-*"
mechanisms = ["CKM_EC_KEY_PAIR_GEN", "CKM_ECDSA"]
key_sizes = { ec = ["P-256"] }

[[policy]]
name = "rsa-2048"
token = "pol-*"
key = "rsa-*"
mechanisms = ["CKM_RSA_PKCS_KEY_PAIR_GEN", "CKM_SHA256_RSA_PKCS"]
key_sizes = { rsa = [2048] }

[[policy]]
name = "aes-256"
key = "aes-*"
key_sizes = { aes = [256] }

[[policy]]
name = "dated"
key = "dated-*"
enforce_dates = true

[[policy]]
name = "counted"
key = "counted-*"
max_uses = 3

[[policy]]
name = "limited"
key = "limited-*"
rate = "2/m"

[[policy]]
name = "guarded"
key = "guarded-*"
use = [")toml" + PolicyMe() + R"toml("]
wrap = [")toml" + PolicyMe() + R"toml("]
export = []
destroy = ["cert:CN=security-officer"]

[[policy]]
name = "foreign"
key = "foreign-*"
use = ["cert:CN=someone-else"]
wrap = ["cert:CN=someone-else"]
)toml";
}

class PolicyRulesTest : public ModuleTest {
 protected:
  void SetUp() override {
    SKIP_IF_SOFTHSM("[[policy]] rules are FerroHSM's configuration");
    ModuleTest::SetUp();
    slot_ = InitToken("pol-tok");
    ASSERT_NE(slot_, kNoSlot);
    s_ = OpenUser(slot_);
    ASSERT_NE(s_, CK_INVALID_HANDLE);
  }
  StoreOptions Options() const override {
    StoreOptions o;
    // The hardening rules are hardening_test.cc's subject; here imported keys wrap.
    o.extra_config = PolicyToml() + kHardeningOff;
    return o;
  }

  KeyOptions Labeled(const std::string& label, bool token = false) {
    KeyOptions o;
    o.label = label;
    o.token = token;
    return o;
  }
  CK_RV SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{mech, nullptr, 0};
    return f_->C_SignInit(s, &m, key);
  }
  // A whole signature (init and sign), CKR_OK or the first failure.
  CK_RV Sign(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key) {
    CK_RV rv = SignInit(s, mech, key);
    if (rv != CKR_OK) return rv;
    uint8_t sig[512];
    CK_ULONG len = sizeof sig;
    return f_->C_Sign(s, const_cast<uint8_t*>(kPolicyDigest), sizeof kPolicyDigest, sig, &len);
  }
  // An AES-128 key that may encrypt and wrap and be wrapped (not decrypt or unwrap, so
  // that no hardening rule against wrap-then-decrypt refuses it).
  CK_OBJECT_HANDLE Aes(const std::string& label) {
    Template t = Template()
                     .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                     .Ulong(CKA_KEY_TYPE, CKK_AES)
                     .Str(CKA_LABEL, label)
                     .Bytes(CKA_VALUE, Bytes(16, 0x42))
                     .Bool(CKA_ENCRYPT, true)
                     .Bool(CKA_WRAP, true)
                     .Bool(CKA_EXTRACTABLE, true);
    Created c = CreateObject(f_, s_, t);
    EXPECT_CKR_OK(c.rv) << "C_CreateObject of AES key " << label;
    return c.handle;
  }
  CK_RV Encrypt(CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{CKM_AES_ECB, nullptr, 0};
    CK_RV rv = f_->C_EncryptInit(s_, &m, key);
    if (rv != CKR_OK) return rv;
    uint8_t in[16] = {}, out[32];
    CK_ULONG len = sizeof out;
    return f_->C_Encrypt(s_, in, sizeof in, out, &len);
  }
  CK_RV Wrap(CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{CKM_AES_KEY_WRAP_PAD, nullptr, 0};
    uint8_t out[64];
    CK_ULONG len = sizeof out;
    return f_->C_WrapKey(s_, &m, wrapping, key, out, &len);
  }
  CK_RV SetDate(CK_OBJECT_HANDLE key, CK_ATTRIBUTE_TYPE which, const std::string& yyyymmdd) {
    return SetAttrs(f_, s_, key, Template().Raw(which, yyyymmdd.data(), static_cast<CK_ULONG>(yyyymmdd.size())));
  }

  CK_SLOT_ID slot_ = kNoSlot;
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
};

TEST_F(PolicyRulesTest, MechanismsOfARuleAreAllThereIsForItsKeys) {
  KeyPair ec = GenerateEc(f_, s_, "P-256", Labeled("ec-signer"));
  ASSERT_CKR_OK(ec.rv) << "CKM_EC_KEY_PAIR_GEN is in the rule's list";
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, ec.priv));
  EXPECT_CKR(CKR_MECHANISM_INVALID, SignInit(s_, CKM_ECDSA_SHA256, ec.priv));
  CK_MECHANISM verify{CKM_ECDSA_SHA256, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_VerifyInit(s_, &verify, ec.pub)) << "the public key's label matches too";
  // The same with RSA (whose mechanisms every flavor has): CKM_RSA_PKCS is not in the
  // "rsa-2048" rule's list, and a key the rule does not name keeps it.
  KeyPair rsa = GenerateRsa(f_, s_, 2048, Labeled("rsa-signer"));
  ASSERT_CKR_OK(rsa.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_SHA256_RSA_PKCS, rsa.priv));
  EXPECT_CKR(CKR_MECHANISM_INVALID, SignInit(s_, CKM_RSA_PKCS, rsa.priv));
  KeyPair other = GenerateRsa(f_, s_, 2048, Labeled("app-signer"));
  ASSERT_CKR_OK(other.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_RSA_PKCS, other.priv));
  // Generating an RSA key under the EC rule's label: its mechanism is not in the list.
  EXPECT_CKR(CKR_MECHANISM_INVALID, GenerateRsa(f_, s_, 2048, Labeled("ec-but-rsa")).rv);
}

TEST_F(PolicyRulesTest, KeySizesAtGenerationAndAtUse) {
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenerateEc(f_, s_, "P-384", Labeled("ec-big")).rv);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenerateRsa(f_, s_, 1024, Labeled("rsa-small")).rv);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenerateRsa(f_, s_, 3072, Labeled("rsa-big")).rv);
  KeyPair rsa = GenerateRsa(f_, s_, 2048, Labeled("rsa-ok"));
  ASSERT_CKR_OK(rsa.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_SHA256_RSA_PKCS, rsa.priv));
  // A key made outside the rule and renamed into it is judged at use (and the check
  // sees the new label: a changed key is read again).
  KeyPair small = GenerateRsa(f_, s_, 1024, Labeled("plain-small"));
  ASSERT_CKR_OK(small.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_SHA256_RSA_PKCS, small.priv));
  ASSERT_CKR_OK(SetAttrs(f_, s_, small.priv, Template().Str(CKA_LABEL, "rsa-renamed")));
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, SignInit(s_, CKM_SHA256_RSA_PKCS, small.priv));
  // An imported key outside a rule's sizes is refused like a generated one.
  auto import = [&](const std::string& label, size_t bytes) {
    return CreateObject(f_, s_,
                        Template()
                            .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                            .Ulong(CKA_KEY_TYPE, CKK_AES)
                            .Str(CKA_LABEL, label)
                            .Bytes(CKA_VALUE, Bytes(bytes, 0x42))
                            .Bool(CKA_ENCRYPT, true))
        .rv;
  };
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, import("aes-128", 16));
  EXPECT_CKR_OK(import("aes-256", 32));
  EXPECT_CKR_OK(import("plain-128", 16));
}

TEST_F(PolicyRulesTest, TheValidityWindowIsCheckedAtEachInit) {
  KeyPair k = GenerateEc(f_, s_, "P-256", Labeled("dated-key"));
  ASSERT_CKR_OK(k.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv)) << "no dates: no bounds";
  ASSERT_CKR_OK(SetDate(k.priv, CKA_END_DATE, "20000101"));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(s_, CKM_ECDSA, k.priv)) << "expired";
  ASSERT_CKR_OK(SetDate(k.priv, CKA_END_DATE, "29991231"));
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  ASSERT_CKR_OK(SetDate(k.priv, CKA_START_DATE, "29990101"));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(s_, CKM_ECDSA, k.priv)) << "not yet valid";
  ASSERT_CKR_OK(SetDate(k.priv, CKA_START_DATE, "20000101"));
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  // A key whose label no enforcing rule matches ignores its dates.
  KeyPair loose = GenerateEc(f_, s_, "P-256", Labeled("loose-key"));
  ASSERT_CKR_OK(loose.rv);
  ASSERT_CKR_OK(SetDate(loose.priv, CKA_END_DATE, "20000101"));
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, loose.priv));
}

TEST_F(PolicyRulesTest, MaxUsesHoldAcrossSessionsAndRestarts) {
  KeyPair k = GenerateEc(f_, s_, "P-256", Labeled("counted-key", /*token=*/true));
  ASSERT_CKR_OK(k.rv);
  CK_SESSION_HANDLE second = Open(slot_);
  ASSERT_NE(second, CK_INVALID_HANDLE);
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  EXPECT_CKR_OK(Sign(second, CKM_ECDSA, k.priv));
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(second, CKM_ECDSA, k.priv)) << "the fourth use";
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(s_, CKM_ECDSA, k.priv));
  // Another key has its own count.
  KeyPair fresh = GenerateEc(f_, s_, "P-256", Labeled("counted-other"));
  ASSERT_CKR_OK(fresh.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, fresh.priv));
  // The count is in the store: a restarted module still refuses the key.
  Reinitialize();
  CK_SESSION_HANDLE s = OpenUser(SlotByLabel("pol-tok"));
  ASSERT_NE(s, CK_INVALID_HANDLE);
  std::vector<CK_OBJECT_HANDLE> found =
      Find(f_, s, Template().Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Str(CKA_LABEL, "counted-key"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(s, CKM_ECDSA, found[0]));
}

TEST_F(PolicyRulesTest, ARateLimitsUsesPerIdentityPerKey) {
  KeyPair k = GenerateEc(f_, s_, "P-256", Labeled("limited-key"));
  ASSERT_CKR_OK(k.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, k.priv));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, SignInit(s_, CKM_ECDSA, k.priv)) << "a third use within the minute";
  KeyPair other = GenerateEc(f_, s_, "P-256", Labeled("limited-other"));
  ASSERT_CKR_OK(other.rv);
  EXPECT_CKR_OK(Sign(s_, CKM_ECDSA, other.priv)) << "each key has its own rate";
}

TEST_F(PolicyRulesTest, IdentitiesMayUseExportWrapAndDestroyOnlyAsTheRuleSays) {
  CK_OBJECT_HANDLE guarded = Aes("guarded-kek");
  CK_OBJECT_HANDLE guarded_target = Aes("guarded-data-key");
  CK_OBJECT_HANDLE free_target = Aes("free-key");
  CK_OBJECT_HANDLE foreign = Aes("foreign-key");
  ASSERT_NE(guarded, CK_INVALID_HANDLE);
  EXPECT_CKR_OK(Encrypt(guarded)) << PolicyMe() << " is in use";
  EXPECT_CKR_OK(Wrap(guarded, free_target)) << PolicyMe() << " is in wrap";
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Wrap(guarded, guarded_target)) << "export = [] lets no one";
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Encrypt(foreign)) << "use names someone else";
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Wrap(foreign, free_target)) << "wrap names someone else";
  EXPECT_CKR_OK(Wrap(free_target, foreign)) << "the foreign key's export is unrestricted";
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_DestroyObject(s_, guarded));
  EXPECT_CKR_OK(Encrypt(guarded)) << "the refused destroy left the key";
  EXPECT_CKR_OK(f_->C_DestroyObject(s_, foreign)) << "destroy is unrestricted there";
  EXPECT_CKR_OK(f_->C_DestroyObject(s_, free_target));
}

}  // namespace
}  // namespace ferrohsm::abi
