#include "core/hardening.h"

#include "core/config.h"

#include <gtest/gtest.h>

namespace ferrohsm {
namespace {

AttrMap Key(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, std::initializer_list<CK_ATTRIBUTE_TYPE> usages) {
  AttrMap a;
  a.set_ulong(CKA_CLASS, cls);
  a.set_ulong(CKA_KEY_TYPE, kt);
  a.set_bool(CKA_SENSITIVE, true);
  for (CK_ATTRIBUTE_TYPE u : usages) a.set_bool(u, true);
  return a;
}

TEST(HardeningConfigTest, EveryRuleIsOnByDefaultAndEachCanBeSwitchedOff) {
  auto c = parse_config("", "empty.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Hardening& d = c->hardening;
  EXPECT_FALSE(d.strict());
  EXPECT_TRUE(d.wrap_xor_decrypt && d.sticky_attributes && d.no_weaker_wrapping && d.unwrapped_not_local &&
              d.untrusted_unwrapped && d.conflicting_usages);
  auto off = parse_config(
      "[hardening]\nprofile = \"strict\"\nwrap_xor_decrypt = false\nsticky_attributes = false\n"
      "no_weaker_wrapping = false\nunwrapped_not_local = false\nuntrusted_unwrapped = false\n"
      "conflicting_usages = false\n",
      "off.toml");
  ASSERT_TRUE(off.ok()) << off.error().message;
  const Hardening& h = off->hardening;
  EXPECT_TRUE(h.strict());
  EXPECT_FALSE(h.wrap_xor_decrypt || h.sticky_attributes || h.no_weaker_wrapping || h.unwrapped_not_local ||
               h.untrusted_unwrapped || h.conflicting_usages);
}

TEST(HardeningConfigTest, MistakesAreNamed) {
  for (auto [text, word] : {std::pair{"[hardening]\nwrap_xor_decryp = false\n", "wrap_xor_decryp"},
                            std::pair{"[hardening]\nsticky_attributes = 1\n", "sticky_attributes"},
                            std::pair{"[hardening]\nprofile = \"fips\"\n", "profile"},
                            std::pair{"hardening = 3\n", "[hardening]"}}) {
    auto c = parse_config(text, "bad.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message.find(word), std::string::npos) << c.error().message;
  }
}

TEST(HardeningRulesTest, ForbiddenPairsPerClass) {
  Hardening h;
  EXPECT_EQ(check_new_object(h, Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_DECRYPT}), KeyOrigin::Created).rv(),
            CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(check_new_object(h, Key(CKO_SECRET_KEY, CKK_AES, {CKA_UNWRAP, CKA_ENCRYPT}), KeyOrigin::Derived).rv(),
            CKR_TEMPLATE_INCONSISTENT);
  EXPECT_TRUE(check_new_object(h, Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_UNWRAP}), KeyOrigin::Created).ok());
  EXPECT_TRUE(check_new_object(h, Key(CKO_PUBLIC_KEY, CKK_RSA, {CKA_WRAP, CKA_ENCRYPT}), KeyOrigin::Created).ok());
  EXPECT_EQ(check_new_object(h, Key(CKO_PRIVATE_KEY, CKK_RSA, {CKA_UNWRAP, CKA_DECRYPT}), KeyOrigin::Created).rv(),
            CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(check_new_object(h, Key(CKO_PRIVATE_KEY, CKK_RSA, {CKA_SIGN, CKA_UNWRAP}), KeyOrigin::Generated).rv(),
            CKR_TEMPLATE_INCONSISTENT);
  // Signing and decrypting, signing and deriving (what pkcs11-tool, NSS and p11tool make
  // of an EC key): only the strict profile refuses them.
  const AttrMap sign_decrypt = Key(CKO_PRIVATE_KEY, CKK_EC, {CKA_SIGN, CKA_DECRYPT});
  const AttrMap sign_derive = Key(CKO_PRIVATE_KEY, CKK_EC, {CKA_SIGN, CKA_DERIVE});
  EXPECT_TRUE(check_new_object(h, sign_decrypt, KeyOrigin::Created).ok());
  EXPECT_TRUE(check_new_object(h, sign_derive, KeyOrigin::Generated).ok());
  Hardening strict;
  strict.profile = Hardening::Profile::Strict;
  EXPECT_EQ(check_new_object(strict, sign_decrypt, KeyOrigin::Created).rv(), CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(check_new_object(strict, sign_derive, KeyOrigin::Generated).rv(), CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(check_key_use(h, Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_DECRYPT})).rv(),
            CKR_KEY_FUNCTION_NOT_PERMITTED);
  h.wrap_xor_decrypt = false;
  h.conflicting_usages = false;
  EXPECT_TRUE(check_key_use(h, Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_DECRYPT})).ok());
  EXPECT_TRUE(check_new_object(h, Key(CKO_PRIVATE_KEY, CKK_EC, {CKA_SIGN, CKA_DERIVE}), KeyOrigin::Created).ok());
}

