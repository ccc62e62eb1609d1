// Key wrapping with the block modes that do not pad (issue 11). PKCS#11 3.0's
// general block cipher mechanisms (AES-ECB/CBC §2.10, DES3-ECB/CBC) wrap "the value
// of the CKA_VALUE attribute of the key that is wrapped, padded on the trailing end
// with up to block size minus one null bytes"; unwrapping "truncates the result
// according to the CKA_KEY_TYPE attribute of the template and, if it has one, … the
// CKA_VALUE_LEN attribute". CKM_AES_KEY_WRAP (RFC 3394 KW) likewise zero-pads a key
// whose length is not a multiple of the 8-byte semiblock. Private keys travel as
// their PKCS#8 PrivateKeyInfo, which delimits itself, so the zeros after it are
// dropped. Every wrapping is compared with OpenSSL's cipher over the zero-padded value.
#include <openssl/x509.h>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"
#include "fixture/ossl_keys.h"

namespace ferrohsm::abi {
namespace {

struct BlockWrap {
  CK_MECHANISM_TYPE mech;
  CK_KEY_TYPE kek_type;
  size_t kek_len;
  const char* ossl;  // OpenSSL cipher (no padding)
  size_t block;
  const char* name;
};
const BlockWrap kModes[] = {
    {CKM_AES_ECB, CKK_AES, 16, "AES-128-ECB", 16, "AES-ECB"},
    {CKM_AES_CBC, CKK_AES, 32, "AES-256-CBC", 16, "AES-CBC"},
    {CKM_DES3_ECB, CKK_DES3, 24, "DES-EDE3-ECB", 8, "DES3-ECB"},
    {CKM_DES3_CBC, CKK_DES3, 24, "DES-EDE3-CBC", 8, "DES3-CBC"},
};

// Distinct bytes (3DES with three equal keys would be single DES).
Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 37 * i);
  return b;
}

Bytes ZeroPadded(Bytes v, size_t block) {
  v.resize((v.size() + block - 1) / block * block, 0);
  return v;
}

// The DER PrivateKeyInfo OpenSSL makes of a key (the encoding C_WrapKey wraps).
Bytes Pkcs8Of(EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
  unsigned char* der = nullptr;
  const int len = info != nullptr ? i2d_PKCS8_PRIV_KEY_INFO(info, &der) : -1;
  Bytes out = len > 0 ? Bytes(der, der + len) : Bytes{};
  OPENSSL_free(der);
  PKCS8_PRIV_KEY_INFO_free(info);
  return out;
}

// OpenSSL's RFC 3394 wrapping ("AES-128-WRAP" …).
Bytes OsslKeyWrap(const char* name, const Bytes& kek, const Bytes& data) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(data.size() + 16);
  int n = 0, fin = 0;
  bool ok = cipher != nullptr && ctx != nullptr;
  if (ok) EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  ok = ok && EVP_EncryptInit_ex2(ctx, cipher, kek.data(), nullptr, nullptr) == 1 &&
       EVP_EncryptUpdate(ctx, out.data(), &n, data.data(), static_cast<int>(data.size())) == 1 &&
       EVP_EncryptFinal_ex(ctx, out.data() + n, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  out.resize(ok ? static_cast<size_t>(n + fin) : 0);
  return out;
}

