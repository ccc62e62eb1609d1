// Key derivation through the C ABI: HKDF (derive, data, key generation), the three
// SP 800-108 KDFs, PBKDF2 and the simple derivations (concatenation, AES ECB/CBC
// encrypt data). Outputs are compared with published vectors (RFC 5869, RFC 6070)
// and with OpenSSL computing the same thing (EVP_KDF HKDF / KBKDF / PBKDF2, HMAC for
// the double-pipeline iteration, AES-ECB/CBC).
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

namespace ferrohsm::abi::roundtrip {
namespace {

OSSL_PARAM Str(const char* name, const char* v) { return OSSL_PARAM_construct_utf8_string(name, const_cast<char*>(v), 0); }
OSSL_PARAM Oct(const char* name, const Bytes& v) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<uint8_t*>(v.data()), v.size());
}

// RFC 5869 Appendix A.1 (SHA-256).
const char* const kIkm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
const char* const kSalt = "000102030405060708090a0b0c";
const char* const kInfo = "f0f1f2f3f4f5f6f7f8f9";
const char* const kPrk = "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5";
const char* const kOkm =
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";

struct Hkdf {
  Hkdf(bool extract, bool expand, CK_MECHANISM_TYPE hash, const Bytes& salt_in, const Bytes& info_in,
       CK_OBJECT_HANDLE salt_key = CK_INVALID_HANDLE)
      : salt(salt_in), info(info_in) {
    p.bExtract = extract ? CK_TRUE : CK_FALSE;
    p.bExpand = expand ? CK_TRUE : CK_FALSE;
    p.prfHashMechanism = hash;
    p.ulSaltType = salt_key != CK_INVALID_HANDLE ? CKF_HKDF_SALT_KEY : salt.empty() ? CKF_HKDF_SALT_NULL
                                                                                    : CKF_HKDF_SALT_DATA;
    p.pSalt = salt.empty() ? nullptr : salt.data();
    p.ulSaltLen = salt.size();
    p.hSaltKey = salt_key;
    p.pInfo = info.empty() ? nullptr : info.data();
    p.ulInfoLen = info.size();
  }
  CK_MECHANISM* mech(CK_MECHANISM_TYPE type) {
    m = {type, &p, sizeof p};
    return &m;
  }
  Bytes salt, info;
  CK_HKDF_PARAMS p{};
  CK_MECHANISM m{};
};

Bytes OsslHkdf(int mode, const char* md, const Bytes& key, const Bytes& salt, const Bytes& info, size_t len) {
  std::vector<OSSL_PARAM> ps = {OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode), Str(OSSL_KDF_PARAM_DIGEST, md),
                                Oct(OSSL_KDF_PARAM_KEY, key)};
  if (!salt.empty()) ps.push_back(Oct(OSSL_KDF_PARAM_SALT, salt));
  if (!info.empty()) ps.push_back(Oct(OSSL_KDF_PARAM_INFO, info));
  return Kdf("HKDF", ps, len);
}

void ExpectValue(Ctx& c, const Created& k, const Bytes& expected, const char* what) {
  EXPECT_CKR_OK(k.rv) << what;
  EXPECT_FALSE(expected.empty()) << what << ": no reference value";
  if (k.rv == CKR_OK) {
    EXPECT_EQ(HexOf(c.Value(k.handle)), HexOf(expected)) << what;
  }
}

void HkdfDerive(Ctx& c) {
  CK_OBJECT_HANDLE ikm = c.Secret(CKK_GENERIC_SECRET, Hex(kIkm));
  Hkdf both(true, true, CKM_SHA256, Hex(kSalt), Hex(kInfo));
  ExpectValue(c, c.Derive(both.mech(CKM_HKDF_DERIVE), ikm, Ctx::UsableSecret(CKK_GENERIC_SECRET, 42)), Hex(kOkm),
              "RFC 5869 A.1 OKM");
  Hkdf extract(true, false, CKM_SHA256, Hex(kSalt), {});
  ExpectValue(c, c.Derive(extract.mech(CKM_HKDF_DERIVE), ikm, Ctx::UsableSecret(CKK_GENERIC_SECRET)), Hex(kPrk),
              "RFC 5869 A.1 PRK (extract only)");

  // A salt given as a key, SHA-384; and expand only over SHA3-256: against OpenSSL.
  const Bytes key = Random(40), salt = Random(24), info = Random(15);
  CK_OBJECT_HANDLE base = c.Secret(CKK_GENERIC_SECRET, key);
  CK_OBJECT_HANDLE salt_key = c.Secret(CKK_GENERIC_SECRET, salt);
  Hkdf keyed(true, true, CKM_SHA384, {}, info, salt_key);
  ExpectValue(c, c.Derive(keyed.mech(CKM_HKDF_DERIVE), base, Ctx::UsableSecret(CKK_GENERIC_SECRET, 50)),
              OsslHkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, "SHA384", key, salt, info, 50), "salt key, SHA-384");
  Hkdf expand(false, true, CKM_SHA3_256, {}, info);
  ExpectValue(c, c.Derive(expand.mech(CKM_HKDF_DERIVE), base, Ctx::UsableSecret(CKK_AES, 32)),
              OsslHkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, "SHA3-256", key, {}, info, 32), "expand only, SHA3-256");
}

