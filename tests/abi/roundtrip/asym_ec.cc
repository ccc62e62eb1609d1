// Elliptic curves through the C ABI: key pair generation on every curve issue 3
// names (NIST, secp256k1, brainpool, Edwards, Montgomery), ECDSA with every hash,
// EdDSA, and ECDH (null KDF and the X9.63 KDFs) — each signature verified by
// OpenSSL on the exported public key, each shared secret compared with OpenSSL's.
#include <openssl/core_names.h>

#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

namespace ferrohsm::abi::roundtrip {
namespace {

struct EcdsaHash {
  CK_MECHANISM_TYPE mech;
  const char* md;  // nullptr: CKM_ECDSA signs the SHA-256 digest the caller gives
};
constexpr EcdsaHash kEcdsa[] = {
    {CKM_ECDSA, nullptr},           {CKM_ECDSA_SHA1, "SHA1"},         {CKM_ECDSA_SHA224, "SHA224"},
    {CKM_ECDSA_SHA256, "SHA256"},   {CKM_ECDSA_SHA384, "SHA384"},     {CKM_ECDSA_SHA512, "SHA512"},
    {CKM_ECDSA_SHA3_224, "SHA3-224"}, {CKM_ECDSA_SHA3_256, "SHA3-256"}, {CKM_ECDSA_SHA3_384, "SHA3-384"},
    {CKM_ECDSA_SHA3_512, "SHA3-512"},
};

// Signs with `m` on the pair, checks with OpenSSL; `md` nullptr: raw ECDSA over SHA-256.
void EcdsaOn(Ctx& c, CK_MECHANISM_TYPE m, const char* md, const std::string& curve, const KeyPair& k) {
  SCOPED_TRACE(curve);
  ASSERT_CKR_OK(k.rv);
  const CurveInfo* info = FindCurve(curve);
  Pkey pub = PublicOf(c, k.pub);
  ASSERT_TRUE(pub);
  const Bytes msg = Random(61);
  CK_MECHANISM mech{m, nullptr, 0};
  const Bytes data = md == nullptr ? OsslDigest("SHA256", msg) : msg;
  Bytes sig = c.SignVerify(&mech, k.priv, k.pub, data);
  EXPECT_EQ(sig.size(), 2 * info->field_bytes) << "r || s, each as long as the order";
  EXPECT_TRUE(VerifyEcdsa(pub.get(), OsslDigest(md == nullptr ? "SHA256" : md, msg), sig))
      << "OpenSSL rejects the ECDSA signature";
}

// X9.63 KDF by OpenSSL (SP 800-56A's "ANSI X9.63" form) for CKD_SHA*_KDF.
Bytes X963(const char* md, const Bytes& z, const Bytes& shared, size_t len) {
  return Kdf("X963KDF",
             {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md), 0),
              OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(z.data()), z.size()),
              OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(shared.data()),
                                                shared.size())},
             len);
}

Created EcdhDerive(Ctx& c, CK_MECHANISM_TYPE m, CK_OBJECT_HANDLE priv, const Bytes& peer_public, CK_EC_KDF_TYPE kdf,
                   const Bytes& shared, CK_ULONG len) {
  Bytes pub = peer_public, sd = shared;
  CK_ECDH1_DERIVE_PARAMS p{kdf, sd.size(), sd.empty() ? nullptr : sd.data(), pub.size(), pub.data()};
  CK_MECHANISM mech{m, &p, sizeof p};
  return c.Derive(&mech, priv, Ctx::UsableSecret(CKK_GENERIC_SECRET, len));
}

// The module's key agreement on `curve` against an OpenSSL peer and against a second
// module key; CKD_NULL and an X9.63 KDF.
void EcdhOn(Ctx& c, CK_MECHANISM_TYPE m, const std::string& curve) {
  SCOPED_TRACE(curve);
  const CurveInfo* info = FindCurve(curve);
  const KeyPair& a = c.Pair(curve);
  ASSERT_CKR_OK(a.rv);
  Pkey a_pub = PublicOf(c, a.pub);
  Pkey peer = OsslKey(*info);
  ASSERT_TRUE(a_pub && peer);
  const Bytes z = OsslDerive(peer.get(), a_pub.get());
  ASSERT_FALSE(z.empty()) << "OpenSSL could not derive";

  Created plain = EcdhDerive(c, m, a.priv, RawPublic(peer.get()), CKD_NULL, {}, 0);
  EXPECT_CKR_OK(plain.rv) << "C_DeriveKey with CKD_NULL";
  if (plain.rv == CKR_OK) {
    EXPECT_EQ(HexOf(c.Value(plain.handle)), HexOf(z)) << "shared secret differs from OpenSSL's";
  }
  const Bytes shared = Random(19);
  for (auto [kdf, md] : {std::pair{CKD_SHA256_KDF, "SHA256"}, std::pair{CKD_SHA3_384_KDF, "SHA3-384"}}) {
    Created k = EcdhDerive(c, m, a.priv, RawPublic(peer.get()), kdf, shared, 40);
    EXPECT_CKR_OK(k.rv) << "C_DeriveKey with an X9.63 KDF over " << md;
    if (k.rv == CKR_OK) {
      EXPECT_EQ(HexOf(c.Value(k.handle)), HexOf(X963(md, z, shared, 40))) << md;
    }
  }

  // Both sides in the module derive the same secret.
  KeyPair b = c.NewPair(curve);
  ASSERT_CKR_OK(b.rv);
  auto point_of = [&](CK_OBJECT_HANDLE pub) {
    return UnwrapOctetString(GetBytes(c.f, c.s, pub, CKA_EC_POINT).value_or(Bytes{}));
  };
  Created ab = EcdhDerive(c, m, a.priv, point_of(b.pub), CKD_NULL, {}, 0);
  Created ba = EcdhDerive(c, m, b.priv, point_of(a.pub), CKD_NULL, {}, 0);
  ASSERT_CKR_OK(ab.rv);
  ASSERT_CKR_OK(ba.rv);
  Bytes v = c.Value(ab.handle);
  EXPECT_FALSE(v.empty());
  EXPECT_EQ(HexOf(v), HexOf(c.Value(ba.handle))) << "the two sides derived different secrets";
}

}  // namespace

