// The hardening rules ([hardening] in ferrohsm.toml, docs/HARDENING.md) through the C
// ABI: each classic PKCS#11 API attack (Clulow 2003; Tookan's time-split variants) is
// refused with the rules at their defaults, and each test also runs the attack with
// the one rule that stops it switched off and shows it then succeeds — so the rule,
// not something else, is what stops it. What the specification itself requires
// (CKA_SENSITIVE only to true, CKA_EXTRACTABLE only to false) holds either way.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

const Bytes kSecret = {0x5e, 0xc2, 0x37, 0x11, 0x90, 0xab, 0x4c, 0xd3, 0x6f, 0x02, 0x88, 0x1e, 0x75, 0xb9, 0x3a, 0xe4};

// A test whose ferrohsm.toml holds `[hardening]` with these lines ("" for the defaults).
class HardeningTest : public TokenTest {
 protected:
  void SetUp() override {
    SKIP_IF_SOFTHSM("the hardening rules are FerroHSM's");
    TokenTest::SetUp();
  }
  virtual std::string Rules() const { return ""; }
  StoreOptions Options() const override {
    StoreOptions o;
    if (!Rules().empty()) o.extra_config = "\n[hardening]\n" + Rules();
    return o;
  }

  // A session AES key with these usages (the rest false); generated (CKA_LOCAL true).
  CK_RV GenAes(CK_ULONG bytes, std::initializer_list<CK_ATTRIBUTE_TYPE> usages, CK_OBJECT_HANDLE* out,
               bool token = false) {
    Template t = Template().Ulong(CKA_VALUE_LEN, bytes).Bool(CKA_TOKEN, token).Bool(CKA_SENSITIVE, true);
    for (CK_ATTRIBUTE_TYPE u : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_VERIFY})
      t.Bool(u, std::find(usages.begin(), usages.end(), u) != usages.end());
    CK_MECHANISM m{CKM_AES_KEY_GEN, nullptr, 0};
    return f_->C_GenerateKey(session_, &m, t.data(), t.size(), out);
  }
  CK_OBJECT_HANDLE MustGenAes(CK_ULONG bytes, std::initializer_list<CK_ATTRIBUTE_TYPE> usages) {
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR_OK(GenAes(bytes, usages, &h));
    return h;
  }
  // An imported AES key of known value (CKA_LOCAL false) with these usages.
  CK_OBJECT_HANDLE ImportKey(const Bytes& value, std::initializer_list<CK_ATTRIBUTE_TYPE> usages, bool sensitive,
                             bool extractable) {
    Template t = Template()
                     .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                     .Ulong(CKA_KEY_TYPE, CKK_AES)
                     .Bytes(CKA_VALUE, value)
                     .Bool(CKA_SENSITIVE, sensitive)
                     .Bool(CKA_EXTRACTABLE, extractable);
    for (CK_ATTRIBUTE_TYPE u : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP})
      t.Bool(u, std::find(usages.begin(), usages.end(), u) != usages.end());
    Created c = CreateObject(f_, session_, t);
    EXPECT_CKR_OK(c.rv) << "C_CreateObject of an AES key";
    return c.handle;
  }
  // The attack's target: a sensitive but extractable AES-128 key whose value the test
  // knows (so that it can tell when the value leaked).
  CK_OBJECT_HANDLE Target() { return ImportKey(kSecret, {}, true, true); }

  CK_RV Wrap(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, Bytes* out) {
    CK_MECHANISM m{mech, nullptr, 0};
    Bytes buf(512);
    CK_ULONG len = buf.size();
    CK_RV rv = f_->C_WrapKey(session_, &m, wrapping, key, buf.data(), &len);
    if (rv == CKR_OK) buf.resize(len);
    if (out != nullptr) *out = rv == CKR_OK ? buf : Bytes{};
    return rv;
  }
  // C_DecryptInit + C_Decrypt with `mech` (no parameter).
  CK_RV Decrypt(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key, const Bytes& in, Bytes* out) {
    CK_MECHANISM m{mech, nullptr, 0};
    CK_RV rv = f_->C_DecryptInit(session_, &m, key);
    if (rv != CKR_OK) return rv;
    Bytes buf(in.size() + 32);
    CK_ULONG len = buf.size();
    rv = f_->C_Decrypt(session_, const_cast<uint8_t*>(in.data()), in.size(), buf.data(), &len);
    if (rv == CKR_OK) buf.resize(len);
    *out = buf;
    return rv;
  }
  CK_RV Set(CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, bool v) { return SetAttrs(f_, session_, o, Template().Bool(t, v)); }
  CK_RV Copy(CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, bool v, CK_OBJECT_HANDLE* out) {
    Template tmpl = Template().Bool(t, v);
    return f_->C_CopyObject(session_, o, tmpl.data(), tmpl.size(), out);
  }
  // An RSA-2048 pair; the private half gets exactly `priv_usages`.
  CK_RV GenRsa(std::initializer_list<CK_ATTRIBUTE_TYPE> priv_usages, KeyPair* kp) {
    CK_ULONG bits = 2048;
    Template pub = Template().Ulong(CKA_MODULUS_BITS, bits).Bool(CKA_ENCRYPT, true).Bool(CKA_VERIFY, true);
    Template priv = Template().Bool(CKA_SENSITIVE, true);
    for (CK_ATTRIBUTE_TYPE u : {CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP, CKA_SIGN_RECOVER})
      priv.Bool(u, std::find(priv_usages.begin(), priv_usages.end(), u) != priv_usages.end());
    CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
    kp->rv = f_->C_GenerateKeyPair(session_, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp->pub, &kp->priv);
    return kp->rv;
  }
};