// CKM_HKDF_DATA: the same computation, the output a data object (CKO_DATA, CKA_VALUE).
void HkdfData(Ctx& c) {
  CK_OBJECT_HANDLE ikm = c.Secret(CKK_GENERIC_SECRET, Hex(kIkm));
  Hkdf both(true, true, CKM_SHA256, Hex(kSalt), Hex(kInfo));
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, false).Bool(CKA_PRIVATE, true).Ulong(CKA_VALUE_LEN, 42);
  Created d = c.Derive(both.mech(CKM_HKDF_DATA), ikm, t);
  if (d.rv != CKR_OK) {
    // Say whether the computation itself is right when the result is a secret key.
    Created k = c.Derive(both.mech(CKM_HKDF_DATA), ikm, Ctx::UsableSecret(CKK_GENERIC_SECRET, 42));
    const bool same = k.rv == CKR_OK && HexOf(c.Value(k.handle)) == kOkm;
    FAIL() << "CKM_HKDF_DATA must derive a CKO_DATA object holding the output (PKCS #11 3.0, 'HKDF Data'); "
           << "C_DeriveKey with a CKO_DATA template answers " << CkrName(d.rv) << ". With a secret-key template it "
           << (k.rv != CKR_OK ? "fails too (" + CkrName(k.rv) + ")"
                              : std::string("makes a CKO_SECRET_KEY whose value ") +
                                    (same ? "matches" : "does NOT match") + " RFC 5869 A.1");
  }
  EXPECT_EQ(GetUlong(c.f, c.s, d.handle, CKA_CLASS).value_or(~0UL), static_cast<CK_ULONG>(CKO_DATA));
  EXPECT_EQ(HexOf(c.Value(d.handle)), kOkm) << "RFC 5869 A.1 OKM";
}

void HkdfKeyGen(Ctx& c) {
  c.Did(CKF_GENERATE);
  CK_MECHANISM gen{CKM_HKDF_KEY_GEN, nullptr, 0};
  Created k = c.Generate(&gen, Ctx::UsableSecret(CKK_HKDF, 32));
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetUlong(c.f, c.s, k.handle, CKA_KEY_TYPE).value_or(0), static_cast<CK_ULONG>(CKK_HKDF));
  Bytes value = c.Value(k.handle);
  ASSERT_EQ(value.size(), 32u);
  const Bytes salt = Random(16), info = Random(9);
  Hkdf both(true, true, CKM_SHA256, salt, info);
  ExpectValue(c, c.Derive(both.mech(CKM_HKDF_DERIVE), k.handle, Ctx::UsableSecret(CKK_GENERIC_SECRET, 48)),
              OsslHkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, "SHA256", value, salt, info, 48),
              "HKDF from the generated key");
}

// SP 800-108 data parameters in OpenSSL KBKDF's fixed layout:
// [K(i-1)] || [i]_32 || Label || 0x00 || Context || [L]_32 (big-endian).
struct Kbkdf {
  Kbkdf(CK_MECHANISM_TYPE mech, CK_SP800_108_PRF_TYPE prf, const Bytes& fixed_in, const Bytes& iv_in)
      : fixed(fixed_in), iv(iv_in) {
    const bool counter = mech == CKM_SP800_108_COUNTER_KDF;
    data.push_back({CK_SP800_108_ITERATION_VARIABLE, counter ? &count : nullptr, counter ? sizeof count : 0});
    if (!counter) data.push_back({CK_SP800_108_OPTIONAL_COUNTER, &count, sizeof count});
    data.push_back({CK_SP800_108_BYTE_ARRAY, fixed.data(), fixed.size()});
    data.push_back({CK_SP800_108_DKM_LENGTH, &dkm, sizeof dkm});
    if (mech == CKM_SP800_108_FEEDBACK_KDF) {
      fb = {prf, data.size(), data.data(), iv.size(), iv.empty() ? nullptr : iv.data(), 0, nullptr};
      m = {mech, &fb, sizeof fb};
    } else {
      p = {prf, data.size(), data.data(), 0, nullptr};
      m = {mech, &p, sizeof p};
    }
  }
  Bytes fixed, iv;
  CK_SP800_108_COUNTER_FORMAT count{CK_FALSE, 32};
  CK_SP800_108_DKM_LENGTH_FORMAT dkm{CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE, 32};
  std::vector<CK_PRF_DATA_PARAM> data;
  CK_SP800_108_KDF_PARAMS p{};
  CK_SP800_108_FEEDBACK_KDF_PARAMS fb{};
  CK_MECHANISM m{};
};