// pkcs11-tool's ECDH derive: a readable secret made off the token that wraps and
// decrypts. It can never wrap a sensitive key (untrusted_unwrapped), so the pair is
// allowed — until the key is local, sensitive or trusted.
TEST(HardeningRulesTest, AReadableKeyFromOffTheTokenMayWrapAndDecrypt) {
  Hardening h;
  AttrMap derived = Key(CKO_SECRET_KEY, CKK_GENERIC_SECRET, {CKA_WRAP, CKA_DECRYPT, CKA_ENCRYPT, CKA_UNWRAP});
  derived.set_bool(CKA_SENSITIVE, false);
  EXPECT_TRUE(check_new_object(h, derived, KeyOrigin::Derived).ok());
  EXPECT_TRUE(check_key_use(h, derived).ok());
  AttrMap trusted = derived;
  trusted.set_bool(CKA_TRUSTED, true);
  EXPECT_EQ(check_key_use(h, trusted).rv(), CKR_KEY_FUNCTION_NOT_PERMITTED);
  AttrMap local = derived;
  local.set_bool(CKA_LOCAL, true);
  EXPECT_EQ(check_key_use(h, local).rv(), CKR_KEY_FUNCTION_NOT_PERMITTED);
  h.untrusted_unwrapped = false;  // then such a key could wrap a sensitive one
  EXPECT_EQ(check_new_object(h, derived, KeyOrigin::Derived).rv(), CKR_TEMPLATE_INCONSISTENT);
}

TEST(HardeningRulesTest, TrustedNeverComesFromAnUnwrap) {
  Hardening h;
  AttrMap k = Key(CKO_SECRET_KEY, CKK_AES, {CKA_TRUSTED});
  EXPECT_EQ(check_new_object(h, k, KeyOrigin::Unwrapped).rv(), CKR_ATTRIBUTE_READ_ONLY);
  EXPECT_TRUE(check_new_object(h, k, KeyOrigin::Created).ok());
  h.unwrapped_not_local = false;
  EXPECT_TRUE(check_new_object(h, k, KeyOrigin::Unwrapped).ok());
}

TEST(HardeningRulesTest, StickyUsagesOnlyGoToFalse) {
  Hardening h;
  AttrMap before = Key(CKO_SECRET_KEY, CKK_AES, {CKA_DECRYPT});
  AttrMap after = before;
  after.set_bool(CKA_DECRYPT, false);
  EXPECT_TRUE(check_changed_object(h, before, after, false).ok());
  after.set_bool(CKA_ENCRYPT, true);
  EXPECT_EQ(check_changed_object(h, before, after, true).rv(), CKR_ATTRIBUTE_READ_ONLY);
  h.sticky_attributes = false;
  EXPECT_TRUE(check_changed_object(h, before, after, true).ok());
  // A stored key with a forbidden pair may be relabelled, but not copied.
  AttrMap legacy = Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_DECRYPT});
  AttrMap relabelled = legacy;
  relabelled.set(CKA_LABEL, as_bytes("x"));
  EXPECT_TRUE(check_changed_object(h, legacy, relabelled, false).ok());
  EXPECT_EQ(check_changed_object(h, legacy, relabelled, true).rv(), CKR_TEMPLATE_INCONSISTENT);
}

