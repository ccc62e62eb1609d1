#include "core/mech/test_util.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

namespace ferrohsm::mech::test {
namespace {

struct HashedMech {
  CK_MECHANISM_TYPE pkcs1, pss, hash;
  CK_RSA_PKCS_MGF_TYPE mgf;
  const char* md;
  size_t len;
};

const HashedMech kHashed[] = {
    {CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 20},
    {CKM_SHA224_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA224, "SHA224", 28},
    {CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, "SHA256", 32},
    {CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, "SHA384", 48},
    {CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, "SHA512", 64},
};

Bytes digest(const char* md, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_MD* m = EVP_MD_fetch(nullptr, md, nullptr);
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &n, m, nullptr), 1);
  EVP_MD_free(m);
  out.resize(n);
  return out;
}

// Plain OpenSSL verification, independent of the mechanism code: PKCS #1 v1.5 or PSS.
bool openssl_verify(const Key& key, const char* md, ByteView data, ByteView sig, int salt = -1, const char* mgf = nullptr) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit_ex(ctx, &pctx, md, nullptr, nullptr, key.pkey, nullptr) == 1;
  if (ok && salt >= 0) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf, nullptr) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

const Bytes kRsaMsg = to_bytes(text("FerroHSM RSA test message, long enough to span a few update() calls"));

TEST(MechRsa, Pkcs1RoundTripsCrossCheckedWithOpenSsl) {
  const Pair& k = rsa2048();
  for (const HashedMech& h : kHashed) {
    SCOPED_TRACE(h.md);
    auto sig = sign(mech(h.pkcs1), k.priv, kRsaMsg);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_EQ(sig->size(), 256u);
    EXPECT_TRUE(openssl_verify(*k.pub, h.md, kRsaMsg, *sig));
    EXPECT_TRUE(verify(mech(h.pkcs1), k.pub, kRsaMsg, *sig).ok());
    EXPECT_TRUE(verify(mech(h.pkcs1), k.priv, kRsaMsg, *sig).ok());  // a private key verifies too
    // PKCS #1 v1.5 is deterministic: multi-part gives the same bytes.
    auto parts = sign_parts(mech(h.pkcs1), k.priv, kRsaMsg, 7);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(*parts, *sig);
    EXPECT_TRUE(verify_parts(mech(h.pkcs1), k.pub, kRsaMsg, 13, *sig).ok());
    EXPECT_EQ(verify(mech(h.pkcs1), k.pub, text("other"), *sig).rv(), CKR_SIGNATURE_INVALID);
  }
}