class BlockWrapTest : public TokenTest {
 protected:
  StoreOptions Options() const override { return WithoutHardening(); }  // multi-purpose keys

  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_SOFTHSM("SoftHSMv2 wraps only with the padding and key-wrap mechanisms");
  }

  CK_OBJECT_HANDLE Kek(CK_KEY_TYPE type, const Bytes& value) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bytes(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, false).Bool(CKA_WRAP, true).Bool(CKA_UNWRAP, true);
    Created c = CreateObject(f_, session_, t);
    EXPECT_CKR_OK(c.rv);
    return c.handle;
  }
  CK_OBJECT_HANDLE Target(CK_KEY_TYPE type, const Bytes& value) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bytes(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, false).Bool(CKA_EXTRACTABLE, true).Bool(CKA_SENSITIVE, false);
    Created c = CreateObject(f_, session_, t);
    EXPECT_CKR_OK(c.rv);
    return c.handle;
  }
  Bytes Wrap(CK_MECHANISM* m, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE key, CK_RV* rv) {
    CK_ULONG len = 0;
    *rv = f_->C_WrapKey(session_, m, kek, key, nullptr, &len);
    if (*rv != CKR_OK) return {};
    Bytes out(len);
    *rv = f_->C_WrapKey(session_, m, kek, key, out.data(), &len);
    out.resize(*rv == CKR_OK ? len : 0);
    return out;
  }
  // Unwraps a secret key of `type`, with CKA_VALUE_LEN when `value_len` is set.
  Created UnwrapSecret(CK_MECHANISM* m, CK_OBJECT_HANDLE kek, Bytes wrapped, CK_KEY_TYPE type,
                       std::optional<CK_ULONG> value_len) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bool(CKA_TOKEN, false);
    t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_SENSITIVE, false);
    if (value_len) t.Ulong(CKA_VALUE_LEN, *value_len);
    Created c;
    c.rv = f_->C_UnwrapKey(session_, m, kek, wrapped.data(), wrapped.size(), t.data(), t.size(), &c.handle);
    return c;
  }
  Bytes Value(CK_OBJECT_HANDLE key) { return GetBytes(f_, session_, key, CKA_VALUE).value_or(Bytes{}); }
  // Signs with an unwrapped private key; OpenSSL verifies with `pub`.
  void SignsLike(CK_OBJECT_HANDLE priv, EVP_PKEY* pub, CK_MECHANISM_TYPE mech) {
    CK_MECHANISM m{mech, nullptr, 0};
    Bytes data = AsBytes("unwrapped from zero-padded PKCS#8");
    ASSERT_CKR_OK(f_->C_SignInit(session_, &m, priv));
    Bytes sig(512);
    CK_ULONG len = sig.size();
    ASSERT_CKR_OK(f_->C_Sign(session_, data.data(), data.size(), sig.data(), &len));
    sig.resize(len);
    EXPECT_TRUE(OsslVerify(pub, mech, data, sig)) << "the unwrapped key is the original key";
  }
};

TEST_F(BlockWrapTest, MechanismInfoOffersWrapAndUnwrap) {
  for (CK_MECHANISM_TYPE m : {CKM_AES_ECB, CKM_AES_CBC, CKM_DES3_ECB, CKM_DES3_CBC, CKM_DES3_CBC_PAD}) {
    CK_MECHANISM_INFO info{};
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info));
    EXPECT_EQ(info.flags & (CKF_WRAP | CKF_UNWRAP), CKF_WRAP | CKF_UNWRAP) << "mechanism 0x" << std::hex << m;
  }
}

TEST_F(BlockWrapTest, SecretKeysAreZeroPaddedAndTruncatedBack) {
  for (const BlockWrap& w : kModes) {
    SCOPED_TRACE(w.name);
    const Bytes kek_value = Pattern(w.kek_len, 0x31), iv(w.block, 0x0B);
    CK_OBJECT_HANDLE kek = Kek(w.kek_type, kek_value);
    const bool cbc = w.mech == CKM_AES_CBC || w.mech == CKM_DES3_CBC;
    CK_MECHANISM m{w.mech, cbc ? const_cast<uint8_t*>(iv.data()) : nullptr, cbc ? iv.size() : 0};
    const Bytes secret = AsBytes("a twenty-byte secret");  // a multiple of neither block size
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes wrapped = Wrap(&m, kek, Target(CKK_GENERIC_SECRET, secret), &rv);
    ASSERT_CKR_OK(rv) << "C_WrapKey";
    EXPECT_EQ(wrapped.size(), ZeroPadded(secret, w.block).size());
    EXPECT_EQ(wrapped, OsslCipher(w.ossl, true, kek_value, cbc ? iv : Bytes{}, ZeroPadded(secret, w.block), false))
        << "the key value with zeros up to the block, encrypted";

    Created back = UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, secret.size());
    ASSERT_CKR_OK(back.rv) << "C_UnwrapKey with CKA_VALUE_LEN";
    EXPECT_EQ(Value(back.handle), secret);
    Created whole = UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, std::nullopt);
    ASSERT_CKR_OK(whole.rv) << "without CKA_VALUE_LEN a generic secret keeps every byte";
    EXPECT_EQ(Value(whole.handle), ZeroPadded(secret, w.block));
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, wrapped.size() + 1).rv)
        << "more than was wrapped";
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE,
               UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, wrapped.size() - w.block).rv)
        << "a whole block of padding is not padding";
    Bytes odd = wrapped;
    odd.pop_back();
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, UnwrapSecret(&m, kek, odd, CKK_GENERIC_SECRET, secret.size()).rv)
        << "not a whole number of blocks";

    // A key type of one length needs no CKA_VALUE_LEN: a 3DES key (24 bytes) is cut
    // back from the 32 bytes AES wraps it in.
    Bytes des3(24);
    for (size_t i = 0; i < des3.size(); ++i) des3[i] = static_cast<uint8_t>(0x40 + 2 * i + 1);
    Bytes wrapped3 = Wrap(&m, kek, Target(CKK_DES3, des3), &rv);
    ASSERT_CKR_OK(rv);
    Created back3 = UnwrapSecret(&m, kek, wrapped3, CKK_DES3, std::nullopt);
    ASSERT_CKR_OK(back3.rv);
    EXPECT_EQ(Value(back3.handle), des3);
  }
}