// --- (a) wrap with a key that can also decrypt, then decrypt the blob -----------------------

class WrapDecryptTest : public HardeningTest {};
class WrapDecryptOffTest : public HardeningTest {
  std::string Rules() const override { return "wrap_xor_decrypt = false\nsticky_attributes = false\n"; }
};

TEST_F(WrapDecryptTest, KeyThatWrapsAndDecryptsIsNeverMade) {
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenAes(32, {CKA_WRAP, CKA_DECRYPT}, &h)) << "C_GenerateKey";
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenAes(32, {CKA_UNWRAP, CKA_ENCRYPT}, &h)) << "C_GenerateKey";
  Template t = Template()
                   .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                   .Ulong(CKA_KEY_TYPE, CKK_AES)
                   .Bytes(CKA_VALUE, Bytes(32, 7))
                   .Bool(CKA_WRAP, true)
                   .Bool(CKA_DECRYPT, true);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, CreateObject(f_, session_, t).rv) << "C_CreateObject";
  // Wrapping and unwrapping together, encrypting and decrypting together, are fine.
  EXPECT_CKR_OK(GenAes(32, {CKA_WRAP, CKA_UNWRAP}, &h));
  EXPECT_CKR_OK(GenAes(32, {CKA_ENCRYPT, CKA_DECRYPT}, &h));
  // A private key that unwraps may not decrypt what its public half wrapped.
  KeyPair kp;
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenRsa({CKA_UNWRAP, CKA_DECRYPT}, &kp));
}

TEST_F(WrapDecryptTest, UsageThatWouldCompleteThePairCannotBeAdded) {
  // With sticky_attributes on the code is the sticky rule's; see the Off test below
  // for this rule's own code on C_SetAttributeValue.
  CK_OBJECT_HANDLE kek = MustGenAes(32, {CKA_WRAP});
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Set(kek, CKA_DECRYPT, true));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Copy(kek, CKA_DECRYPT, true, &copy));
}