Bytes Be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

// SP 800-108 §5.3 double pipeline over HMAC, with OpenSSL's HMAC:
// A(0) = fixed, A(i) = PRF(A(i-1)), K(i) = PRF(A(i) || [i] || fixed).
Bytes DoublePipeline(const char* md, const Bytes& key, const Bytes& fixed, size_t len) {
  Bytes out, a = fixed;
  for (uint32_t i = 1; out.size() < len; ++i) {
    a = OsslHmac(md, key, a);
    Bytes k = OsslHmac(md, key, Concat(Concat(a, Be32(i)), fixed));
    out.insert(out.end(), k.begin(), k.end());
  }
  out.resize(len);
  return out;
}

}  // namespace

void RunHkdf(Ctx& c, CK_MECHANISM_TYPE m) {
  if (m == CKM_HKDF_KEY_GEN) return HkdfKeyGen(c);
  c.Did(CKF_DERIVE);
  if (m == CKM_HKDF_DATA) return HkdfData(c);
  HkdfDerive(c);
}

void RunSp800108(Ctx& c, CK_MECHANISM_TYPE m) {
  c.Did(CKF_DERIVE);
  const Bytes label = Random(12), context = Random(20);
  const Bytes fixed = Concat(Concat(label, Bytes{0}), context);
  const size_t len = 70;
  const char* mode = m == CKM_SP800_108_FEEDBACK_KDF ? "FEEDBACK" : "COUNTER";
  auto kbkdf = [&](const char* mac, const char* alg, const Bytes& key, const Bytes& seed, size_t n) {
    std::vector<OSSL_PARAM> ps = {Str(OSSL_KDF_PARAM_MODE, mode), Str(OSSL_KDF_PARAM_MAC, mac),
                                  Str(std::string(mac) == "CMAC" ? OSSL_KDF_PARAM_CIPHER : OSSL_KDF_PARAM_DIGEST, alg),
                                  Oct(OSSL_KDF_PARAM_KEY, key), Oct(OSSL_KDF_PARAM_SALT, label),
                                  Oct(OSSL_KDF_PARAM_INFO, context)};
    if (!seed.empty()) ps.push_back(Oct(OSSL_KDF_PARAM_SEED, seed));
    return Kdf("KBKDF", ps, n);
  };
  const Bytes key = Random(32);
  CK_OBJECT_HANDLE base = c.Secret(CKK_GENERIC_SECRET, key);
  if (m == CKM_SP800_108_DOUBLE_PIPELINE_KDF) {
    Kbkdf k(m, CKM_SHA256_HMAC, fixed, {});
    ExpectValue(c, c.Derive(&k.m, base, Ctx::UsableSecret(CKK_GENERIC_SECRET, len)),
                DoublePipeline("SHA256", key, Concat(fixed, Be32(len * 8)), len), "double pipeline, HMAC-SHA-256");
    return;
  }
  // OpenSSL's KBKDF takes a feedback IV only as long as the PRF output.
  const bool feedback = m == CKM_SP800_108_FEEDBACK_KDF;
  Bytes iv = feedback ? Random(48) : Bytes{};
  Kbkdf hmac(m, CKM_SHA384_HMAC, fixed, iv);
  ExpectValue(c, c.Derive(&hmac.m, base, Ctx::UsableSecret(CKK_GENERIC_SECRET, len)),
              kbkdf("HMAC", "SHA384", key, iv, len), "HMAC-SHA-384 PRF");
  const Bytes aes = Random(16);
  CK_OBJECT_HANDLE aes_base = c.Secret(CKK_AES, aes);
  iv = feedback ? Random(16) : Bytes{};
  Kbkdf cmac(m, CKM_AES_CMAC, fixed, iv);
  ExpectValue(c, c.Derive(&cmac.m, aes_base, Ctx::UsableSecret(CKK_AES, 32)), kbkdf("CMAC", "AES-128-CBC", aes, iv, 32),
              "AES-CMAC PRF");
}