TEST_F(BlockWrapTest, PrivateKeysComeBackFromZeroPaddedPkcs8) {
  for (const BlockWrap& w : kModes) {
    SCOPED_TRACE(w.name);
    CK_OBJECT_HANDLE kek = Kek(w.kek_type, Pattern(w.kek_len, 0x52));
    const Bytes iv(w.block, 0x19);
    const bool cbc = w.mech == CKM_AES_CBC || w.mech == CKM_DES3_CBC;
    CK_MECHANISM m{w.mech, cbc ? const_cast<uint8_t*>(iv.data()) : nullptr, cbc ? iv.size() : 0};
    KeyPair kp = GenerateEc(f_, session_, "P-256", KeyOptions{.extractable = true});
    ASSERT_CKR_OK(kp.rv);
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes wrapped = Wrap(&m, kek, kp.priv, &rv);
    ASSERT_CKR_OK(rv);
    EXPECT_EQ(wrapped.size() % w.block, 0u);
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true);
    CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_UnwrapKey(session_, &m, kek, wrapped.data(), wrapped.size(), t.data(), t.size(), &back));
    Pkey pub = PublicKeyFromObject(f_, session_, kp.pub);
    SignsLike(back, pub.get(), CKM_ECDSA_SHA256);
  }
}

TEST_F(BlockWrapTest, Des3CbcPadWrapsSecretAndPrivateKeys) {
  const Bytes kek_value = Pattern(24, 0x67), iv(8, 0x21);
  CK_OBJECT_HANDLE kek = Kek(CKK_DES3, kek_value);
  CK_MECHANISM m{CKM_DES3_CBC_PAD, const_cast<uint8_t*>(iv.data()), iv.size()};
  const Bytes secret = AsBytes("seventeen bytes!!");
  CK_RV rv = CKR_GENERAL_ERROR;
  Bytes wrapped = Wrap(&m, kek, Target(CKK_GENERIC_SECRET, secret), &rv);
  ASSERT_CKR_OK(rv);
  EXPECT_EQ(wrapped, OsslCipher("DES-EDE3-CBC", true, kek_value, iv, secret, true)) << "PKCS #7 padding";
  Created back = UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, std::nullopt);
  ASSERT_CKR_OK(back.rv);
  EXPECT_EQ(Value(back.handle), secret) << "the padding carries the length";

  KeyPair kp = GenerateEc(f_, session_, "P-256", KeyOptions{.extractable = true});
  ASSERT_CKR_OK(kp.rv);
  Bytes wrapped_priv = Wrap(&m, kek, kp.priv, &rv);
  ASSERT_CKR_OK(rv);
  Template t;
  t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true);
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(
      f_->C_UnwrapKey(session_, &m, kek, wrapped_priv.data(), wrapped_priv.size(), t.data(), t.size(), &priv));
  Pkey pub = PublicKeyFromObject(f_, session_, kp.pub);
  SignsLike(priv, pub.get(), CKM_ECDSA_SHA256);
}