TEST_F(WrapDecryptOffTest, AttackSucceedsWithoutTheRule) {
  CK_OBJECT_HANDLE kek = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(GenAes(32, {CKA_WRAP, CKA_DECRYPT}, &kek)) << "without the rule the key can be made";
  Bytes blob, plain;
  ASSERT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, kek, Target(), &blob));
  ASSERT_CKR_OK(Decrypt(CKM_AES_KEY_WRAP, kek, blob, &plain));
  EXPECT_EQ(plain, kSecret) << "the sensitive key's value came out";
}

class WrapDecryptSetOnlyTest : public HardeningTest {
  std::string Rules() const override { return "sticky_attributes = false\n"; }
};

TEST_F(WrapDecryptSetOnlyTest, SetAttributeAndCopyCannotCompleteThePair) {
  CK_OBJECT_HANDLE kek = MustGenAes(32, {CKA_WRAP});
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Set(kek, CKA_DECRYPT, true));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Copy(kek, CKA_DECRYPT, true, &copy));
  // Giving up CKA_WRAP first makes decryption legitimate.
  EXPECT_CKR_OK(Set(kek, CKA_WRAP, false));
  EXPECT_CKR_OK(Set(kek, CKA_DECRYPT, true));
}

// A key with both usages from a store written without the rule (an older FerroHSM, or
// the rule switched off then on) is refused at every use, not only at creation.
TEST_F(WrapDecryptOffTest, StoredKeyWithBothIsRefusedAtUseOnceTheRuleIsOn) {
  CK_OBJECT_HANDLE kek = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(GenAes(32, {CKA_WRAP, CKA_DECRYPT}, &kek, /*token=*/true));
  StoreOptions defaults;  // [hardening] left out: every rule on
  store_->WriteConfig(defaults);
  Reinitialize();
  session_ = OpenUser(slot_);
  std::vector<CK_OBJECT_HANDLE> found =
      Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Bool(CKA_WRAP, true).Bool(CKA_DECRYPT, true));
  ASSERT_EQ(found.size(), 1u);
  kek = found[0];
  Bytes blob, plain;
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Wrap(CKM_AES_KEY_WRAP, kek, Target(), &blob));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Decrypt(CKM_AES_KEY_WRAP, kek, Bytes(24, 1), &plain));
  // Its owner can still take one usage away (then it works again) or relabel it.
  EXPECT_CKR_OK(SetAttrs(f_, session_, kek, Template().Str(CKA_LABEL, "legacy")));
  EXPECT_CKR_OK(Set(kek, CKA_DECRYPT, false));
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, kek, Target(), &blob));
}

// --- (b) sticky attributes ----------------------------------------------------------------

class StickyTest : public HardeningTest {};
class StickyOffTest : public HardeningTest {
  std::string Rules() const override { return "sticky_attributes = false\n"; }
};

// PKCS#11 3.0 §4.9 (table 26, footnotes 11 and 12): CKA_SENSITIVE only becomes true,
// CKA_EXTRACTABLE only false; C_CopyObject may change them only the same way (§5.7).
// This is the specification's, so it holds with the hardening rule off as well.
void ExpectSpecStickiness(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
                          CK_OBJECT_HANDLE unextractable) {
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, SetAttrs(f, s, key, Template().Bool(CKA_SENSITIVE, false)));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, SetAttrs(f, s, unextractable, Template().Bool(CKA_EXTRACTABLE, true)));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  Template sens = Template().Bool(CKA_SENSITIVE, false);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f->C_CopyObject(s, key, sens.data(), sens.size(), &copy));
  Template extr = Template().Bool(CKA_EXTRACTABLE, true);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f->C_CopyObject(s, unextractable, extr.data(), extr.size(), &copy));
  // The safe direction is always allowed.
  EXPECT_CKR_OK(SetAttrs(f, s, key, Template().Bool(CKA_EXTRACTABLE, false)));
}

TEST_F(StickyTest, SensitiveAndExtractableOnlyMoveTheSafeWay) {
  ExpectSpecStickiness(f_, session_, ImportKey(kSecret, {}, true, true), ImportKey(kSecret, {}, true, false));
}

