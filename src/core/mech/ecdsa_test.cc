#include "core/mech/test_util.h"

#include <openssl/ec.h>
#include <openssl/evp.h>

namespace ferrohsm::mech::test {
namespace {

struct EcMech {
  CK_MECHANISM_TYPE type;
  const char* md;  // nullptr: CKM_ECDSA over the caller's digest
};

const EcMech kMechs[] = {{CKM_ECDSA_SHA1, "SHA1"},     {CKM_ECDSA_SHA224, "SHA224"}, {CKM_ECDSA_SHA256, "SHA256"},
                         {CKM_ECDSA_SHA384, "SHA384"}, {CKM_ECDSA_SHA512, "SHA512"}};

// Plain OpenSSL verification of an r||s signature (converted to DER here).
bool openssl_verify(const Key& key, const char* md, ByteView data, ByteView sig) {
  const size_t n = sig.size() / 2;
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(sig.data(), static_cast<int>(n), nullptr),
                 BN_bin2bn(sig.data() + n, static_cast<int>(n), nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  bool ok = false;
  if (md != nullptr) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit_ex(ctx, nullptr, md, nullptr, nullptr, key.pkey, nullptr) == 1 &&
         EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len), data.data(), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
  } else {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey, nullptr);
    ok = EVP_PKEY_verify_init(ctx) == 1 &&
         EVP_PKEY_verify(ctx, der, static_cast<size_t>(der_len), data.data(), data.size()) == 1;
    EVP_PKEY_CTX_free(ctx);
  }
  OPENSSL_free(der);
  return ok;
}

const Bytes kEcdsaMsg = to_bytes(text("FerroHSM ECDSA test message spanning several parts"));

TEST(MechEcdsa, RoundTripsOnEveryCurveCrossCheckedWithOpenSsl) {
  for (auto [oid, size] : {std::pair{kP256, 64u}, std::pair{kP384, 96u}, std::pair{kP521, 132u}}) {
    const Pair& k = ec_pair(oid);
    ASSERT_TRUE(k.priv);
    for (const EcMech& m : kMechs) {
      SCOPED_TRACE(m.md);
      auto sig = sign(mech(m.type), k.priv, kEcdsaMsg);
      ASSERT_TRUE(sig.ok()) << sig.error().message;
      EXPECT_EQ(sig->size(), size);
      EXPECT_TRUE(openssl_verify(*k.pub, m.md, kEcdsaMsg, *sig));
      EXPECT_TRUE(verify(mech(m.type), k.pub, kEcdsaMsg, *sig).ok());
      EXPECT_TRUE(verify(mech(m.type), k.priv, kEcdsaMsg, *sig).ok());
      auto parts = sign_parts(mech(m.type), k.priv, kEcdsaMsg, 5);
      ASSERT_TRUE(parts.ok());
      EXPECT_TRUE(verify_parts(mech(m.type), k.pub, kEcdsaMsg, 11, *parts).ok());
      EXPECT_EQ(verify(mech(m.type), k.pub, text("other"), *sig).rv(), CKR_SIGNATURE_INVALID);
    }
    // CKM_ECDSA over digests of any length.
    for (size_t len : {1u, 20u, 32u, 48u, 64u, 100u}) {
      Bytes h(len, 0x5c);
      auto sig = sign(mech(CKM_ECDSA), k.priv, h);
      ASSERT_TRUE(sig.ok()) << len;
      EXPECT_TRUE(openssl_verify(*k.pub, nullptr, h, *sig)) << len;
      EXPECT_TRUE(verify(mech(CKM_ECDSA), k.pub, h, *sig).ok());
      h[0] ^= 1;
      EXPECT_EQ(verify(mech(CKM_ECDSA), k.pub, h, *sig).rv(), CKR_SIGNATURE_INVALID);
    }
  }
}

TEST(MechEcdsa, WycheproofP256KnownAnswer) {
  // ecdsa_secp256r1_sha256_p1363_test.json, tcId 1.
  KeyPtr pub = must_key(key_from_attributes(
      CKO_PUBLIC_KEY,
      attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC)},
             {CKA_EC_PARAMS, hex(kP256)},
             {CKA_EC_POINT, hex("042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921f"
                                "b1498a60f4606766b3d9685001558d1a974e7341513e")}})));
  ASSERT_TRUE(pub);
  Bytes sig = hex(
      "2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e184cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c"
      "77a67f79e6fadd76");
  EXPECT_TRUE(verify(mech(CKM_ECDSA_SHA256), pub, hex("313233343030"), sig).ok());
  sig[63] ^= 1;
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), pub, hex("313233343030"), sig).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechEcdsa, Errors) {
  const Pair& k = ec_pair(kP256);
  auto sig = sign(mech(CKM_ECDSA_SHA256), k.priv, kEcdsaMsg);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), k.pub, kEcdsaMsg, ByteView(*sig).first(63)).rv(), CKR_SIGNATURE_LEN_RANGE);
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), k.pub, kEcdsaMsg, Bytes(66, 1)).rv(), CKR_SIGNATURE_LEN_RANGE);
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), k.pub, kEcdsaMsg, Bytes(64, 0)).rv(), CKR_SIGNATURE_INVALID);  // r = s = 0
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), k.pub, kEcdsaMsg, Bytes(64, 0xff)).rv(), CKR_SIGNATURE_INVALID);  // >= n
  EXPECT_EQ(verify(mech(CKM_ECDSA_SHA256), ec_pair(kP384).pub, kEcdsaMsg, *sig).rv(), CKR_SIGNATURE_LEN_RANGE);
  const Entry& e = entry(CKM_ECDSA);
  EXPECT_EQ(e.sign(mech(CKM_ECDSA), k.pub).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(e.sign(mech(CKM_ECDSA), rsa2048().priv).rv(), CKR_KEY_TYPE_INCONSISTENT);
  uint8_t junk = 0;
  EXPECT_EQ(e.sign(mech(CKM_ECDSA, junk), k.priv).rv(), CKR_MECHANISM_PARAM_INVALID);
  auto op = e.sign(mech(CKM_ECDSA), k.priv);
  ASSERT_TRUE(op.ok());
  EXPECT_FALSE((*op)->multipart());
  EXPECT_EQ((*op)->update(kEcdsaMsg).rv(), CKR_FUNCTION_NOT_SUPPORTED);
  Bytes out(64);
  EXPECT_EQ((*op)->final(out).rv(), CKR_FUNCTION_NOT_SUPPORTED);
}

TEST(MechEcdsa, RegistryInfo) {
  for (CK_MECHANISM_TYPE t : {CKM_ECDSA, CKM_ECDSA_SHA1, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512}) {
    const Entry& e = entry(t);
    EXPECT_EQ(e.info.flags, CKF_SIGN | CKF_VERIFY | CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY | CKF_EC_F_P |
                                CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS);
    EXPECT_EQ(e.info.ulMinKeySize, 256u);
    EXPECT_EQ(e.info.ulMaxKeySize, 521u);
  }
  EXPECT_EQ(entry(CKM_EC_KEY_PAIR_GEN).info.flags,
            CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS);
}

}  // namespace
}  // namespace ferrohsm::mech::test