// CKM_AES_KEY_WRAP over keys of every length from 1 to 40 bytes: zero-padded to a
// multiple of 8, RFC 3394 wraps at least 16 bytes, so only keys of 8 bytes or less
// are out of range (CKR_KEY_SIZE_RANGE, a C_WrapKey code).
TEST_F(BlockWrapTest, AesKeyWrapZeroPadsKeysOfEveryLength) {
  const Bytes kek_value = Pattern(16, 0x73);
  CK_OBJECT_HANDLE kek = Kek(CKK_AES, kek_value);
  CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
  for (size_t n = 1; n <= 40; ++n) {
    SCOPED_TRACE(n);
    Bytes secret(n);
    for (size_t i = 0; i < n; ++i) secret[i] = static_cast<uint8_t>(n * 7 + i + 1);
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes wrapped = Wrap(&m, kek, Target(CKK_GENERIC_SECRET, secret), &rv);
    if (n <= 8) {
      EXPECT_CKR(CKR_KEY_SIZE_RANGE, rv);
      continue;
    }
    ASSERT_CKR_OK(rv);
    EXPECT_EQ(wrapped, OsslKeyWrap("AES-128-WRAP", kek_value, ZeroPadded(secret, 8)));
    Created back = UnwrapSecret(&m, kek, wrapped, CKK_GENERIC_SECRET, n);
    ASSERT_CKR_OK(back.rv);
    EXPECT_EQ(Value(back.handle), secret);
  }
}

// The report: an RSA-2048 private key's PKCS#8 is 1,216 or 1,218 bytes (or another
// length), depending on its numbers. CKM_AES_KEY_WRAP now wraps every one; the test
// makes keys until it has one of each kind (a multiple of 8 and not).
TEST_F(BlockWrapTest, AesKeyWrapWrapsRsaPrivateKeysOfAnyEncodedLength) {
  const Bytes kek_value = Pattern(32, 0x44);
  CK_OBJECT_HANDLE kek = Kek(CKK_AES, kek_value);
  CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
  bool aligned_seen = false, unaligned_seen = false;
  for (int attempt = 0; attempt < 32 && !(aligned_seen && unaligned_seen); ++attempt) {
    Pkey key = OsslGenerate("RSA", "2048");
    ASSERT_TRUE(key);
    const Bytes der = Pkcs8Of(key.get());
    ASSERT_FALSE(der.empty());
    const bool aligned = der.size() % 8 == 0;
    if (aligned ? aligned_seen : unaligned_seen) continue;
    (aligned ? aligned_seen : unaligned_seen) = true;
    SCOPED_TRACE(testing::Message() << "PKCS#8 of " << der.size() << " bytes");
    RsaParts r = RsaPartsOf(key.get());
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, false);
    t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_SIGN, true);
    t.Bytes(CKA_MODULUS, r.n).Bytes(CKA_PUBLIC_EXPONENT, r.e).Bytes(CKA_PRIVATE_EXPONENT, r.d);
    t.Bytes(CKA_PRIME_1, r.p).Bytes(CKA_PRIME_2, r.q).Bytes(CKA_EXPONENT_1, r.dp).Bytes(CKA_EXPONENT_2, r.dq);
    t.Bytes(CKA_COEFFICIENT, r.qinv);
    Created priv = CreateObject(f_, session_, t);
    ASSERT_CKR_OK(priv.rv);
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes wrapped = Wrap(&m, kek, priv.handle, &rv);
    ASSERT_CKR_OK(rv) << "C_WrapKey";
    EXPECT_EQ(wrapped, OsslKeyWrap("AES-256-WRAP", kek_value, ZeroPadded(der, 8)));
    Template ut;
    ut.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true);
    CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_UnwrapKey(session_, &m, kek, wrapped.data(), wrapped.size(), ut.data(), ut.size(), &back));
    SignsLike(back, key.get(), CKM_SHA256_RSA_PKCS);
  }
  EXPECT_TRUE(aligned_seen && unaligned_seen) << "32 keys gave only one kind of length";
}

}  // namespace
}  // namespace ferrohsm::abi
