// RSA key sizes (issue 11): 1024 to 8192 bits for generation, import and use, and
// C_GetMechanismInfo saying so (ulMinKeySize/ulMaxKeySize count modulus bits for
// RSA). Keys outside the range are refused with CKR_KEY_SIZE_RANGE. Every signature
// is checked by OpenSSL on the public key the module exports.
#include <openssl/rsa.h>

#include <chrono>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"
#include "fixture/ossl_keys.h"

namespace ferrohsm::abi {
namespace {

constexpr CK_ULONG kMinBits = 1024;
constexpr CK_ULONG kMaxBits = 8192;

// Every RSA mechanism the module lists.
constexpr CK_MECHANISM_TYPE kRsaMechs[] = {
    CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS,           CKM_RSA_X_509,           CKM_RSA_PKCS_OAEP,
    CKM_RSA_PKCS_PSS,          CKM_SHA1_RSA_PKCS,      CKM_SHA224_RSA_PKCS,     CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS,       CKM_SHA512_RSA_PKCS,    CKM_SHA3_256_RSA_PKCS,   CKM_SHA1_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,   CKM_SHA512_RSA_PKCS_PSS, CKM_SHA3_512_RSA_PKCS_PSS,
};

class RsaKeySizeTest : public TokenTest {
 protected:
  // Signs with SHA256_RSA_PKCS and SHA256_RSA_PKCS_PSS and has OpenSSL verify both.
  void SignsAndOpenSslVerifies(const KeyPair& kp, CK_ULONG bits) {
    Pkey pub = PublicKeyFromObject(f_, session_, kp.pub);
    ASSERT_TRUE(pub) << "the public key cannot be rebuilt";
    EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), static_cast<int>(bits));
    Bytes data = AsBytes("an RSA key of any size from 1024 to 8192 bits");
    CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
    for (bool use_pss : {false, true}) {
      SCOPED_TRACE(use_pss ? "PSS" : "PKCS #1 v1.5");
      CK_MECHANISM m{use_pss ? CKM_SHA256_RSA_PKCS_PSS : CKM_SHA256_RSA_PKCS, use_pss ? &pss : nullptr,
                     use_pss ? sizeof pss : 0};
      ASSERT_CKR_OK(f_->C_SignInit(session_, &m, kp.priv));
      Bytes sig(bits / 8);
      CK_ULONG len = sig.size();
      ASSERT_CKR_OK(f_->C_Sign(session_, data.data(), data.size(), sig.data(), &len));
      EXPECT_EQ(len, bits / 8);
      sig.resize(len);
      EXPECT_TRUE(OsslVerify(pub.get(), m.mechanism, data, sig, use_pss ? &pss : nullptr));
      ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, kp.pub));
      EXPECT_CKR_OK(f_->C_Verify(session_, data.data(), data.size(), sig.data(), sig.size()));
    }
  }

  // OAEP (SHA-1) encryption by the module, decryption by the module.
  void EncryptsAndDecrypts(const KeyPair& kp) {
    CK_RSA_PKCS_OAEP_PARAMS p{CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
    CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &p, sizeof p};
    const Bytes plain = AsBytes("oaep");
    ASSERT_CKR_OK(f_->C_EncryptInit(session_, &m, kp.pub));
    CK_ULONG len = 0;
    ASSERT_CKR_OK(f_->C_Encrypt(session_, const_cast<CK_BYTE*>(plain.data()), plain.size(), nullptr, &len));
    Bytes ct(len);
    ASSERT_CKR_OK(f_->C_Encrypt(session_, const_cast<CK_BYTE*>(plain.data()), plain.size(), ct.data(), &len));
    ct.resize(len);
    ASSERT_CKR_OK(f_->C_DecryptInit(session_, &m, kp.priv));
    Bytes back(ct.size());
    len = back.size();
    ASSERT_CKR_OK(f_->C_Decrypt(session_, ct.data(), ct.size(), back.data(), &len));
    back.resize(len);
    EXPECT_EQ(back, plain);
  }

  KeyPair Import(const RsaParts& r) {
    Template pub, priv;
    pub.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, false);
    pub.Bytes(CKA_MODULUS, r.n).Bytes(CKA_PUBLIC_EXPONENT, r.e).Bool(CKA_VERIFY, true).Bool(CKA_ENCRYPT, true);
    priv.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, false);
    priv.Bytes(CKA_MODULUS, r.n).Bytes(CKA_PUBLIC_EXPONENT, r.e).Bytes(CKA_PRIVATE_EXPONENT, r.d);
    priv.Bytes(CKA_PRIME_1, r.p).Bytes(CKA_PRIME_2, r.q).Bytes(CKA_EXPONENT_1, r.dp).Bytes(CKA_EXPONENT_2, r.dq);
    priv.Bytes(CKA_COEFFICIENT, r.qinv).Bool(CKA_SIGN, true).Bool(CKA_DECRYPT, true);
    KeyPair kp;
    Created a = CreateObject(f_, session_, pub), b = CreateObject(f_, session_, priv);
    kp.rv = a.rv != CKR_OK ? a.rv : b.rv;
    kp.pub = a.handle;
    kp.priv = b.handle;
    return kp;
  }
};