TEST_F(StickyOffTest, SpecStickinessHoldsWithoutTheRule) {
  ExpectSpecStickiness(f_, session_, ImportKey(kSecret, {}, true, true), ImportKey(kSecret, {}, true, false));
}

// The time-split form of (a): give up CKA_DECRYPT, take CKA_WRAP, wrap, then swap back
// and decrypt — no moment has both usages, so only stickiness stops it.
TEST_F(StickyTest, UsagesCannotBeSwappedOverTime) {
  CK_OBJECT_HANDLE k = MustGenAes(32, {CKA_DECRYPT});
  EXPECT_CKR_OK(Set(k, CKA_DECRYPT, false)) << "taking a usage away is always allowed";
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Set(k, CKA_WRAP, true));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Copy(k, CKA_WRAP, true, &copy)) << "nor in a copy";
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Set(k, CKA_DECRYPT, true)) << "nor back";
}

TEST_F(StickyOffTest, TimeSplitAttackSucceedsWithoutTheRule) {
  CK_OBJECT_HANDLE k = MustGenAes(32, {CKA_DECRYPT});
  ASSERT_CKR_OK(Set(k, CKA_DECRYPT, false));
  ASSERT_CKR_OK(Set(k, CKA_WRAP, true));
  Bytes blob, plain;
  ASSERT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, k, Target(), &blob));
  ASSERT_CKR_OK(Set(k, CKA_WRAP, false));
  ASSERT_CKR_OK(Set(k, CKA_DECRYPT, true));
  ASSERT_CKR_OK(Decrypt(CKM_AES_KEY_WRAP, k, blob, &plain));
  EXPECT_EQ(plain, kSecret) << "the sensitive key's value came out";
}

// --- (c) wrapping with a weaker key ---------------------------------------------------------

class WeakerWrapTest : public HardeningTest {};
class WeakerWrapOffTest : public HardeningTest {
  std::string Rules() const override { return "no_weaker_wrapping = false\n"; }
};

CK_RV GenDes3Kek(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE* out) {
  Template t = Template().Bool(CKA_WRAP, true).Bool(CKA_ENCRYPT, false).Bool(CKA_DECRYPT, false);
  CK_MECHANISM m{CKM_DES3_KEY_GEN, nullptr, 0};
  return f->C_GenerateKey(s, &m, t.data(), t.size(), out);
}

TEST_F(WeakerWrapTest, WeakerWrappingKeyIsRefused) {
  Template t = Template().Ulong(CKA_VALUE_LEN, 32).Bool(CKA_EXTRACTABLE, true);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE strong = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_GenerateKey(session_, &gen, t.data(), t.size(), &strong));
  CK_OBJECT_HANDLE des3 = CK_INVALID_HANDLE, aes128 = MustGenAes(16, {CKA_WRAP});
  ASSERT_CKR_OK(GenDes3Kek(f_, session_, &des3));
  // 3DES (112 bits of security) and AES-128 (128) may not wrap AES-256 (256) …
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, Wrap(CKM_DES3_ECB, des3, strong, nullptr));
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, Wrap(CKM_AES_KEY_WRAP, aes128, strong, nullptr));
  // … but an equal or stronger key may.
  CK_OBJECT_HANDLE aes256kek = MustGenAes(32, {CKA_WRAP});
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, aes256kek, strong, nullptr));
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, aes128, Target(), nullptr)) << "AES-128 wraps AES-128";
}

TEST_F(WeakerWrapOffTest, WeakerWrappingIsAllowedWithoutTheRule) {
  Template t = Template().Ulong(CKA_VALUE_LEN, 32).Bool(CKA_EXTRACTABLE, true);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE strong = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_GenerateKey(session_, &gen, t.data(), t.size(), &strong));
  CK_OBJECT_HANDLE des3 = CK_INVALID_HANDLE, aes128 = MustGenAes(16, {CKA_WRAP});
  ASSERT_CKR_OK(GenDes3Kek(f_, session_, &des3));
  EXPECT_CKR_OK(Wrap(CKM_DES3_ECB, des3, strong, nullptr));
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, aes128, strong, nullptr));
}

