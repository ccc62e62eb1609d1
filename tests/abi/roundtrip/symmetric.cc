// Secret-key ciphers through the C ABI: key generation (AES, generic secret,
// ChaCha20, DES/2-key/3-key 3DES), AES ECB/CBC/CBC_PAD/CTR/CTS and DES/3DES
// single- and multi-part, and the AEADs (AES-GCM, AES-CCM, ChaCha20-Poly1305) with
// a tampered tag. Every ciphertext is compared with OpenSSL's on the same key.
#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

#include "fixture/cipher_helpers.h"

#include <bit>

namespace ferrohsm::abi::roundtrip {
namespace {

Bytes OddParity(Bytes key) {
  for (uint8_t& b : key)
    if (std::popcount(static_cast<unsigned>(b)) % 2 == 0) b ^= 1;
  return key;
}

bool IsDes(CK_KEY_TYPE t) { return t == CKK_DES || t == CKK_DES2 || t == CKK_DES3; }

struct BlockSpec {
  CK_MECHANISM_TYPE mech;
  CK_KEY_TYPE key_type;
  size_t key_len;
  const char* ossl;  // OpenSSL cipher name
  size_t iv_len;
  size_t data_len;
  bool pad;
  const char* cts = nullptr;
};
const BlockSpec kBlocks[] = {
    {CKM_AES_ECB, CKK_AES, 16, "AES-128-ECB", 0, 64, false},
    {CKM_AES_CBC, CKK_AES, 24, "AES-192-CBC", 16, 64, false},
    {CKM_AES_CBC_PAD, CKK_AES, 32, "AES-256-CBC", 16, 61, true},
    {CKM_AES_CTR, CKK_AES, 16, "AES-128-CTR", 16, 61, false},
    {CKM_AES_CTS, CKK_AES, 16, "AES-128-CBC-CTS", 16, 61, false, "CS3"},
    {CKM_DES3_ECB, CKK_DES3, 24, "DES-EDE3-ECB", 0, 32, false},
    {CKM_DES3_CBC, CKK_DES3, 24, "DES-EDE3-CBC", 8, 32, false},
    {CKM_DES3_CBC_PAD, CKK_DES2, 16, "DES-EDE-CBC", 8, 29, true},  // a two-key 3DES key
    {CKM_DES_ECB, CKK_DES, 8, "DES-ECB", 0, 32, false},
    {CKM_DES_CBC, CKK_DES, 8, "DES-CBC", 8, 32, false},
    {CKM_DES_CBC_PAD, CKK_DES, 8, "DES-CBC", 8, 29, true},
};

OSSL_LIB_CTX* ContextFor(CK_KEY_TYPE t) { return t == CKK_DES ? LegacyContext() : nullptr; }

// Encrypts one block-aligned buffer with `mech_type` under a generated key and
// checks it with OpenSSL on the key's value.
void UseGeneratedKey(Ctx& c, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech_type, const std::string& ossl,
                     OSSL_LIB_CTX* libctx) {
  Bytes value = c.Value(key);
  ASSERT_FALSE(value.empty());
  CK_MECHANISM mech{mech_type, nullptr, 0};
  Bytes plain = Random(32);
  Out ct = c.Encrypt(&mech, key, plain);
  ASSERT_CKR_OK(ct.rv) << "encrypting with the generated key";
  EXPECT_EQ(HexOf(Cipher(libctx, ossl, false, value, {}, ct.bytes, false)), HexOf(plain))
      << "OpenSSL decrypts with the key's value";
}

void AeadCheck(Ctx& c, CK_MECHANISM* mech, CK_OBJECT_HANDLE key, const Bytes& plain, const Bytes& expected) {
  ASSERT_FALSE(expected.empty()) << "OpenSSL could not encrypt";
  Bytes ct = c.EncryptDecrypt(mech, key, plain, expected);
  ASSERT_FALSE(ct.empty());
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, c.Decrypt(mech, key, Tampered(ct)).rv) << "a tampered tag";
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, c.Decrypt(mech, key, Tampered(ct, 0)).rv) << "a tampered ciphertext";
}

}  // namespace

void WrapIfOffered(Ctx& c, CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& target, const Bytes& reference,
                   bool tamper_detected) {
  if (!c.Has(CKF_WRAP | CKF_UNWRAP)) return;
  SCOPED_TRACE("wrap/unwrap");
  c.WrapUnwrap(m, key, key, target, reference, reference, tamper_detected);
}