void RunPbkdf2(Ctx& c, CK_MECHANISM_TYPE m) {
  c.Did(CKF_GENERATE);
  auto params = [](Bytes& password, Bytes& salt, CK_ULONG iterations, CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE prf) {
    return CK_PKCS5_PBKD2_PARAMS2{CKZ_SALT_SPECIFIED, salt.data(), salt.size(), iterations, prf, nullptr, 0,
                                  password.data(), password.size()};
  };
  {  // RFC 6070: P = "password", S = "salt", c = 2, dkLen = 20.
    Bytes password = AsBytes("password"), salt = AsBytes("salt");
    CK_PKCS5_PBKD2_PARAMS2 p = params(password, salt, 2, CKP_PKCS5_PBKD2_HMAC_SHA1);
    CK_MECHANISM mech{m, &p, sizeof p};
    ExpectValue(c, c.Generate(&mech, Ctx::UsableSecret(CKK_GENERIC_SECRET, 20)),
                Hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"), "RFC 6070 (c = 2)");
  }
  Bytes password = Random(14), salt = Random(16);
  CK_PKCS5_PBKD2_PARAMS2 p = params(password, salt, 1000, CKP_PKCS5_PBKD2_HMAC_SHA256);
  CK_MECHANISM mech{m, &p, sizeof p};
  uint64_t iterations = 1000;
  const Bytes expected = Kdf("PBKDF2",
                             {Oct(OSSL_KDF_PARAM_PASSWORD, password), Oct(OSSL_KDF_PARAM_SALT, salt),
                              OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iterations),
                              Str(OSSL_KDF_PARAM_DIGEST, "SHA256")},
                             32);
  Created k = c.Generate(&mech, Ctx::UsableSecret(CKK_AES, 32));
  ExpectValue(c, k, expected, "PBKDF2-HMAC-SHA-256 as an AES key");
  if (k.rv != CKR_OK) return;
  CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
  const Bytes plain = Random(32);
  Out ct = c.Encrypt(&ecb, k.handle, plain);
  EXPECT_EQ(HexOf(ct.bytes), HexOf(Cipher(nullptr, "AES-256-ECB", true, expected, {}, plain, false)))
      << "the derived AES key encrypts as OpenSSL does with the same bytes";
}

void RunSimpleDerive(Ctx& c, CK_MECHANISM_TYPE m) {
  c.Did(CKF_DERIVE);
  if (m == CKM_CONCATENATE_BASE_AND_KEY) {
    const Bytes a = Random(16), b = Random(24);
    CK_OBJECT_HANDLE ka = c.Secret(CKK_GENERIC_SECRET, a), kb = c.Secret(CKK_GENERIC_SECRET, b);
    CK_MECHANISM mech{m, &kb, sizeof kb};
    ExpectValue(c, c.Derive(&mech, ka, Ctx::UsableSecret(CKK_GENERIC_SECRET)), Concat(a, b), "base || key");
    const Bytes joined = Concat(a, b);
    ExpectValue(c, c.Derive(&mech, ka, Ctx::UsableSecret(CKK_AES, 32)), Bytes(joined.begin(), joined.begin() + 32),
                "base || key, truncated to an AES-256 key");
    return;
  }
  const Bytes key = Random(32), data = Random(32);
  CK_OBJECT_HANDLE base = c.Secret(CKK_AES, key);
  if (m == CKM_AES_ECB_ENCRYPT_DATA) {
    Bytes d = data;
    CK_KEY_DERIVATION_STRING_DATA p{d.data(), d.size()};
    CK_MECHANISM mech{m, &p, sizeof p};
    ExpectValue(c, c.Derive(&mech, base, Ctx::UsableSecret(CKK_GENERIC_SECRET)),
                Cipher(nullptr, "AES-256-ECB", true, key, {}, data, false), "AES-ECB(data)");
  } else if (m == CKM_AES_CBC_ENCRYPT_DATA) {
    Bytes d = data, iv = Random(16);
    CK_AES_CBC_ENCRYPT_DATA_PARAMS p{};
    std::copy(iv.begin(), iv.end(), p.iv);
    p.pData = d.data();
    p.length = d.size();
    CK_MECHANISM mech{m, &p, sizeof p};
    ExpectValue(c, c.Derive(&mech, base, Ctx::UsableSecret(CKK_GENERIC_SECRET)),
                Cipher(nullptr, "AES-256-CBC", true, key, iv, data, false), "AES-CBC(data)");
  } else {
    ADD_FAILURE() << "no derivation case for this mechanism";
  }
}

}  // namespace ferrohsm::abi::roundtrip