// --- (d) unwrap a key of known value as a wrapping key, then wrap with it --------------------

class UnwrappedWrapTest : public HardeningTest {};
class UnwrappedWrapOffTest : public HardeningTest {
  std::string Rules() const override { return "untrusted_unwrapped = false\n"; }
};

// The attacker knows `known`, encrypts it under the token's RSA public key (anyone can:
// the key is public) and unwraps it as an AES key that may wrap. Returns its handle.
CK_OBJECT_HANDLE UnwrapKnownKek(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, const KeyPair& kp,
                                const Bytes& known) {
  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
  EXPECT_CKR_OK(f->C_EncryptInit(s, &m, kp.pub));
  Bytes blob(256);
  CK_ULONG len = blob.size();
  EXPECT_CKR_OK(f->C_Encrypt(s, const_cast<uint8_t*>(known.data()), known.size(), blob.data(), &len));
  blob.resize(len);
  Template tmpl = Template()
                      .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                      .Ulong(CKA_KEY_TYPE, CKK_AES)
                      .Bool(CKA_WRAP, true)
                      .Bool(CKA_SENSITIVE, true);
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
  EXPECT_CKR_OK(f->C_UnwrapKey(s, &m, kp.priv, blob.data(), blob.size(), tmpl.data(), tmpl.size(), &out));
  return out;
}

TEST_F(UnwrappedWrapTest, UnwrappedKeyIsNotLocalAndMayNotWrapSensitiveKeys) {
  KeyPair kp;
  ASSERT_CKR_OK(GenRsa({CKA_UNWRAP}, &kp));
  const Bytes known(32, 0x3c);
  CK_OBJECT_HANDLE kek = UnwrapKnownKek(f_, session_, kp, known);
  ASSERT_NE(kek, CK_INVALID_HANDLE);
  EXPECT_EQ(GetBool(f_, session_, kek, CKA_LOCAL), std::optional<bool>(false));
  EXPECT_EQ(GetBool(f_, session_, kek, CKA_TRUSTED), std::optional<bool>(false));
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, Wrap(CKM_AES_KEY_WRAP, kek, Target(), nullptr));
  // An imported key of known value is the same case.
  CK_OBJECT_HANDLE imported = ImportKey(known, {CKA_WRAP}, true, false);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, Wrap(CKM_AES_KEY_WRAP, imported, Target(), nullptr));
  // A key that is not sensitive has nothing to hide: it may be wrapped by it.
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, kek, ImportKey(kSecret, {}, false, true), nullptr));
}

TEST_F(UnwrappedWrapOffTest, AttackSucceedsWithoutTheRule) {
  KeyPair kp;
  ASSERT_CKR_OK(GenRsa({CKA_UNWRAP}, &kp));
  const Bytes known(32, 0x3c);
  CK_OBJECT_HANDLE kek = UnwrapKnownKek(f_, session_, kp, known);
  ASSERT_NE(kek, CK_INVALID_HANDLE);
  Bytes blob, plain;
  ASSERT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, kek, Target(), &blob));
  // The attacker decrypts the blob with the value they chose (here: in the token, with
  // a decrypt-only twin of it; OpenSSL outside would do the same).
  CK_OBJECT_HANDLE twin = ImportKey(known, {CKA_DECRYPT}, false, true);
  ASSERT_CKR_OK(Decrypt(CKM_AES_KEY_WRAP, twin, blob, &plain));
  EXPECT_EQ(plain, kSecret) << "the sensitive key's value came out";
}

// --- (e) conflicting usages -----------------------------------------------------------------