void RunSecretKeyGen(Ctx& c, CK_MECHANISM_TYPE m) {
  c.Did(CKF_GENERATE);
  CK_MECHANISM gen{m, nullptr, 0};
  switch (m) {
    case CKM_AES_KEY_GEN:
      for (CK_ULONG len : {16, 24, 32}) {
        SCOPED_TRACE(len);
        Created k = c.Generate(&gen, Ctx::UsableSecret(CKK_AES, len));
        ASSERT_CKR_OK(k.rv);
        EXPECT_EQ(c.Value(k.handle).size(), len);
        UseGeneratedKey(c, k.handle, CKM_AES_ECB, Aes(len, "ECB"), nullptr);
      }
      return;
    case CKM_GENERIC_SECRET_KEY_GEN: {
      Created k = c.Generate(&gen, Ctx::UsableSecret(CKK_GENERIC_SECRET, 40));
      ASSERT_CKR_OK(k.rv);
      Bytes value = c.Value(k.handle);
      EXPECT_EQ(value.size(), 40u);
      CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
      Bytes msg = Random(33);
      Out tag = c.Sign(&hmac, k.handle, msg);
      ASSERT_CKR_OK(tag.rv);
      EXPECT_EQ(HexOf(tag.bytes), HexOf(OsslHmac("SHA256", value, msg))) << "HMAC with the generated key";
      return;
    }
    case CKM_CHACHA20_KEY_GEN: {
      Created k = c.Generate(&gen, Ctx::UsableSecret(CKK_CHACHA20));
      ASSERT_CKR_OK(k.rv);
      Bytes value = c.Value(k.handle);
      ASSERT_EQ(value.size(), 32u);
      Bytes nonce = Random(12), plain = Random(45);
      CK_SALSA20_CHACHA20_POLY1305_PARAMS p{nonce.data(), nonce.size(), nullptr, 0};
      CK_MECHANISM mech{CKM_CHACHA20_POLY1305, &p, sizeof p};
      Out ct = c.Encrypt(&mech, k.handle, plain);
      ASSERT_CKR_OK(ct.rv);
      EXPECT_EQ(HexOf(ct.bytes), HexOf(AeadEncrypt("ChaCha20-Poly1305", value, nonce, {}, plain, 16)));
      return;
    }
    case CKM_DES_KEY_GEN:
    case CKM_DES2_KEY_GEN:
    case CKM_DES3_KEY_GEN: {
      const CK_KEY_TYPE kt = m == CKM_DES_KEY_GEN ? CKK_DES : m == CKM_DES2_KEY_GEN ? CKK_DES2 : CKK_DES3;
      const size_t len = m == CKM_DES_KEY_GEN ? 8 : m == CKM_DES2_KEY_GEN ? 16 : 24;
      Created k = c.Generate(&gen, Ctx::UsableSecret(kt));
      ASSERT_CKR_OK(k.rv);
      Bytes value = c.Value(k.handle);
      ASSERT_EQ(value.size(), len);
      EXPECT_EQ(HexOf(OddParity(value)), HexOf(value)) << "DES keys carry odd parity";
      if (m == CKM_DES_KEY_GEN) {
        if (LegacyContext() == nullptr) GTEST_SKIP() << "OpenSSL's legacy provider is absent here";
        UseGeneratedKey(c, k.handle, CKM_DES_ECB, "DES-ECB", LegacyContext());
      } else {
        UseGeneratedKey(c, k.handle, CKM_DES3_ECB, kt == CKK_DES2 ? "DES-EDE-ECB" : "DES-EDE3-ECB", nullptr);
      }
      return;
    }
    default: ADD_FAILURE() << "no key generation case for this mechanism";
  }
}

