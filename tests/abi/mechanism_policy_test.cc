// Who may use which mechanism, through the C ABI (issue 11, finding 12):
//  - a token's policy in the configuration ([token."<label>"] allow_mechanisms /
//    deny_mechanisms): C_GetMechanismList and C_GetMechanismInfo reflect it, and every
//    *Init, key generation, wrap and derive answers CKR_MECHANISM_INVALID for a
//    mechanism the policy excludes;
//  - a key's CKA_ALLOWED_MECHANISMS: any use of the key with another mechanism answers
//    CKR_MECHANISM_INVALID (PKCS#11 3.0 §4.7: "a list of mechanisms allowed to be used
//    with this key").
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

const CK_MECHANISM_TYPE kDenied[] = {CKM_ECDSA, CKM_SHA256, CKM_AES_KEY_WRAP, CKM_AES_ECB_ENCRYPT_DATA, CKM_AES_GCM};
const CK_MECHANISM_TYPE kAllowed[] = {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, CKM_SHA256};

std::string TomlList(const CK_MECHANISM_TYPE* begin, const CK_MECHANISM_TYPE* end) {
  std::string out = "[";
  for (const CK_MECHANISM_TYPE* m = begin; m != end; ++m) out += (m == begin ? "" : ", ") + std::to_string(*m);
  return out + "]";
}

Bytes MechArray(std::initializer_list<CK_MECHANISM_TYPE> list) {
  Bytes out(list.size() * sizeof(CK_MECHANISM_TYPE));
  std::memcpy(out.data(), std::data(list), out.size());
  return out;
}

const uint8_t kDigest32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

class PolicyTestBase : public ModuleTest {
 protected:
  // AesKey() encrypts, wraps and derives: one key for every mechanism under test.
  StoreOptions Options() const override { return WithoutHardening(); }
  std::set<CK_MECHANISM_TYPE> MechanismList(CK_SLOT_ID slot) {
    CK_ULONG n = 0;
    EXPECT_CKR_OK(f_->C_GetMechanismList(slot, nullptr, &n));
    std::vector<CK_MECHANISM_TYPE> list(n);
    if (n != 0) {
      EXPECT_CKR_OK(f_->C_GetMechanismList(slot, list.data(), &n));
    }
    return {list.begin(), list.begin() + static_cast<long>(n)};
  }
  CK_RV MechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE m) {
    CK_MECHANISM_INFO info{};
    return f_->C_GetMechanismInfo(slot, m, &info);
  }
  // A single-part signature with `m`, then its verification; CKR_OK or the first failure.
  CK_RV SignAndVerify(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, const KeyPair& k) {
    CK_MECHANISM m{mech, nullptr, 0};
    CK_RV rv = f_->C_SignInit(s, &m, k.priv);
    if (rv != CKR_OK) return rv;
    uint8_t sig[256];
    CK_ULONG len = sizeof sig;
    rv = f_->C_Sign(s, const_cast<uint8_t*>(kDigest32), sizeof kDigest32, sig, &len);
    if (rv != CKR_OK) return rv;
    rv = f_->C_VerifyInit(s, &m, k.pub);
    if (rv != CKR_OK) return rv;
    return f_->C_Verify(s, const_cast<uint8_t*>(kDigest32), sizeof kDigest32, sig, len);
  }
  CK_RV Digest(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech) {
    CK_MECHANISM m{mech, nullptr, 0};
    CK_RV rv = f_->C_DigestInit(s, &m);
    if (rv != CKR_OK) return rv;
    uint8_t out[64];
    CK_ULONG len = sizeof out;
    return f_->C_Digest(s, const_cast<uint8_t*>(kDigest32), sizeof kDigest32, out, &len);
  }
  // An AES-128 key that may encrypt, wrap, unwrap and derive (and be wrapped).
  CK_OBJECT_HANDLE AesKey(CK_SESSION_HANDLE s, std::initializer_list<CK_MECHANISM_TYPE> allowed = {}) {
    Template t = Template()
                     .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                     .Ulong(CKA_KEY_TYPE, CKK_AES)
                     .Bytes(CKA_VALUE, Bytes(16, 0x42))
                     .Bool(CKA_ENCRYPT, true)
                     .Bool(CKA_DECRYPT, true)
                     .Bool(CKA_WRAP, true)
                     .Bool(CKA_UNWRAP, true)
                     .Bool(CKA_DERIVE, true)
                     .Bool(CKA_EXTRACTABLE, true);
    if (allowed.size() != 0) t.Bytes(CKA_ALLOWED_MECHANISMS, MechArray(allowed));
    Created c = CreateObject(f_, s, t);
    EXPECT_CKR_OK(c.rv) << "C_CreateObject of an AES key";
    return c.handle;
  }
  CK_RV Wrap(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{mech, nullptr, 0};
    uint8_t out[64];
    CK_ULONG len = sizeof out;
    return f_->C_WrapKey(s, &m, wrapping, key, out, &len);
  }
  CK_RV DeriveEcbData(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE base) {
    uint8_t data[16] = {};
    CK_KEY_DERIVATION_STRING_DATA p{data, sizeof data};
    CK_MECHANISM m{CKM_AES_ECB_ENCRYPT_DATA, &p, sizeof p};
    Template t = Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
    return f_->C_DeriveKey(s, &m, base, t.data(), t.size(), &out);
  }
  CK_RV EncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key) {
    uint8_t iv[16] = {};
    CK_GCM_PARAMS gcm{iv, 12, 96, nullptr, 0, 128};
    CK_MECHANISM m{mech, nullptr, 0};
    if (mech == CKM_AES_GCM) m = {mech, &gcm, sizeof gcm};
    if (mech == CKM_AES_CBC_PAD || mech == CKM_AES_CBC) m = {mech, iv, sizeof iv};
    CK_RV rv = f_->C_EncryptInit(s, &m, key);
    if (rv == CKR_OK) {  // end it again
      uint8_t out[64];
      CK_ULONG len = sizeof out;
      uint8_t in[16] = {};
      EXPECT_CKR_OK(f_->C_Encrypt(s, in, sizeof in, out, &len));
    }
    return rv;
  }
};

