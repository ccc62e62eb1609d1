// Known answers for the hashes added beside SHA-1/SHA-2 (FIPS 202 SHA-3, FIPS 180-4
// SHA-512/t, RFC 1321 MD5), HMAC-SHA3 and the truncated HMAC _GENERAL forms.
#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

Result<Bytes> digest(CK_MECHANISM_TYPE t, ByteView data) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<DigestOp> op, entry(t).digest(mech(t)));
  Bytes out(op->digest_size());
  FH_ASSIGN_OR_RETURN(size_t n, op->digest(data, out));
  out.resize(n);
  return out;
}

TEST(MechDigestKat, Sha3Sha512tMd5OfAbc) {
  struct {
    CK_MECHANISM_TYPE t;
    const char* want;
  } cases[] = {
      {CKM_SHA3_224, "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
      {CKM_SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
      {CKM_SHA3_384,
       "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
      {CKM_SHA3_512,
       "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5"
       "a56592f8274eec53f0"},
      {CKM_SHA512_224, "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa"},
      {CKM_SHA512_256, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
      {CKM_MD5, "900150983cd24fb0d6963f7d28e17f72"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(entry(c.t).info.flags, CKF_DIGEST);
    auto d = digest(c.t, text("abc"));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(to_hex(*d), c.want);
  }
}

TEST(MechDigestKat, Md5IsDigestOnly) {
  // MD5 may not stand in for a signature hash.
  CK_RSA_PKCS_PSS_PARAMS p{CKM_MD5, CKG_MGF1_SHA256, 16};
  CK_MECHANISM m = mech(CKM_RSA_PKCS_PSS, p);
  EXPECT_EQ(entry(CKM_RSA_PKCS_PSS).sign(m, rsa2048().priv).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechHmacKat, Sha3_256AndTruncatedGeneral) {
  // HMAC-SHA3-256, key "key", message "The quick brown fox jumps over the lazy dog" (checked against OpenSSL's CLI).
  KeyPtr key = secret_key(CKK_GENERIC_SECRET, text("key"));
  const ByteView msg = text("The quick brown fox jumps over the lazy dog");
  auto full = sign(mech(CKM_SHA3_256_HMAC), key, msg);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(to_hex(*full), "8c6e0683409427f8931711b10ca92a506eb1fafa48fadd66d76126f47ac2c333");
  CK_MAC_GENERAL_PARAMS len = 10;
  CK_MECHANISM g = mech(CKM_SHA3_256_HMAC_GENERAL, len);
  auto part = sign(g, key, msg);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, Bytes(full->begin(), full->begin() + 10));
  EXPECT_TRUE(verify(g, key, msg, *part).ok());
  Bytes bad = *part;
  bad[9] ^= 1;
  EXPECT_EQ(verify(g, key, msg, bad).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(verify(g, key, msg, *full).rv(), CKR_SIGNATURE_LEN_RANGE);
  CK_MAC_GENERAL_PARAMS too_long = 33;
  CK_MECHANISM g2 = mech(CKM_SHA3_256_HMAC_GENERAL, too_long);
  EXPECT_EQ(entry(CKM_SHA3_256_HMAC_GENERAL).sign(g2, key).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechHmacKat, Sha224GeneralRfc4231Case2) {
  // RFC 4231 test case 2 (key "Jefe"), truncated to 16 bytes.
  KeyPtr key = secret_key(CKK_GENERIC_SECRET, text("Jefe"));
  CK_MAC_GENERAL_PARAMS len = 16;
  auto tag = sign(mech(CKM_SHA224_HMAC_GENERAL, len), key, text("what do ya want for nothing?"));
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(to_hex(*tag), "a30e01098bc6dbbf45690f3a7e9e6d0f");
}

}  // namespace
}  // namespace ferrohsm::mech::test