TEST(MechRsa, RawPkcs1OverDigestInfoEqualsHashedMechanism) {
  const Pair& k = rsa2048();
  const Bytes info = hex("3031300d060960864801650304020105000420");
  Bytes tbs = info;
  Bytes h = digest("SHA256", kRsaMsg);
  tbs.insert(tbs.end(), h.begin(), h.end());
  auto raw = sign(mech(CKM_RSA_PKCS), k.priv, tbs);
  ASSERT_TRUE(raw.ok());
  auto hashed = sign(mech(CKM_SHA256_RSA_PKCS), k.priv, kRsaMsg);
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(*raw, *hashed);
  EXPECT_TRUE(verify(mech(CKM_RSA_PKCS), k.pub, tbs, *raw).ok());
  // Raw data (not a DigestInfo) up to k - 11 bytes.
  Bytes data(245, 0x61);
  auto s = sign(mech(CKM_RSA_PKCS), k.priv, data);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(verify(mech(CKM_RSA_PKCS), k.pub, data, *s).ok());
  data.back() ^= 1;
  EXPECT_EQ(verify(mech(CKM_RSA_PKCS), k.pub, data, *s).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(sign(mech(CKM_RSA_PKCS), k.priv, Bytes(246, 1)).rv(), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(verify(mech(CKM_RSA_PKCS), k.pub, Bytes(246, 1), *s).rv(), CKR_DATA_LEN_RANGE);
}

TEST(MechRsa, PssRoundTripsCrossCheckedWithOpenSsl) {
  const Pair& k = rsa2048();
  for (const HashedMech& h : kHashed) {
    SCOPED_TRACE(h.md);
    CK_RSA_PKCS_PSS_PARAMS p{h.hash, h.mgf, h.len};
    auto sig = sign(mech(h.pss, p), k.priv, kRsaMsg);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(openssl_verify(*k.pub, h.md, kRsaMsg, *sig, static_cast<int>(h.len), h.md));
    EXPECT_TRUE(verify(mech(h.pss, p), k.pub, kRsaMsg, *sig).ok());
    auto parts = sign_parts(mech(h.pss, p), k.priv, kRsaMsg, 9);
    ASSERT_TRUE(parts.ok());
    EXPECT_NE(*parts, *sig);  // randomized salt
    EXPECT_TRUE(verify_parts(mech(h.pss, p), k.pub, kRsaMsg, 4, *parts).ok());
    // CKM_RSA_PKCS_PSS over the digest is the same scheme.
    Bytes d = digest(h.md, kRsaMsg);
    EXPECT_TRUE(verify(mech(CKM_RSA_PKCS_PSS, p), k.pub, d, *sig).ok());
    auto raw = sign(mech(CKM_RSA_PKCS_PSS, p), k.priv, d);
    ASSERT_TRUE(raw.ok());
    EXPECT_TRUE(verify(mech(h.pss, p), k.pub, kRsaMsg, *raw).ok());
    EXPECT_EQ(sign(mech(CKM_RSA_PKCS_PSS, p), k.priv, ByteView(d).first(d.size() - 1)).rv(), CKR_DATA_LEN_RANGE);
    // A different salt length does not verify.
    CK_RSA_PKCS_PSS_PARAMS other{h.hash, h.mgf, h.len + 1};
    EXPECT_EQ(verify(mech(h.pss, other), k.pub, kRsaMsg, *sig).rv(), CKR_SIGNATURE_INVALID);
  }
  // Mixed MGF hash and zero salt.
  CK_RSA_PKCS_PSS_PARAMS mixed{CKM_SHA384, CKG_MGF1_SHA1, 0};
  auto sig = sign(mech(CKM_SHA384_RSA_PKCS_PSS, mixed), k.priv, kRsaMsg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(openssl_verify(*k.pub, "SHA384", kRsaMsg, *sig, 0, "SHA1"));
  auto again = sign(mech(CKM_SHA384_RSA_PKCS_PSS, mixed), k.priv, kRsaMsg);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *sig);  // no salt: deterministic
}

TEST(MechRsa, WycheproofKnownAnswers) {
  // rsa_signature_2048_sha256_test.json tcId 1 and rsa_pss_2048_sha256_mgf1_32_test.json tcId 1 (empty message).
  KeyPtr pub = must_key(key_from_attributes(
      CKO_PUBLIC_KEY,
      attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_RSA)},
             {CKA_MODULUS,
              hex("a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a17"
                  "00f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a"
                  "2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fc"
                  "eca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48"
                  "698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b"
                  "4c2e9cf7820283f742b9d5")},
             {CKA_PUBLIC_EXPONENT, hex("010001")}})));
  ASSERT_TRUE(pub);
  Bytes pkcs1 = hex(
      "840f5dac53106dd1f9c57219224cf51289290c42f20466875ba8e830ac5690e541536fcc8ab03b731f82bf66d83f194e7e180b3963ec7a2f"
      "3f7904a7ce49aed47da4d4b79421eaf937d301b3e696169297b797c32c076a12be4de0b58e003c5123051a84a10c62f8dac2f42a864000"
      "8eb3c7cccd6760ff5b51b689763922582845f048fb8150e5a7a6ca2eccc7bdc85349ad5b26c52137a79fa3fe5c29ab5cd7615013219c19"
      "41b6708e9c3c23feff5febaf0c8ebca5750b54e3e6e99a3e876b396f27860b7f3ec4e9191703c6332d944f6f69751167680c79c4f6b57f"
      "1cc8755d24b6ec158ccdbacdb23107a33cb6b332516c13274d1f9dccc21dced869e486");
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS), pub, {}, pkcs1).ok());
  Bytes pss = hex(
      "4f01e0c12b08625ecac89a69231906edf826380f37c959a96690d046316d68ffce9d5c471694fcebfc6b45534864689256e4fc81c78e583f"
      "675d0c94b449647451e81beff01a11a516d5e5ce3f1a910437cb8a3a5096b19fb15f4524a35b23d89cdba12cf5b71aac1047b28c562df7"
      "c5542c34ce23a182cf7e0e231934b17294799d44877a1d68ef1b8f073619b7618e6b7c22db20030d98cf591ffc3d4da5f58613ecd5ecfc"
      "3b40a1d02f40891ca43695cd4c088b05a8054c89c595a47e274816f35384226f74459ee63e25a1bfc03c360490552ec38343f8ace502f0"
      "65303b00bc0ec320711b211fde92e57feb9013c3609342495ec0d7cabdec21e54acc38");
  CK_RSA_PKCS_PSS_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, 32};
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS_PSS, p), pub, {}, pss).ok());
  pss[10] ^= 1;
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS_PSS, p), pub, {}, pss).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), pub, text("x"), pkcs1).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechRsa, SignatureErrors) {
  const Pair& k = rsa2048();
  auto sig = sign(mech(CKM_SHA256_RSA_PKCS), k.priv, kRsaMsg);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kRsaMsg, ByteView(*sig).first(255)).rv(), CKR_SIGNATURE_LEN_RANGE);
  Bytes longer = *sig;
  longer.push_back(0);
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kRsaMsg, longer).rv(), CKR_SIGNATURE_LEN_RANGE);
  Bytes bad = *sig;
  bad[100] ^= 4;
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kRsaMsg, bad).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kRsaMsg, Bytes(256, 0xff)).rv(), CKR_SIGNATURE_INVALID);  // >= n
  EXPECT_EQ(verify(mech(CKM_SHA512_RSA_PKCS), k.pub, kRsaMsg, *sig).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechRsa, KeyAndParameterErrors) {
  const Pair& k = rsa2048();
  const Entry& e = entry(CKM_SHA256_RSA_PKCS);
  EXPECT_EQ(e.sign(mech(CKM_SHA256_RSA_PKCS), k.pub).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(e.sign(mech(CKM_SHA256_RSA_PKCS), ec_pair(kP256).priv).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(e.verify(mech(CKM_SHA256_RSA_PKCS), secret_key(CKK_GENERIC_SECRET, Bytes(32, 1))).rv(), CKR_KEY_TYPE_INCONSISTENT);
  uint8_t junk = 0;
  EXPECT_EQ(e.sign(mech(CKM_SHA256_RSA_PKCS, junk), k.priv).rv(), CKR_MECHANISM_PARAM_INVALID);

  auto pss_rv = [&](CK_MECHANISM_TYPE t, CK_RSA_PKCS_PSS_PARAMS p) { return entry(t).sign(mech(t, p), k.priv).rv(); };
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, 32}), CKR_OK);
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA384, CKG_MGF1_SHA256, 32}), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_MD5, CKG_MGF1_SHA256, 32}), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA256, 0x99, 32}), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, 256 - 32 - 2}), CKR_OK);  // emLen 256
  EXPECT_EQ(pss_rv(CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, 256 - 32 - 1}), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(pss_rv(CKM_RSA_PKCS_PSS, {CKM_SHA512, CKG_MGF1_SHA1, 20}), CKR_OK);
  EXPECT_EQ(entry(CKM_RSA_PKCS_PSS).sign(mech(CKM_RSA_PKCS_PSS), k.priv).rv(), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, 32};
  EXPECT_EQ(entry(CKM_SHA256_RSA_PKCS_PSS).verify(CK_MECHANISM{CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p - 1}, k.pub).rv(),
            CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(entry(CKM_SHA256_RSA_PKCS_PSS).verify(CK_MECHANISM{CKM_SHA256_RSA_PKCS_PSS, nullptr, sizeof p}, k.pub).rv(),
            CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechRsa, SinglePartMechanismsRefuseUpdate) {
  const Pair& k = rsa2048();
  CK_RSA_PKCS_PSS_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, 32};
  for (CK_MECHANISM m : {mech(CKM_RSA_PKCS), mech(CKM_RSA_PKCS_PSS, p)}) {
    auto op = entry(m.mechanism).sign(m, k.priv);
    ASSERT_TRUE(op.ok());
    EXPECT_FALSE((*op)->multipart());
    EXPECT_EQ((*op)->update(text("x")).rv(), CKR_FUNCTION_NOT_SUPPORTED);
    auto vop = entry(m.mechanism).verify(m, k.pub);
    ASSERT_TRUE(vop.ok());
    EXPECT_FALSE((*vop)->multipart());
    EXPECT_EQ((*vop)->update(text("x")).rv(), CKR_FUNCTION_NOT_SUPPORTED);
  }
  auto op = entry(CKM_SHA256_RSA_PKCS).sign(mech(CKM_SHA256_RSA_PKCS), k.priv);
  ASSERT_TRUE(op.ok());
  EXPECT_TRUE((*op)->multipart());
  EXPECT_EQ((*op)->signature_size(), 256u);
}

}  // namespace
}  // namespace ferrohsm::mech::test