class TokenPolicyTest : public PolicyTestBase {
 protected:
  void SetUp() override {
    SKIP_IF_SOFTHSM("per-token mechanism policy is FerroHSM's configuration");
    PolicyTestBase::SetUp();
  }
  StoreOptions Options() const override {
    StoreOptions o = WithoutHardening();
    o.extra_config += "\n[token.\"deny-tok\"]\ndeny_mechanisms = " + TomlList(std::begin(kDenied), std::end(kDenied)) +
                     "\n[token.\"allow-tok\"]\nallow_mechanisms = " +
                     TomlList(std::begin(kAllowed), std::end(kAllowed)) + "\n";
    return o;
  }
};

TEST_F(TokenPolicyTest, DenyListHidesAndRefusesItsMechanisms) {
  const CK_SLOT_ID free_slot = FreeSlot();
  const std::set<CK_MECHANISM_TYPE> everything = MechanismList(free_slot);
  for (CK_MECHANISM_TYPE m : kDenied) ASSERT_EQ(everything.count(m), 1u) << "the registry lacks 0x" << std::hex << m;

  CK_SLOT_ID slot = InitToken("deny-tok");
  ASSERT_NE(slot, kNoSlot);
  const std::set<CK_MECHANISM_TYPE> listed = MechanismList(slot);
  for (CK_MECHANISM_TYPE m : kDenied) {
    EXPECT_EQ(listed.count(m), 0u) << "denied mechanism 0x" << std::hex << m << " is listed";
    EXPECT_CKR(CKR_MECHANISM_INVALID, MechanismInfo(slot, m)) << "0x" << std::hex << m;
  }
  EXPECT_EQ(listed.size(), everything.size() - std::size(kDenied)) << "only the denied mechanisms are missing";
  EXPECT_CKR_OK(MechanismInfo(slot, CKM_ECDSA_SHA256));

  CK_SESSION_HANDLE s = OpenUser(slot);
  ASSERT_NE(s, CK_INVALID_HANDLE);
  KeyPair ec = GenerateEc(f_, s, "P-256");
  ASSERT_CKR_OK(ec.rv);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &ecdsa, ec.priv));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_VerifyInit(s, &ecdsa, ec.pub));
  EXPECT_CKR_OK(SignAndVerify(s, CKM_ECDSA_SHA256, ec));
  EXPECT_CKR(CKR_MECHANISM_INVALID, Digest(s, CKM_SHA256));
  EXPECT_CKR_OK(Digest(s, CKM_SHA384));

  CK_OBJECT_HANDLE aes = AesKey(s);
  CK_OBJECT_HANDLE target = AesKey(s);
  EXPECT_CKR(CKR_MECHANISM_INVALID, EncryptInit(s, CKM_AES_GCM, aes));
  EXPECT_CKR_OK(EncryptInit(s, CKM_AES_ECB, aes));
  EXPECT_CKR(CKR_MECHANISM_INVALID, Wrap(s, CKM_AES_KEY_WRAP, aes, target));
  EXPECT_CKR_OK(Wrap(s, CKM_AES_KEY_WRAP_PAD, aes, target));
  EXPECT_CKR(CKR_MECHANISM_INVALID, DeriveEcbData(s, aes));

  // The policy is by label: another token (and the free slot) keep everything.
  CK_SLOT_ID other = InitToken("other-tok");
  ASSERT_NE(other, kNoSlot);
  EXPECT_EQ(MechanismList(other), everything);
  EXPECT_EQ(MechanismList(FreeSlot()), everything);
}