class ConflictingUsagesTest : public HardeningTest {};
class ConflictingUsagesOffTest : public HardeningTest {
  std::string Rules() const override { return "conflicting_usages = false\n"; }
};

CK_RV GenEc(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, bool derive, KeyPair* kp) {
  Template pub = Template().Bytes(CKA_EC_PARAMS, CurveOid("P-256")).Bool(CKA_VERIFY, true);
  Template priv = Template().Bool(CKA_SIGN, true).Bool(CKA_DERIVE, derive);
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  return f->C_GenerateKeyPair(s, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp->pub, &kp->priv);
}

TEST_F(ConflictingUsagesTest, SigningKeyThatUnwrapsIsNeverMade) {
  KeyPair kp;
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenRsa({CKA_SIGN, CKA_UNWRAP}, &kp));
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenRsa({CKA_SIGN_RECOVER, CKA_UNWRAP}, &kp));
  // An EC key that signs and derives is what pkcs11-tool, NSS and p11tool make: only
  // the strict profile refuses it.
  EXPECT_CKR_OK(GenEc(f_, session_, true, &kp));
  EXPECT_CKR_OK(GenRsa({CKA_SIGN}, &kp));
  EXPECT_CKR_OK(GenRsa({CKA_UNWRAP}, &kp));
  EXPECT_CKR_OK(GenEc(f_, session_, false, &kp));
  // Signing and decrypting with one RSA key is common and exposes nothing C_Decrypt
  // does not: only the strict profile refuses it.
  EXPECT_CKR_OK(GenRsa({CKA_SIGN, CKA_DECRYPT}, &kp));
}

// With none named, a private key signs and does not unwrap.
TEST_F(ConflictingUsagesTest, DefaultsNeverCompleteAConflict) {
  KeyPair kp;
  Template pub = Template().Ulong(CKA_MODULUS_BITS, 2048);
  Template priv;
  CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  ASSERT_CKR_OK(f_->C_GenerateKeyPair(session_, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub, &kp.priv));
  EXPECT_EQ(GetBool(f_, session_, kp.priv, CKA_SIGN), std::optional<bool>(true));
  EXPECT_EQ(GetBool(f_, session_, kp.priv, CKA_UNWRAP), std::optional<bool>(false));
  CK_OBJECT_HANDLE aes = CK_INVALID_HANDLE;
  Template t = Template().Ulong(CKA_VALUE_LEN, 16);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  ASSERT_CKR_OK(f_->C_GenerateKey(session_, &gen, t.data(), t.size(), &aes));
  EXPECT_EQ(GetBool(f_, session_, aes, CKA_ENCRYPT), std::optional<bool>(true));
  EXPECT_EQ(GetBool(f_, session_, aes, CKA_WRAP), std::optional<bool>(false));
  EXPECT_EQ(GetBool(f_, session_, aes, CKA_UNWRAP), std::optional<bool>(false));
}

TEST_F(ConflictingUsagesOffTest, ConflictingTemplatesAreMadeWithoutTheRule) {
  KeyPair kp;
  EXPECT_CKR_OK(GenRsa({CKA_SIGN, CKA_UNWRAP}, &kp));
  EXPECT_CKR_OK(GenEc(f_, session_, true, &kp));
}

// --- the strict profile --------------------------------------------------------------------

class StrictProfileTest : public HardeningTest {
  std::string Rules() const override { return "profile = \"strict\"\n"; }

 protected:
  std::set<CK_MECHANISM_TYPE> MechanismList() {
    CK_ULONG n = 0;
    EXPECT_CKR_OK(f_->C_GetMechanismList(slot_, nullptr, &n));
    std::vector<CK_MECHANISM_TYPE> list(n);
    EXPECT_CKR_OK(f_->C_GetMechanismList(slot_, list.data(), &n));
    return {list.begin(), list.begin() + static_cast<long>(n)};
  }
  CK_MECHANISM_INFO Info(CK_MECHANISM_TYPE m) {
    CK_MECHANISM_INFO info{};
    EXPECT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info)) << m;
    return info;
  }
};