TEST(HardeningRulesTest, SecurityStrengthFollowsSp800_57) {
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_DES, {}), 8), 56u);
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_DES2, {}), 16), 80u);
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_DES3, {}), 24), 112u);
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_AES, {}), 16), 128u);
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_AES, {}), 32), 256u);
  EXPECT_EQ(security_strength(Key(CKO_SECRET_KEY, CKK_GENERIC_SECRET, {}), 64), 256u);
  EXPECT_EQ(security_strength(Key(CKO_PUBLIC_KEY, CKK_RSA, {}), 1024), 80u);
  EXPECT_EQ(security_strength(Key(CKO_PUBLIC_KEY, CKK_RSA, {}), 2048), 112u);
  EXPECT_EQ(security_strength(Key(CKO_PUBLIC_KEY, CKK_RSA, {}), 3072), 128u);
  EXPECT_EQ(security_strength(Key(CKO_PUBLIC_KEY, CKK_RSA, {}), 4096), 128u);
  EXPECT_EQ(security_strength(Key(CKO_PRIVATE_KEY, CKK_EC, {}), 256), 128u);
  EXPECT_EQ(security_strength(Key(CKO_PRIVATE_KEY, CKK_EC, {}), 384), 192u);
  EXPECT_EQ(security_strength(Key(CKO_PRIVATE_KEY, CKK_EC, {}), 521), 256u);
  EXPECT_EQ(security_strength(Key(CKO_PRIVATE_KEY, CKK_EC_EDWARDS, {}), 255), 128u);
}

TEST(HardeningRulesTest, WeakerOrUntrustedWrappingKeyIsRefused) {
  Hardening h;
  AttrMap kek = Key(CKO_SECRET_KEY, CKK_DES3, {CKA_WRAP, CKA_LOCAL});
  AttrMap target = Key(CKO_SECRET_KEY, CKK_AES, {CKA_SENSITIVE});
  EXPECT_EQ(check_wrap(h, kek, 24, target, 16).rv(), CKR_KEY_NOT_WRAPPABLE);
  AttrMap aes = Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP, CKA_LOCAL});
  EXPECT_TRUE(check_wrap(h, aes, 16, target, 16).ok());
  EXPECT_EQ(check_wrap(h, aes, 16, target, 32).rv(), CKR_KEY_NOT_WRAPPABLE);
  AttrMap imported = Key(CKO_SECRET_KEY, CKK_AES, {CKA_WRAP});
  EXPECT_EQ(check_wrap(h, imported, 32, target, 16).rv(), CKR_KEY_NOT_WRAPPABLE);
  imported.set_bool(CKA_TRUSTED, true);
  EXPECT_TRUE(check_wrap(h, imported, 32, target, 16).ok());
  AttrMap readable = Key(CKO_SECRET_KEY, CKK_AES, {});
  readable.set_bool(CKA_SENSITIVE, false);
  EXPECT_TRUE(check_wrap(h, kek, 24, readable, 32).ok()) << "a key that is not sensitive can be read anyway";
  h.no_weaker_wrapping = false;
  EXPECT_TRUE(check_wrap(h, kek, 24, target, 16).ok());
}