TEST_F(TokenPolicyTest, AllowListIsAllThereIs) {
  CK_SLOT_ID slot = InitToken("allow-tok");
  ASSERT_NE(slot, kNoSlot);
  EXPECT_EQ(MechanismList(slot), std::set<CK_MECHANISM_TYPE>(std::begin(kAllowed), std::end(kAllowed)));
  EXPECT_CKR(CKR_MECHANISM_INVALID, MechanismInfo(slot, CKM_RSA_PKCS));
  EXPECT_CKR_OK(MechanismInfo(slot, CKM_ECDSA));

  CK_SESSION_HANDLE s = OpenUser(slot);
  ASSERT_NE(s, CK_INVALID_HANDLE);
  EXPECT_CKR(CKR_MECHANISM_INVALID, GenerateRsa(f_, s, 2048).rv);
  KeyOptions o;
  o.encrypt = true;
  EXPECT_CKR(CKR_MECHANISM_INVALID, GenerateAes(f_, s, 16, o).rv);
  KeyPair ec = GenerateEc(f_, s, "P-256");
  ASSERT_CKR_OK(ec.rv);
  EXPECT_CKR_OK(SignAndVerify(s, CKM_ECDSA, ec));
  EXPECT_CKR(CKR_MECHANISM_INVALID, SignAndVerify(s, CKM_ECDSA_SHA256, ec));
  EXPECT_CKR_OK(Digest(s, CKM_SHA256));
  EXPECT_CKR(CKR_MECHANISM_INVALID, Digest(s, CKM_SHA384));
  CK_OBJECT_HANDLE aes = AesKey(s);  // objects may still be created; the mechanisms stay closed
  EXPECT_CKR(CKR_MECHANISM_INVALID, EncryptInit(s, CKM_AES_ECB, aes));
  EXPECT_CKR(CKR_MECHANISM_INVALID, Wrap(s, CKM_AES_KEY_WRAP_PAD, aes, AesKey(s)));
  EXPECT_CKR(CKR_MECHANISM_INVALID, DeriveEcbData(s, aes));
}

class AllowedMechanismsTest : public PolicyTestBase {
 protected:
  void SetUp() override {
    PolicyTestBase::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
    s_ = OpenUser(slot_);
    ASSERT_NE(s_, CK_INVALID_HANDLE);
  }
  CK_SLOT_ID slot_ = kNoSlot;
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
};