TEST_F(StrictProfileTest, MechanismListHasOnlyApprovedMechanisms) {
  std::set<CK_MECHANISM_TYPE> list = MechanismList();
  for (CK_MECHANISM_TYPE m : {CKM_MD5, CKM_MD5_RSA_PKCS, CKM_MD5_HMAC, CKM_DES_KEY_GEN, CKM_DES_ECB, CKM_DES_CBC,
                              CKM_DES2_KEY_GEN, CKM_DES3_KEY_GEN, CKM_RSA_X_509, CKM_CHACHA20_POLY1305,
                              CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_AES_KEY_WRAP_PAD}) {
    EXPECT_EQ(list.count(m), 0u) << "0x" << std::hex << m << " is not approved";
    CK_MECHANISM_INFO info{};
    EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GetMechanismInfo(slot_, m, &info));
  }
  for (CK_MECHANISM_TYPE m : {CKM_SHA_1, CKM_SHA_1_HMAC, CKM_SHA256, CKM_AES_GCM, CKM_AES_KEY_WRAP,
                              CKM_AES_KEY_WRAP_KWP, CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS_PSS, CKM_ECDSA, CKM_EDDSA,
                              CKM_SHA1_RSA_PKCS, CKM_DES3_CBC, CKM_HKDF_DERIVE})
    EXPECT_EQ(list.count(m), 1u) << "0x" << std::hex << m << " is approved (for some use)";
  // SHA-1 signatures: verification only; 3DES: decryption only; RSA at least 2048 bits.
  EXPECT_EQ(Info(CKM_SHA1_RSA_PKCS).flags & (CKF_SIGN | CKF_VERIFY), CKF_VERIFY);
  EXPECT_EQ(Info(CKM_ECDSA_SHA1).flags & (CKF_SIGN | CKF_VERIFY), CKF_VERIFY);
  EXPECT_EQ(Info(CKM_DES3_CBC).flags & (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP), CKF_DECRYPT);
  EXPECT_EQ(Info(CKM_RSA_PKCS_KEY_PAIR_GEN).ulMinKeySize, 2048u);
  EXPECT_EQ(Info(CKM_SHA256_RSA_PKCS).ulMinKeySize, 2048u);
  EXPECT_EQ(Info(CKM_RSA_PKCS).flags & (CKF_ENCRYPT | CKF_WRAP), 0u) << "no PKCS#1 v1.5 key transport";
  // Only authenticated wrapping.
  EXPECT_EQ(Info(CKM_AES_ECB).flags & (CKF_WRAP | CKF_UNWRAP), 0u);
  EXPECT_EQ(Info(CKM_AES_CBC_PAD).flags & (CKF_WRAP | CKF_UNWRAP), 0u);
  EXPECT_NE(Info(CKM_AES_KEY_WRAP).flags & CKF_WRAP, 0u);
  EXPECT_NE(Info(CKM_RSA_PKCS_OAEP).flags & CKF_UNWRAP, 0u);
}