TEST(StrictProfileTest, NewKeysNeedApprovedSizesAndCurves) {
  Hardening strict;
  strict.profile = Hardening::Profile::Strict;
  AttrMap rsa = Key(CKO_PUBLIC_KEY, CKK_RSA, {CKA_VERIFY});
  rsa.set_ulong(CKA_MODULUS_BITS, 1024);
  EXPECT_EQ(check_new_object(strict, rsa, KeyOrigin::Generated).rv(), CKR_KEY_SIZE_RANGE);
  EXPECT_EQ(check_new_object(strict, rsa, KeyOrigin::Created).rv(), CKR_TEMPLATE_INCONSISTENT);
  EXPECT_TRUE(check_new_object(Hardening{}, rsa, KeyOrigin::Created).ok()) << "the default profile takes RSA-1024";
  AttrMap imported = Key(CKO_PRIVATE_KEY, CKK_RSA, {CKA_SIGN});
  imported.set(CKA_MODULUS, SecureBytes(256, 0xc5));
  EXPECT_TRUE(check_new_object(strict, imported, KeyOrigin::Unwrapped).ok()) << "2048 bits from CKA_MODULUS";
  const uint8_t secp256k1[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A};
  const uint8_t p384[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
  AttrMap ec = Key(CKO_PUBLIC_KEY, CKK_EC, {CKA_VERIFY});
  ec.set(CKA_EC_PARAMS, ByteView(secp256k1));
  EXPECT_EQ(check_new_object(strict, ec, KeyOrigin::Created).rv(), CKR_CURVE_NOT_SUPPORTED);
  EXPECT_EQ(check_key_use(strict, ec).rv(), CKR_KEY_TYPE_INCONSISTENT) << "a stored key on the curve is not used";
  ec.set(CKA_EC_PARAMS, ByteView(p384));
  EXPECT_TRUE(check_new_object(strict, ec, KeyOrigin::Created).ok());
  AttrMap des3 = Key(CKO_SECRET_KEY, CKK_DES3, {CKA_DECRYPT});
  EXPECT_EQ(check_new_object(strict, des3, KeyOrigin::Unwrapped).rv(), CKR_TEMPLATE_INCONSISTENT);
  AttrMap hmac = Key(CKO_SECRET_KEY, CKK_GENERIC_SECRET, {CKA_SIGN});
  hmac.set(CKA_VALUE, SecureBytes(13, 1));
  EXPECT_EQ(check_new_object(strict, hmac, KeyOrigin::Derived).rv(), CKR_TEMPLATE_INCONSISTENT);
  hmac.set(CKA_VALUE, SecureBytes(14, 1));
  EXPECT_TRUE(check_new_object(strict, hmac, KeyOrigin::Derived).ok());
}

TEST(StrictProfileTest, RegistryDropsAndRestricts) {
  const mech::Registry& r = mech::strict_registry();
  for (CK_MECHANISM_TYPE m : {CKM_MD5, CKM_DES_ECB, CKM_DES3_KEY_GEN, CKM_RSA_X_509, CKM_CHACHA20_POLY1305})
    EXPECT_EQ(r.find(m), nullptr) << m;
  ASSERT_NE(r.find(CKM_SHA1_RSA_PKCS), nullptr);
  EXPECT_EQ(r.find(CKM_SHA1_RSA_PKCS)->sign, nullptr);
  EXPECT_NE(r.find(CKM_SHA1_RSA_PKCS)->verify, nullptr);
  EXPECT_EQ(r.find(CKM_SHA1_RSA_PKCS)->info.flags & CKF_MESSAGE_SIGN, 0u);
  ASSERT_NE(r.find(CKM_DES3_CBC), nullptr);
  EXPECT_EQ(r.find(CKM_DES3_CBC)->encrypt, nullptr);
  EXPECT_EQ(r.find(CKM_RSA_PKCS)->info.ulMinKeySize, mech::kStrictRsaMinBits);
  EXPECT_EQ(r.find(CKM_AES_CBC_PAD)->info.flags & CKF_WRAP, 0u);
  EXPECT_NE(r.find(CKM_AES_KEY_WRAP_KWP)->info.flags & CKF_WRAP, 0u);
  EXPECT_NE(r.find(CKM_SHA_1), nullptr);
  // The default registry is untouched.
  EXPECT_NE(mech::Registry::global().find(CKM_MD5), nullptr);
  EXPECT_NE(mech::Registry::global().find(CKM_AES_CBC_PAD)->info.flags & CKF_WRAP, 0u);
}

}  // namespace
}  // namespace ferrohsm