void RunEcKeyGen(Ctx& c, CK_MECHANISM_TYPE) {
  c.Did(CKF_GENERATE_KEY_PAIR);
  for (const char* curve : kEcdsaCurves) {
    const KeyPair& k = c.Pair(curve);
    EXPECT_EQ(GetUlong(c.f, c.s, k.priv, CKA_KEY_TYPE).value_or(0), static_cast<CK_ULONG>(CKK_EC)) << curve;
    EXPECT_EQ(HexOf(GetBytes(c.f, c.s, k.pub, CKA_EC_PARAMS).value_or(Bytes{})), HexOf(FindCurve(curve)->params))
        << curve;
    EcdsaOn(c, CKM_ECDSA, nullptr, curve, k);
  }
}

void RunEcdsa(Ctx& c, CK_MECHANISM_TYPE m) {
  for (const EcdsaHash& h : kEcdsa) {
    if (h.mech != m) continue;
    EcdsaOn(c, m, h.md, "P-256", c.Pair("P-256"));
    if (m == CKM_ECDSA) EcdsaOn(c, m, h.md, "P-384", c.Pair("P-384"));
    return;
  }
  ADD_FAILURE() << "no ECDSA case for this mechanism";
}

void RunEdwards(Ctx& c, CK_MECHANISM_TYPE m) {
  if (m == CKM_EC_EDWARDS_KEY_PAIR_GEN) c.Did(CKF_GENERATE_KEY_PAIR);
  for (const char* curve : {"Ed25519", "Ed448"}) {
    SCOPED_TRACE(curve);
    const KeyPair& k = c.Pair(curve);
    ASSERT_CKR_OK(k.rv);
    EXPECT_EQ(GetUlong(c.f, c.s, k.pub, CKA_KEY_TYPE).value_or(0), static_cast<CK_ULONG>(CKK_EC_EDWARDS));
    Pkey pub = PublicOf(c, k.pub);
    ASSERT_TRUE(pub);
    const Bytes msg = Random(99);
    CK_MECHANISM mech{CKM_EDDSA, nullptr, 0};
    Bytes sig = c.SignVerify(&mech, k.priv, k.pub, msg);
    EXPECT_EQ(sig.size(), 2 * FindCurve(curve)->field_bytes);
    EXPECT_TRUE(VerifyEddsa(pub.get(), msg, sig)) << "OpenSSL rejects the EdDSA signature";
  }
}

void RunMontgomeryKeyGen(Ctx& c, CK_MECHANISM_TYPE) {
  c.Did(CKF_GENERATE_KEY_PAIR);
  for (const char* curve : {"X25519", "X448"}) {
    SCOPED_TRACE(curve);
    const KeyPair& k = c.Pair(curve);
    ASSERT_CKR_OK(k.rv);
    EXPECT_EQ(GetUlong(c.f, c.s, k.priv, CKA_KEY_TYPE).value_or(0), static_cast<CK_ULONG>(CKK_EC_MONTGOMERY));
    EXPECT_EQ(HexOf(GetBytes(c.f, c.s, k.pub, CKA_EC_PARAMS).value_or(Bytes{})), HexOf(FindCurve(curve)->params));
    Pkey pub = PublicOf(c, k.pub);
    Pkey peer = OsslKey(*FindCurve(curve));
    ASSERT_TRUE(pub && peer);
    Created z = EcdhDerive(c, CKM_ECDH1_DERIVE, k.priv, RawPublic(peer.get()), CKD_NULL, {}, 0);
    ASSERT_CKR_OK(z.rv) << "the new key agrees";
    EXPECT_EQ(HexOf(c.Value(z.handle)), HexOf(OsslDerive(peer.get(), pub.get())));
  }
}

void RunEcdh(Ctx& c, CK_MECHANISM_TYPE m) {
  c.Did(CKF_DERIVE);
  for (const char* curve : {"P-256", "brainpoolP256r1", "X25519", "X448"}) EcdhOn(c, m, curve);
}

}  // namespace ferrohsm::abi::roundtrip