TEST_F(StrictProfileTest, UnapprovedAlgorithmsAndSizesAreRefusedAtUse) {
  KeyOptions o;
  KeyPair small = GenerateRsa(f_, session_, 1024, o);
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, small.rv) << "RSA-1024 generation";
  KeyPair rsa = GenerateRsa(f_, session_, 2048, o);
  ASSERT_CKR_OK(rsa.rv) << "RSA-2048 generation";
  CK_MECHANISM sha1{CKM_SHA1_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(session_, &sha1, rsa.priv)) << "no SHA-1 signatures";
  EXPECT_CKR_OK(f_->C_VerifyInit(session_, &sha1, rsa.pub)) << "old SHA-1 signatures still verify";
  CK_MECHANISM md5{CKM_MD5, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_DigestInit(session_, &md5));
  CK_MECHANISM sha_1{CKM_SHA_1, nullptr, 0};
  EXPECT_CKR_OK(f_->C_DigestInit(session_, &sha_1)) << "SHA-1 digests stay (SP 800-131A r2 §9)";
  KeyPair k1 = GenerateEc(f_, session_, "P-256", o);
  EXPECT_CKR_OK(k1.rv);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_MECHANISM des{CKM_DES_KEY_GEN, nullptr, 0};
  Template t;
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GenerateKey(session_, &des, t.data(), t.size(), &h));
  // Unauthenticated wrapping: AES-ECB no longer wraps; AES-KW does.
  CK_OBJECT_HANDLE kek = MustGenAes(32, {CKA_WRAP});
  Template ext = Template().Ulong(CKA_VALUE_LEN, 16).Bool(CKA_EXTRACTABLE, true);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE target = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_GenerateKey(session_, &gen, ext.data(), ext.size(), &target));
  EXPECT_CKR(CKR_MECHANISM_INVALID, Wrap(CKM_AES_ECB, kek, target, nullptr));
  EXPECT_CKR_OK(Wrap(CKM_AES_KEY_WRAP, kek, target, nullptr));
}

TEST_F(StrictProfileTest, OneKeyOnePurpose) {
  KeyPair kp;
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, GenRsa({CKA_SIGN, CKA_DECRYPT}, &kp));
  EXPECT_CKR_OK(GenRsa({CKA_DECRYPT}, &kp));
}

TEST_F(StrictProfileTest, UnapprovedCurvesAreRefused) {
  KeyOptions o;
  const Bytes secp256k1 = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A};  // 1.3.132.0.10
  Template pub = Template().Bytes(CKA_EC_PARAMS, secp256k1).Bool(CKA_VERIFY, true);
  Template priv = Template().Bool(CKA_SIGN, true);
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  KeyPair kp;
  EXPECT_CKR(CKR_CURVE_NOT_SUPPORTED,
             f_->C_GenerateKeyPair(session_, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub, &kp.priv));
  EXPECT_CKR_OK(GenerateEc(f_, session_, "P-384", o).rv);
  EXPECT_CKR_OK(GenerateEdwards(f_, session_, CurveOid("Ed25519"), o).rv) << "FIPS 186-5 EdDSA";
}

// The default profile offers everything (the same checks would fail there).
TEST_F(HardeningTest, DefaultProfileKeepsLegacyMechanisms) {
  CK_ULONG n = 0;
  ASSERT_CKR_OK(f_->C_GetMechanismList(slot_, nullptr, &n));
  std::vector<CK_MECHANISM_TYPE> list(n);
  ASSERT_CKR_OK(f_->C_GetMechanismList(slot_, list.data(), &n));
  EXPECT_NE(std::find(list.begin(), list.end(), CKM_MD5), list.end());
  KeyOptions o;
  EXPECT_CKR_OK(GenerateRsa(f_, session_, 1024, o).rv);
}

// --- configuration -------------------------------------------------------------------------

class HardeningConfigTest : public ModuleTest {
 protected:
  void SetUp() override {
    SKIP_IF_SOFTHSM("the hardening rules are FerroHSM's");
    ModuleTest::SetUp();
  }
};

TEST_F(HardeningConfigTest, UnknownRuleOrBadValueRefusesToStart) {
  for (const char* bad : {"wrap_xor_decryp = false\n", "wrap_xor_decrypt = 0\n", "profile = \"fips\"\n"}) {
    StoreOptions o;
    o.extra_config = std::string("\n[hardening]\n") + bad;
    store_->WriteConfig(o);
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
    EXPECT_NE(f_->C_Initialize(nullptr), CKR_OK) << bad;
    store_->WriteConfig(StoreOptions{});
    ASSERT_CKR_OK(f_->C_Initialize(nullptr)) << "the defaults again";
    MarkInitialized();
  }
}

}  // namespace
}  // namespace ferrohsm::abi