TEST_F(RsaKeySizeTest, MechanismInfoSays1024To8192) {
  for (CK_MECHANISM_TYPE m : kRsaMechs) {
    SCOPED_TRACE(testing::Message() << "mechanism 0x" << std::hex << m);
    CK_MECHANISM_INFO info{};
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info));
    EXPECT_EQ(info.ulMinKeySize, kMinBits);
    EXPECT_EQ(info.ulMaxKeySize, kMaxBits);
  }
}

TEST_F(RsaKeySizeTest, Generates1024BitKeysAndUsesThem) {
  KeyOptions o;
  o.encrypt = true;
  KeyPair kp = GenerateRsa(f_, session_, 1024, o);
  ASSERT_CKR_OK(kp.rv) << "a 1024-bit RSA key pair";
  EXPECT_EQ(GetUlong(f_, session_, kp.pub, CKA_MODULUS_BITS), std::optional<CK_ULONG>(1024));
  SignsAndOpenSslVerifies(kp, 1024);
  EncryptsAndDecrypts(kp);
}

TEST_F(RsaKeySizeTest, ImportedKeysAtBothEndsWork) {
  for (const char* bits : {"1024", "3072"}) {
    SCOPED_TRACE(bits);
    Pkey k = OsslGenerate("RSA", bits);
    ASSERT_TRUE(k);
    KeyPair kp = Import(RsaPartsOf(k.get()));
    ASSERT_CKR_OK(kp.rv);
    SignsAndOpenSslVerifies(kp, std::stoul(bits));
    EncryptsAndDecrypts(kp);
  }
}

// The top of the range: one 8192-bit generation (tens of seconds on a loaded
// machine; the only one in the suite), then the same key exported and imported.
TEST_F(RsaKeySizeTest, Generates8192BitKeysAndImportsThem) {
  KeyOptions o;
  o.encrypt = true;
  o.sensitive = false;
  o.extractable = true;
  const auto start = std::chrono::steady_clock::now();
  KeyPair kp = GenerateRsa(f_, session_, kMaxBits, o);
  ASSERT_CKR_OK(kp.rv) << "an 8192-bit RSA key pair";
  std::printf("8192-bit RSA generation: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  SignsAndOpenSslVerifies(kp, kMaxBits);
  RsaParts r;
  const std::pair<CK_ATTRIBUTE_TYPE, Bytes*> parts[] = {
      {CKA_MODULUS, &r.n},   {CKA_PUBLIC_EXPONENT, &r.e}, {CKA_PRIVATE_EXPONENT, &r.d},
      {CKA_PRIME_1, &r.p},   {CKA_PRIME_2, &r.q},         {CKA_EXPONENT_1, &r.dp},
      {CKA_EXPONENT_2, &r.dq}, {CKA_COEFFICIENT, &r.qinv}};
  for (auto [type, out] : parts) {
    auto v = GetBytes(f_, session_, kp.priv, type);
    ASSERT_TRUE(v.has_value()) << "attribute 0x" << std::hex << type;
    *out = *v;
  }
  KeyPair imported = Import(r);
  ASSERT_CKR_OK(imported.rv) << "the 8192-bit key imported";
  SignsAndOpenSslVerifies(imported, kMaxBits);
  EncryptsAndDecrypts(imported);
}

TEST_F(RsaKeySizeTest, SizesOutsideTheRangeAreRefused) {
  for (CK_ULONG bits : {kMinBits - 1, kMaxBits + 1, CK_ULONG{512}}) {
    SCOPED_TRACE(bits);
    EXPECT_CKR(CKR_KEY_SIZE_RANGE, GenerateRsa(f_, session_, bits).rv);
  }
  // A 768-bit key can be stored (it may come from elsewhere) but not used.
  Pkey small = OsslGenerate("RSA", "768");
  ASSERT_TRUE(small);
  KeyPair kp = Import(RsaPartsOf(small.get()));
  ASSERT_CKR_OK(kp.rv);
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, f_->C_SignInit(session_, &m, kp.priv));
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, f_->C_VerifyInit(session_, &m, kp.pub));
}

}  // namespace
}  // namespace ferrohsm::abi