TEST_F(AllowedMechanismsTest, SignAndVerifyKeepToTheList) {
  CK_MECHANISM_TYPE list[] = {CKM_ECDSA_SHA256};
  Bytes params = CurveOid("P-256");
  Template pub = Template().Bytes(CKA_EC_PARAMS, params).Bool(CKA_VERIFY, true).Raw(CKA_ALLOWED_MECHANISMS, list, sizeof list);
  Template priv = Template().Bool(CKA_SIGN, true).Bool(CKA_PRIVATE, true).Raw(CKA_ALLOWED_MECHANISMS, list, sizeof list);
  CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  KeyPair k;
  k.rv = f_->C_GenerateKeyPair(s_, &gen, pub.data(), pub.size(), priv.data(), priv.size(), &k.pub, &k.priv);
  ASSERT_CKR_OK(k.rv);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s_, &ecdsa, k.priv));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_VerifyInit(s_, &ecdsa, k.pub));
  EXPECT_CKR_OK(SignAndVerify(s_, CKM_ECDSA_SHA256, k));
  auto stored = GetBytes(f_, s_, k.priv, CKA_ALLOWED_MECHANISMS);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, MechArray({CKM_ECDSA_SHA256}));
}

TEST_F(AllowedMechanismsTest, CiphersKeepToTheList) {
  CK_OBJECT_HANDLE gcm_only = AesKey(s_, {CKM_AES_GCM});
  EXPECT_CKR(CKR_MECHANISM_INVALID, EncryptInit(s_, CKM_AES_CBC_PAD, gcm_only));
  EXPECT_CKR(CKR_MECHANISM_INVALID, EncryptInit(s_, CKM_AES_ECB, gcm_only));
  EXPECT_CKR_OK(EncryptInit(s_, CKM_AES_GCM, gcm_only));
  CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_DecryptInit(s_, &ecb, gcm_only));
}

TEST_F(AllowedMechanismsTest, WrapUnwrapAndDeriveKeepToTheList) {
  CK_OBJECT_HANDLE target = AesKey(s_);
  CK_OBJECT_HANDLE kw_only = AesKey(s_, {CKM_AES_KEY_WRAP});
  EXPECT_CKR(CKR_MECHANISM_INVALID, Wrap(s_, CKM_AES_KEY_WRAP_PAD, kw_only, target))
      << "the wrapping key's CKA_ALLOWED_MECHANISMS";
  EXPECT_CKR_OK(Wrap(s_, CKM_AES_KEY_WRAP, kw_only, target));

  // Unwrapping with a key restricted to another mechanism.
  CK_MECHANISM kw{CKM_AES_KEY_WRAP, nullptr, 0};
  uint8_t wrapped[64];
  CK_ULONG len = sizeof wrapped;
  ASSERT_CKR_OK(f_->C_WrapKey(s_, &kw, kw_only, target, wrapped, &len));
  CK_OBJECT_HANDLE pad_only = AesKey(s_, {CKM_AES_KEY_WRAP_PAD});
  Template t = Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_UnwrapKey(s_, &kw, pad_only, wrapped, len, t.data(), t.size(), &out))
      << "the unwrapping key's CKA_ALLOWED_MECHANISMS";
  EXPECT_CKR_OK(f_->C_UnwrapKey(s_, &kw, kw_only, wrapped, len, t.data(), t.size(), &out));

  CK_OBJECT_HANDLE cbc_data_only = AesKey(s_, {CKM_AES_CBC_ENCRYPT_DATA});
  EXPECT_CKR(CKR_MECHANISM_INVALID, DeriveEcbData(s_, cbc_data_only)) << "the base key's CKA_ALLOWED_MECHANISMS";
  EXPECT_CKR_OK(DeriveEcbData(s_, AesKey(s_, {CKM_AES_ECB_ENCRYPT_DATA})));
}

TEST_F(AllowedMechanismsTest, MessageEncryptionKeepsToTheList) {
  SKIP_IF_SOFTHSM("SoftHSMv2 has no message-based encryption");
  ASSERT_NE(GetModule().fl3, nullptr);
  CK_OBJECT_HANDLE cbc_only = AesKey(s_, {CKM_AES_CBC});
  CK_MECHANISM gcm{CKM_AES_GCM, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, GetModule().fl3->C_MessageEncryptInit(s_, &gcm, cbc_only));
  CK_OBJECT_HANDLE gcm_only = AesKey(s_, {CKM_AES_GCM});
  ASSERT_CKR_OK(GetModule().fl3->C_MessageEncryptInit(s_, &gcm, gcm_only));
  EXPECT_CKR_OK(GetModule().fl3->C_MessageEncryptFinal(s_));
}

}  // namespace
}  // namespace ferrohsm::abi