void RunBlockCipher(Ctx& c, CK_MECHANISM_TYPE m) {
  const BlockSpec* spec = nullptr;
  for (const BlockSpec& b : kBlocks)
    if (b.mech == m) spec = &b;
  ASSERT_NE(spec, nullptr) << "no cipher case for this mechanism";
  OSSL_LIB_CTX* libctx = ContextFor(spec->key_type);
  if (spec->key_type == CKK_DES && libctx == nullptr) GTEST_SKIP() << "OpenSSL's legacy provider is absent here";
  Bytes value = Random(spec->key_len);
  if (IsDes(spec->key_type)) value = OddParity(value);
  CK_OBJECT_HANDLE key = c.Secret(spec->key_type, value);
  Bytes iv = Random(spec->iv_len);
  CK_AES_CTR_PARAMS ctr{32, {}};
  CK_MECHANISM mech{m, iv.empty() ? nullptr : iv.data(), iv.size()};
  if (m == CKM_AES_CTR) {
    iv[12] = iv[13] = iv[14] = iv[15] = 0;  // a 32-bit counter that cannot wrap here
    std::copy(iv.begin(), iv.end(), ctr.cb);
    mech = {m, &ctr, sizeof ctr};
  }
  const Bytes plain = Random(spec->data_len);
  const Bytes expected = Cipher(libctx, spec->ossl, true, value, iv, plain, spec->pad, spec->cts);
  ASSERT_FALSE(expected.empty()) << "OpenSSL could not encrypt with " << spec->ossl;
  c.EncryptDecrypt(&mech, key, plain, expected);
  CipherResult multi = MultiPart(c.f, c.s, &mech, key, true, plain, {7, 20, 64});
  EXPECT_CKR_OK(multi.rv) << "multi-part encryption";
  EXPECT_EQ(HexOf(multi.out), HexOf(expected)) << "multi-part ciphertext";
  CipherResult back = MultiPart(c.f, c.s, &mech, key, false, expected, {16, 3, 64});
  EXPECT_CKR_OK(back.rv) << "multi-part decryption";
  EXPECT_EQ(HexOf(back.out), HexOf(plain)) << "multi-part plaintext";
  const Bytes target = Random(32);
  WrapIfOffered(c, &mech, key, target, Cipher(libctx, spec->ossl, true, value, iv, target, spec->pad, spec->cts),
                false);
}

void RunAead(Ctx& c, CK_MECHANISM_TYPE m) {
  const Bytes plain = Random(70), aad = Random(20), target = Random(32);
  if (m == CKM_AES_GCM) {
    Bytes key = Random(16), iv = Random(12);
    CK_OBJECT_HANDLE k = c.Secret(CKK_AES, key);
    CK_GCM_PARAMS p{iv.data(), iv.size(), iv.size() * 8, const_cast<uint8_t*>(aad.data()), aad.size(), 128};
    CK_MECHANISM mech{m, &p, sizeof p};
    AeadCheck(c, &mech, k, plain, AeadEncrypt("AES-128-GCM", key, iv, aad, plain, 16));
    WrapIfOffered(c, &mech, k, target, AeadEncrypt("AES-128-GCM", key, iv, aad, target, 16), true);
  } else if (m == CKM_AES_CCM) {
    Bytes key = Random(32), nonce = Random(13);
    CK_OBJECT_HANDLE k = c.Secret(CKK_AES, key);
    CK_CCM_PARAMS p{plain.size(), nonce.data(), nonce.size(), const_cast<uint8_t*>(aad.data()), aad.size(), 16};
    CK_MECHANISM mech{m, &p, sizeof p};
    AeadCheck(c, &mech, k, plain, AeadEncrypt("AES-256-CCM", key, nonce, aad, plain, 16));
    CK_CCM_PARAMS wp = p;
    wp.ulDataLen = target.size();
    CK_MECHANISM wmech{m, &wp, sizeof wp};
    WrapIfOffered(c, &wmech, k, target, AeadEncrypt("AES-256-CCM", key, nonce, aad, target, 16), true);
  } else if (m == CKM_CHACHA20_POLY1305) {
    Bytes key = Random(32), nonce = Random(12);
    CK_OBJECT_HANDLE k = c.Secret(CKK_CHACHA20, key);
    CK_SALSA20_CHACHA20_POLY1305_PARAMS p{nonce.data(), nonce.size(), const_cast<uint8_t*>(aad.data()), aad.size()};
    CK_MECHANISM mech{m, &p, sizeof p};
    AeadCheck(c, &mech, k, plain, AeadEncrypt("ChaCha20-Poly1305", key, nonce, aad, plain, 16));
    WrapIfOffered(c, &mech, k, target, AeadEncrypt("ChaCha20-Poly1305", key, nonce, aad, target, 16), true);
  } else {
    ADD_FAILURE() << "no AEAD case for this mechanism";
  }
}

}  // namespace ferrohsm::abi::roundtrip
