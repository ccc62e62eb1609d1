// Known answers for the derivation entries: HKDF (RFC 5869 test 1, extract-only,
// salt from a key), SP 800-108 counter mode (a NIST CAVP KDFCTR vector, HMAC-SHA256,
// counter before the fixed data) and the feedback / pipeline layouts, PBKDF2
// (RFC 7914 SHA-256, RFC 6070 SHA-1), CONCATENATE_BASE_AND_KEY, AES_*_ENCRYPT_DATA.
#include "core/mech/kat_util.h"

namespace ferrohsm::mech::test {
namespace {

const Bytes kIkm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
const Bytes kSalt = hex("000102030405060708090a0b0c");
const Bytes kInfo = hex("f0f1f2f3f4f5f6f7f8f9");

CK_HKDF_PARAMS hkdf_params(bool extract, bool expand, CK_ULONG salt_type, Bytes& salt, Bytes& info) {
  return CK_HKDF_PARAMS{static_cast<CK_BBOOL>(extract), static_cast<CK_BBOOL>(expand), CKM_SHA256, salt_type,
                        salt.data(), salt.size(), CK_INVALID_HANDLE, info.data(), info.size()};
}

TEST(MechKdfKat, HkdfRfc5869Case1) {
  KeyPtr ikm = secret_key(CKK_GENERIC_SECRET, kIkm);
  Bytes salt = kSalt, info = kInfo;
  CK_HKDF_PARAMS p = hkdf_params(true, true, CKF_HKDF_SALT_DATA, salt, info);
  auto okm = run_derive(mech(CKM_HKDF_DERIVE, p), ikm, 42);
  ASSERT_TRUE(okm.ok()) << okm.error().message;
  EXPECT_EQ(to_hex(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  CK_HKDF_PARAMS x = hkdf_params(true, false, CKF_HKDF_SALT_DATA, salt, info);
  auto prk = run_derive(mech(CKM_HKDF_DATA, x), ikm, 0);
  ASSERT_TRUE(prk.ok()) << prk.error().message;
  EXPECT_EQ(to_hex(*prk), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  // Expand only, from the PRK.
  CK_HKDF_PARAMS e = hkdf_params(false, true, CKF_HKDF_SALT_NULL, salt, info);
  auto okm2 = run_derive(mech(CKM_HKDF_DERIVE, e), secret_key(CKK_HKDF, *prk), 42);
  ASSERT_TRUE(okm2.ok());
  EXPECT_EQ(*okm2, *okm);
  // Expand needs a length.
  EXPECT_EQ(run_derive(mech(CKM_HKDF_DERIVE, p), ikm, 0).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(run_derive(mech(CKM_HKDF_DERIVE, p), ikm, 255 * 32 + 1).rv(), CKR_TEMPLATE_INCONSISTENT);
}

TEST(MechKdfKat, HkdfSaltFromAKey) {
  KeyPtr ikm = secret_key(CKK_GENERIC_SECRET, kIkm);
  KeyPtr salt_key = secret_key(CKK_GENERIC_SECRET, kSalt);
  Bytes none, info = kInfo;
  CK_HKDF_PARAMS p = hkdf_params(true, true, CKF_HKDF_SALT_KEY, none, info);
  p.pSalt = nullptr;
  p.hSaltKey = 77;
  DeriveContext ctx;
  ctx.resolve_key = [&](CK_OBJECT_HANDLE h) -> Result<KeyPtr> {
    if (h != 77) return make_error(CKR_KEY_HANDLE_INVALID, "unknown");
    return salt_key;
  };
  auto okm = run_derive(mech(CKM_HKDF_DERIVE, p), ikm, 42, ctx);
  ASSERT_TRUE(okm.ok()) << okm.error().message;
  EXPECT_EQ(to_hex(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  p.hSaltKey = 78;
  EXPECT_EQ(run_derive(mech(CKM_HKDF_DERIVE, p), ikm, 42, ctx).rv(), CKR_KEY_HANDLE_INVALID);
}

TEST(MechKdfKat, Sp800_108CounterCavp) {
  // KDFCTR_gen.rsp, PRF=HMAC_SHA256, CTRLOCATION=BEFORE_FIXED, RLEN=32_BITS, COUNT=0.
  KeyPtr ki = secret_key(CKK_GENERIC_SECRET, hex("dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0"));
  Bytes fixed = hex("01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b864a145fab25e517b08f8683d0315bb29"
                    "11d80a0e8aba17f3b413faac");
  CK_SP800_108_COUNTER_FORMAT ctr{CK_FALSE, 32};
  CK_PRF_DATA_PARAM data[] = {{CK_SP800_108_ITERATION_VARIABLE, &ctr, sizeof ctr},
                              {CK_SP800_108_BYTE_ARRAY, fixed.data(), fixed.size()}};
  CK_SP800_108_KDF_PARAMS p{CKM_SHA256_HMAC, 2, data, 0, nullptr};
  auto ko = run_derive(mech(CKM_SP800_108_COUNTER_KDF, p), ki, 16);
  ASSERT_TRUE(ko.ok()) << ko.error().message;
  EXPECT_EQ(to_hex(*ko), "10621342bfb0fd40046c0e29f2cfdbf0");
  p.ulAdditionalDerivedKeys = 1;
  EXPECT_EQ(run_derive(mech(CKM_SP800_108_COUNTER_KDF, p), ki, 16).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechKdfKat, Sp800_108FeedbackAndPipelineFollowTheirDefinitions) {
  const Bytes k = hex("000102030405060708090a0b0c0d0e0f");
  KeyPtr ki = secret_key(CKK_AES, k);
  Bytes label = hex("aabbcc"), iv = hex("11223344556677889900aabbccddeeff");
  CK_SP800_108_COUNTER_FORMAT ctr{CK_FALSE, 8};
  CK_SP800_108_DKM_LENGTH_FORMAT dkm{CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE, 16};
  CK_PRF_DATA_PARAM data[] = {{CK_SP800_108_ITERATION_VARIABLE, nullptr, 0},
                              {CK_SP800_108_OPTIONAL_COUNTER, &ctr, sizeof ctr},
                              {CK_SP800_108_BYTE_ARRAY, label.data(), label.size()},
                              {CK_SP800_108_DKM_LENGTH, &dkm, sizeof dkm}};
  CK_SP800_108_FEEDBACK_KDF_PARAMS fb{CKM_AES_CMAC, 4, data, iv.size(), iv.data(), 0, nullptr};
  auto out = run_derive(mech(CKM_SP800_108_FEEDBACK_KDF, fb), ki, 20);
  ASSERT_TRUE(out.ok()) << out.error().message;
  // K(1) = CMAC(K, IV || 01 || label || 00a0), K(2) = CMAC(K, K(1) || 02 || label || 00a0).
  auto cmac = [&](const Bytes& msg) { return *sign(mech(CKM_AES_CMAC), ki, msg); };
  Bytes in1 = iv;
  for (uint8_t b : hex("01aabbcc00a0")) in1.push_back(b);
  Bytes k1 = cmac(in1);
  Bytes in2 = k1;
  for (uint8_t b : hex("02aabbcc00a0")) in2.push_back(b);
  Bytes k2 = cmac(in2);
  Bytes want = k1;
  want.insert(want.end(), k2.begin(), k2.begin() + 4);
  EXPECT_EQ(*out, want);

  // Double pipeline: A(1) = PRF(label), K(1) = PRF(A(1) || label).
  CK_PRF_DATA_PARAM pdata[] = {{CK_SP800_108_ITERATION_VARIABLE, nullptr, 0},
                               {CK_SP800_108_BYTE_ARRAY, label.data(), label.size()}};
  CK_SP800_108_KDF_PARAMS dp{CKM_AES_CMAC, 2, pdata, 0, nullptr};
  auto pipe = run_derive(mech(CKM_SP800_108_DOUBLE_PIPELINE_KDF, dp), ki, 16);
  ASSERT_TRUE(pipe.ok()) << pipe.error().message;
  Bytes a1 = cmac(label);
  Bytes in = a1;
  in.insert(in.end(), label.begin(), label.end());
  EXPECT_EQ(*pipe, cmac(in));
}

TEST(MechKdfKat, Pbkdf2Rfc7914AndRfc6070) {
  struct {
    CK_ULONG prf;
    const char* password;
    const char* salt;
    CK_ULONG iterations, len;
    const char* want;
  } cases[] = {
      {CKP_PKCS5_PBKD2_HMAC_SHA256, "passwd", "salt", 1, 64,
       "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30b"
       "d509112041d3a19783"},
      {CKP_PKCS5_PBKD2_HMAC_SHA1, "password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
      {CKP_PKCS5_PBKD2_HMAC_SHA1, "password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
  };
  for (const auto& c : cases) {
    std::string pw = c.password, salt = c.salt;
    CK_PKCS5_PBKD2_PARAMS2 p{CKZ_SALT_SPECIFIED, salt.data(), salt.size(), c.iterations, c.prf, nullptr, 0,
                             reinterpret_cast<CK_UTF8CHAR_PTR>(pw.data()), pw.size()};
    auto r = entry(CKM_PKCS5_PBKD2).generate_key(mech(CKM_PKCS5_PBKD2, p), attrs({{CKA_VALUE_LEN, ulong_bytes(c.len)}}));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(to_hex(r->view(CKA_VALUE)), c.want);
    EXPECT_EQ(r->get_ulong(CKA_KEY_TYPE), CK_ULONG{CKK_GENERIC_SECRET});
  }
}

TEST(MechKdfKat, ConcatenateAndEncryptData) {
  KeyPtr a = secret_key(CKK_GENERIC_SECRET, hex("0102")), b = secret_key(CKK_GENERIC_SECRET, hex("030405"));
  CK_OBJECT_HANDLE h = 5;
  DeriveContext ctx;
  ctx.resolve_key = [&](CK_OBJECT_HANDLE x) -> Result<KeyPtr> {
    if (x != 5) return make_error(CKR_KEY_HANDLE_INVALID, "unknown");
    return b;
  };
  auto cat = run_derive(mech(CKM_CONCATENATE_BASE_AND_KEY, h), a, 0, ctx);
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  EXPECT_EQ(to_hex(*cat), "0102030405");
  EXPECT_EQ(to_hex(*run_derive(mech(CKM_CONCATENATE_BASE_AND_KEY, h), a, 4, ctx)), "01020304");

  // FIPS 197 C.1 through CKM_AES_ECB_ENCRYPT_DATA.
  KeyPtr aes = secret_key(CKK_AES, hex("000102030405060708090a0b0c0d0e0f"));
  Bytes data = hex("00112233445566778899aabbccddeeff");
  CK_KEY_DERIVATION_STRING_DATA sd{data.data(), data.size()};
  auto ecb = run_derive(mech(CKM_AES_ECB_ENCRYPT_DATA, sd), aes, 0);
  ASSERT_TRUE(ecb.ok()) << ecb.error().message;
  EXPECT_EQ(to_hex(*ecb), "69c4e0d86a7b0430d8cdb78070b4c55a");
  CK_AES_CBC_ENCRYPT_DATA_PARAMS cp{};
  cp.pData = data.data();
  cp.length = data.size();
  auto cbc = run_derive(mech(CKM_AES_CBC_ENCRYPT_DATA, cp), aes, 0);
  ASSERT_TRUE(cbc.ok());
  EXPECT_EQ(*cbc, *ecb);  // a zero IV on one block is ECB
  sd.ulLen = 15;
  EXPECT_EQ(run_derive(mech(CKM_AES_ECB_ENCRYPT_DATA, sd), aes, 0).rv(), CKR_MECHANISM_PARAM_INVALID);
}

}  // namespace
}  // namespace ferrohsm::mech::test
