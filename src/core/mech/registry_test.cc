#include "core/mech/rsa_internal.h"
#include "core/mech/test_util.h"

#include <set>

namespace ferrohsm::mech::test {
namespace {

const CK_MECHANISM_TYPE kExpected[] = {
    CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA224_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_EC_KEY_PAIR_GEN, CKM_ECDSA,
    CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512,
    CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, CKM_AES_KEY_GEN, CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_GCM,
    CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA_1_HMAC, CKM_SHA224_HMAC, CKM_SHA256_HMAC,
    CKM_SHA384_HMAC, CKM_SHA512_HMAC, CKM_GENERIC_SECRET_KEY_GEN,
    // issue 3: RSA encryption, SHA-3 signatures
    CKM_RSA_X_509, CKM_RSA_PKCS_OAEP, CKM_SHA3_224_RSA_PKCS, CKM_SHA3_256_RSA_PKCS, CKM_SHA3_384_RSA_PKCS,
    CKM_SHA3_512_RSA_PKCS, CKM_SHA3_224_RSA_PKCS_PSS, CKM_SHA3_256_RSA_PKCS_PSS, CKM_SHA3_384_RSA_PKCS_PSS,
    CKM_SHA3_512_RSA_PKCS_PSS, CKM_ECDSA_SHA3_224, CKM_ECDSA_SHA3_256, CKM_ECDSA_SHA3_384, CKM_ECDSA_SHA3_512,
    // key agreement, Montgomery keys
    CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE, CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    // symmetric
    CKM_AES_CTR, CKM_AES_CTS, CKM_AES_CCM, CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_KWP, CKM_AES_KEY_WRAP_PAD, CKM_AES_CMAC,
    CKM_AES_CMAC_GENERAL, CKM_AES_MAC, CKM_AES_MAC_GENERAL, CKM_CHACHA20_POLY1305, CKM_CHACHA20_KEY_GEN,
    CKM_DES3_ECB, CKM_DES3_CBC, CKM_DES3_CBC_PAD, CKM_DES3_KEY_GEN, CKM_DES2_KEY_GEN,
    // digests and MACs
    CKM_SHA512_224, CKM_SHA512_256, CKM_SHA3_224, CKM_SHA3_256, CKM_SHA3_384, CKM_SHA3_512, CKM_MD5,
    CKM_SHA_1_HMAC_GENERAL, CKM_SHA224_HMAC_GENERAL, CKM_SHA256_HMAC_GENERAL, CKM_SHA384_HMAC_GENERAL,
    CKM_SHA512_HMAC_GENERAL, CKM_SHA3_224_HMAC, CKM_SHA3_256_HMAC, CKM_SHA3_384_HMAC, CKM_SHA3_512_HMAC,
    CKM_SHA3_224_HMAC_GENERAL, CKM_SHA3_256_HMAC_GENERAL, CKM_SHA3_384_HMAC_GENERAL, CKM_SHA3_512_HMAC_GENERAL,
    // derivation
    CKM_HKDF_DERIVE, CKM_HKDF_DATA, CKM_HKDF_KEY_GEN, CKM_SP800_108_COUNTER_KDF, CKM_SP800_108_FEEDBACK_KDF,
    CKM_SP800_108_DOUBLE_PIPELINE_KDF, CKM_PKCS5_PBKD2, CKM_CONCATENATE_BASE_AND_KEY, CKM_AES_ECB_ENCRYPT_DATA,
    CKM_AES_CBC_ENCRYPT_DATA,
    // issue 11: legacy MD5 signatures and MACs
    CKM_MD5_RSA_PKCS, CKM_MD5_HMAC, CKM_MD5_HMAC_GENERAL,
};
// Single DES appears only where OpenSSL's legacy provider loads.
const CK_MECHANISM_TYPE kLegacyDes[] = {CKM_DES_ECB, CKM_DES_CBC, CKM_DES_CBC_PAD, CKM_DES_KEY_GEN};

TEST(MechRegistry, HoldsEveryFamilySortedAndFindable) {
  const Registry& r = Registry::global();
  EXPECT_EQ(&r, &Registry::global());
  size_t legacy = 0;
  for (CK_MECHANISM_TYPE t : kLegacyDes) legacy += r.find(t) != nullptr ? 1 : 0;
  EXPECT_TRUE(legacy == 0 || legacy == std::size(kLegacyDes));
  EXPECT_EQ(r.entries().size(), std::size(kExpected) + legacy);
  for (size_t i = 1; i < r.entries().size(); ++i) EXPECT_LT(r.entries()[i - 1].type, r.entries()[i].type);
  for (CK_MECHANISM_TYPE t : kExpected) {
    const Entry* e = r.find(t);
    ASSERT_NE(e, nullptr) << std::hex << t;
    EXPECT_EQ(e->type, t);
  }
  EXPECT_EQ(r.find(CKM_SHA512_T), nullptr);
  EXPECT_EQ(r.find(0xffffffffUL), nullptr);
}

TEST(MechRegistry, FlagsMatchFactories) {
  for (const Entry& e : Registry::global().entries()) {
    SCOPED_TRACE(e.type);
    const CK_FLAGS f = e.info.flags;
    EXPECT_EQ((f & CKF_SIGN) != 0, e.sign != nullptr);
    EXPECT_EQ((f & CKF_VERIFY) != 0, e.verify != nullptr);
    EXPECT_EQ((f & CKF_ENCRYPT) != 0, e.encrypt != nullptr);
    EXPECT_EQ((f & CKF_DECRYPT) != 0, e.decrypt != nullptr);
    EXPECT_EQ((f & CKF_DIGEST) != 0, e.digest != nullptr);
    EXPECT_EQ((f & CKF_GENERATE_KEY_PAIR) != 0, e.generate_key_pair != nullptr);
    EXPECT_EQ((f & CKF_GENERATE) != 0, e.generate_key != nullptr);
    EXPECT_EQ((f & CKF_DERIVE) != 0, e.derive != nullptr);
    EXPECT_EQ((f & CKF_SIGN_RECOVER) != 0, e.sign_recover != nullptr);
    EXPECT_EQ((f & CKF_VERIFY_RECOVER) != 0, e.verify_recover != nullptr);
    // A signature mechanism signs messages too (C_MessageSignInit …).
    EXPECT_EQ((f & CKF_MESSAGE_SIGN) != 0, e.sign != nullptr);
    EXPECT_EQ((f & CKF_MESSAGE_VERIFY) != 0, e.verify != nullptr);
    if (e.wrap_pad_block != 0) {
      EXPECT_NE(f & CKF_WRAP, 0u) << "zero padding is for wrapping";
    }
    if ((f & CKF_WRAP) != 0) {
      EXPECT_NE(e.encrypt, nullptr);  // wrapping is the one-shot encryption
    }
    if ((f & CKF_UNWRAP) != 0) {
      EXPECT_NE(e.decrypt, nullptr);
    }
    EXPECT_NE(f, 0u);
    EXPECT_LE(e.info.ulMinKeySize, e.info.ulMaxKeySize);
    EXPECT_EQ(e.key_types.empty(), e.digest != nullptr);
  }
}

// The legacy (MD5-based) mechanisms carry the one flag a strict profile drops them
// by, and nothing else does.
TEST(MechRegistry, LegacyMechanismsAreMarked) {
  const std::set<CK_MECHANISM_TYPE> legacy = {CKM_MD5, CKM_MD5_RSA_PKCS, CKM_MD5_HMAC, CKM_MD5_HMAC_GENERAL};
  for (const Entry& e : Registry::global().entries()) EXPECT_EQ(e.legacy, legacy.count(e.type) == 1) << std::hex << e.type;
}

// Which wrapping mechanisms zero-pad (PKCS#11's ECB, CBC and RFC 3394 KW) and by how much.
TEST(MechRegistry, ZeroPaddingWrapsAreTheUnpaddedModes) {
  const std::pair<CK_MECHANISM_TYPE, size_t> kPadded[] = {
      {CKM_AES_ECB, 16}, {CKM_AES_CBC, 16}, {CKM_DES3_ECB, 8}, {CKM_DES3_CBC, 8}, {CKM_AES_KEY_WRAP, 8}};
  for (const Entry& e : Registry::global().entries()) {
    size_t want = 0;
    for (auto [t, block] : kPadded)
      if (t == e.type) want = block;
    EXPECT_EQ(e.wrap_pad_block, want) << std::hex << e.type;
  }
}

// RSA: 1024 to 8192 bits on every entry, the floor in one place (rsa_internal.h).
TEST(MechRegistry, RsaEntriesSay1024To8192) {
  for (const Entry& e : Registry::global().entries()) {
    if (e.key_types != std::vector<CK_KEY_TYPE>{CKK_RSA}) continue;
    EXPECT_EQ(e.info.ulMinKeySize, kRsaMinBits) << std::hex << e.type;
    EXPECT_EQ(e.info.ulMaxKeySize, kRsaMaxBits) << std::hex << e.type;
  }
  EXPECT_EQ(kRsaMinBits, 1024u);
  EXPECT_EQ(kRsaMaxBits, 8192u);
}

TEST(MechRegistry, KeySizesMatchKeyBits) {
  // Key::bits of generated keys falls in the advertised range of the mechanisms using them.
  auto in_range = [](CK_MECHANISM_TYPE t, CK_ULONG bits) {
    const Entry& e = entry(t);
    return bits >= e.info.ulMinKeySize && bits <= e.info.ulMaxKeySize;
  };
  EXPECT_TRUE(in_range(CKM_SHA256_RSA_PKCS, rsa2048().priv->bits));
  for (std::string_view oid : {kP256, kP384, kP521}) EXPECT_TRUE(in_range(CKM_ECDSA, ec_pair(oid).priv->bits));
  EXPECT_TRUE(in_range(CKM_AES_GCM, secret_key(CKK_AES, Bytes(16, 1))->bits));
  EXPECT_TRUE(in_range(CKM_AES_GCM, secret_key(CKK_AES, Bytes(32, 1))->bits));
  EXPECT_TRUE(in_range(CKM_SHA256_HMAC, secret_key(CKK_GENERIC_SECRET, Bytes(1, 1))->bits));
  EXPECT_FALSE(in_range(CKM_SHA256_HMAC, secret_key(CKK_GENERIC_SECRET, Bytes(513, 1))->bits));
}

Result<std::unique_ptr<DigestOp>> no_digest(const CK_MECHANISM&) { return make_error(CKR_MECHANISM_INVALID); }

TEST(MechRegistry, AddKeepsOrderAndReplacesDuplicates) {
  Registry r;
  for (CK_MECHANISM_TYPE t : {CKM_SHA512, CKM_SHA_1, CKM_SHA256}) {
    Entry e;
    e.type = t;
    r.add(e);
  }
  ASSERT_EQ(r.entries().size(), 3u);
  EXPECT_EQ(r.entries()[0].type, CKM_SHA_1);
  EXPECT_EQ(r.entries()[1].type, CKM_SHA256);
  EXPECT_EQ(r.entries()[2].type, CKM_SHA512);
  Entry again;
  again.type = CKM_SHA256;
  again.digest = no_digest;
  r.add(again);
  ASSERT_EQ(r.entries().size(), 3u);
  ASSERT_NE(r.find(CKM_SHA256), nullptr);
  EXPECT_EQ(r.find(CKM_SHA256)->digest, &no_digest);
  EXPECT_EQ(r.find(CKM_SHA224), nullptr);
}

}  // namespace
}  // namespace ferrohsm::mech::test
