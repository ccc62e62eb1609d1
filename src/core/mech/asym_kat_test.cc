// Known answers and round trips for the asymmetric additions: X25519 / X448
// (RFC 7748 6.1 / 6.2) through CKM_ECDH1_DERIVE, ECDH over P-256 with the null and
// X9.63 KDFs, the new Weierstrass curves (secp256k1, brainpool) with ECDSA-SHA3,
// Ed448 (RFC 8032 7.4 "blank"), Montgomery key generation, and RSA encryption /
// recovery (OAEP with and without a label, PKCS #1 v1.5, X.509) and SHA-3 PSS.
#include "core/mech/kat_util.h"

namespace ferrohsm::mech::test {
namespace {

constexpr std::string_view kX25519 = "06032b656e";
constexpr std::string_view kX448 = "06032b656f";

Result<Bytes> ecdh(const KeyPtr& priv, ByteView pub, CK_EC_KDF_TYPE kdf = CKD_NULL, CK_ULONG len = 0,
                   CK_MECHANISM_TYPE t = CKM_ECDH1_DERIVE) {
  Bytes p(pub.begin(), pub.end());
  CK_ECDH1_DERIVE_PARAMS params{kdf, 0, nullptr, p.size(), p.data()};
  return run_derive(mech(t, params), priv, len);
}

TEST(MechAsymKat, X25519Rfc7748) {
  KeyPtr alice = raw_private(CKK_EC_MONTGOMERY, kX25519, hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  ASSERT_TRUE(alice);
  const Bytes bob_pub = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  auto z = ecdh(alice, bob_pub);
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(to_hex(*z), shared);
  auto wrapped = ecdh(alice, der_octet(bob_pub), CKD_NULL, 0, CKM_ECDH1_COFACTOR_DERIVE);  // DER-wrapped peer
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().message;
  EXPECT_EQ(to_hex(*wrapped), shared);
  auto pub = public_attributes_of(*alice);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(to_hex(pub->view(CKA_EC_POINT)), "0420" "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ecdh(alice, Bytes(31, 9)).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechAsymKat, X448Rfc7748) {
  KeyPtr alice = raw_private(CKK_EC_MONTGOMERY, kX448,
                             hex("9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127"
                                 "ab1d9ac2d8c0a598726b"));
  ASSERT_TRUE(alice);
  auto z = ecdh(alice, hex("3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3d"
                           "ae07bdc1c67bf33609"));
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(to_hex(*z), "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a"
                        "449a5037514a879d");
}

TEST(MechAsymKat, MontgomeryKeyGenerationAgrees) {
  for (std::string_view oid : {kX25519, kX448}) {
    Pair a = pair_from(generate_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(oid)}})));
    Pair b = pair_from(generate_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(oid)}})));
    ASSERT_TRUE(a.priv && b.priv);
    auto pa = public_attributes_of(*a.pub), pb = public_attributes_of(*b.pub);
    auto z1 = ecdh(a.priv, pb->view(CKA_EC_POINT)), z2 = ecdh(b.priv, pa->view(CKA_EC_POINT));
    ASSERT_TRUE(z1.ok() && z2.ok());
    EXPECT_EQ(*z1, *z2);
  }
  // The PrintableString name form, and a Weierstrass curve refused.
  Bytes name = {0x13, 0x0a};
  for (char c : std::string("curve25519")) name.push_back(static_cast<uint8_t>(c));
  EXPECT_TRUE(generate_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, name}})).ok());
  EXPECT_EQ(generate_pair(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})).rv(),
            CKR_CURVE_NOT_SUPPORTED);
}

TEST(MechAsymKat, EcdhP256WithKdfs) {
  const Pair& a = ec_pair(kP256);
  Pair b = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})));
  auto pa = public_attributes_of(*a.pub), pb = public_attributes_of(*b.pub);
  ASSERT_TRUE(pa.ok() && pb.ok());
  auto z1 = ecdh(a.priv, pb->view(CKA_EC_POINT)), z2 = ecdh(b.priv, pa->view(CKA_EC_POINT));
  ASSERT_TRUE(z1.ok() && z2.ok()) << (z1.ok() ? z2.error().message : z1.error().message);
  EXPECT_EQ(z1->size(), 32u);
  EXPECT_EQ(*z1, *z2);
  // X9.63 with SHA-256, no shared info: SHA256(Z || 00000001), truncated.
  auto k = ecdh(a.priv, pb->view(CKA_EC_POINT), CKD_SHA256_KDF, 16);
  ASSERT_TRUE(k.ok()) << k.error().message;
  Bytes in = *z1;
  for (uint8_t x : {0, 0, 0, 1}) in.push_back(x);
  Bytes want(32);
  unsigned int n = 0;
  EVP_Digest(in.data(), in.size(), want.data(), &n, EVP_sha256(), nullptr);
  EXPECT_EQ(*k, Bytes(want.begin(), want.begin() + 16));
  EXPECT_EQ(to_bytes(*ecdh(a.priv, pb->view(CKA_EC_POINT), CKD_NULL, 20)), Bytes(z1->begin(), z1->begin() + 20));
  EXPECT_EQ(ecdh(a.priv, pb->view(CKA_EC_POINT), CKD_NULL, 33).rv(), CKR_TEMPLATE_INCONSISTENT);
  Bytes off = to_bytes(pb->view(CKA_EC_POINT));
  off.back() ^= 1;  // not on the curve
  EXPECT_EQ(ecdh(a.priv, off).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_TRUE(entry(CKM_ECDH1_DERIVE).info.flags & CKF_DERIVE);
}

TEST(MechAsymKat, NewCurvesSignWithSha3) {
  struct {
    const char* oid;
    size_t sig;
  } curves[] = {{"06052b8104000a", 64}, {"06092b2403030208010107", 64}, {"06092b240303020801010b", 96},
                {"06092b240303020801010d", 128}};
  for (const auto& c : curves) {
    SCOPED_TRACE(c.oid);
    Pair p = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(c.oid)}})));
    ASSERT_TRUE(p.priv);
    for (CK_MECHANISM_TYPE t : {CKM_ECDSA_SHA3_256, CKM_ECDSA_SHA224, CKM_ECDSA_SHA1}) {
      auto sig = sign(mech(t), p.priv, text("brainpool and friends"));
      ASSERT_TRUE(sig.ok()) << sig.error().message;
      EXPECT_EQ(sig->size(), c.sig);
      EXPECT_TRUE(verify(mech(t), p.pub, text("brainpool and friends"), *sig).ok());
      EXPECT_EQ(verify(mech(t), p.pub, text("brainpool and friendz"), *sig).rv(), CKR_SIGNATURE_INVALID);
    }
  }
}

TEST(MechAsymKat, Ed448Rfc8032Blank) {
  KeyPtr priv = raw_private(CKK_EC_EDWARDS, kEd448,
                            hex("6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b"
                                "94492f8f032e7549a20098f95b"));
  ASSERT_TRUE(priv);
  auto sig = sign(mech(CKM_EDDSA), priv, {});
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(to_hex(*sig),
            "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bf"
            "d3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d9580"
            "8ff2e652600");
}

TEST(MechAsymKat, RsaOaepPkcsAndRaw) {
  const Pair& k = rsa2048();
  Bytes label = hex("6c6162656c");
  CK_RSA_PKCS_OAEP_PARAMS with_label{CKM_SHA256, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, label.data(), label.size()};
  CK_RSA_PKCS_OAEP_PARAMS zero_source{CKM_SHA3_256, CKG_MGF1_SHA3_256, 0, nullptr, 0};  // as OpenSC sends
  for (CK_RSA_PKCS_OAEP_PARAMS* p : {&with_label, &zero_source}) {
    CK_MECHANISM m = mech(CKM_RSA_PKCS_OAEP, *p);
    auto ct = run_cipher(true, m, k.pub, text("wrapped key bytes"));
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(ct->size(), 256u);
    auto pt = run_cipher(false, m, k.priv, *ct);
    ASSERT_TRUE(pt.ok()) << pt.error().message;
    EXPECT_EQ(*pt, to_bytes(text("wrapped key bytes")));
  }
  CK_RSA_PKCS_OAEP_PARAMS other = with_label;
  other.ulSourceDataLen = 4;  // a different label
  auto ct = run_cipher(true, mech(CKM_RSA_PKCS_OAEP, with_label), k.pub, text("x"));
  EXPECT_EQ(run_cipher(false, mech(CKM_RSA_PKCS_OAEP, other), k.priv, *ct).rv(), CKR_ENCRYPTED_DATA_INVALID);
  EXPECT_EQ(run_cipher(true, mech(CKM_RSA_PKCS_OAEP, with_label), k.pub, Bytes(256 - 66 + 1, 1)).rv(), CKR_DATA_LEN_RANGE);

  auto pk = run_cipher(true, mech(CKM_RSA_PKCS), k.pub, text("pkcs1"));
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(*run_cipher(false, mech(CKM_RSA_PKCS), k.priv, *pk), to_bytes(text("pkcs1")));

  // Raw RSA: decrypt(encrypt(m)) is m left-padded to the modulus length.
  auto raw = run_cipher(true, mech(CKM_RSA_X_509), k.pub, text("raw"));
  ASSERT_TRUE(raw.ok());
  auto back = run_cipher(false, mech(CKM_RSA_X_509), k.priv, *raw);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 256u);
  EXPECT_EQ(Bytes(back->end() - 3, back->end()), to_bytes(text("raw")));
}

TEST(MechAsymKat, RsaSignRecover) {
  const Pair& k = rsa2048();
  for (CK_MECHANISM_TYPE t : {CKM_RSA_PKCS, CKM_RSA_X_509}) {
    const Entry& e = entry(t);
    ASSERT_TRUE(e.sign_recover && e.verify_recover);
    EXPECT_TRUE(e.info.flags & CKF_SIGN_RECOVER);
    auto s = e.sign_recover(mech(t), k.priv);
    ASSERT_TRUE(s.ok());
    Bytes sig(256);
    auto n = (*s)->one_shot(text("recover me"), sig);
    ASSERT_TRUE(n.ok()) << n.error().message;
    auto v = e.verify_recover(mech(t), k.pub);
    Bytes rec(256);
    auto m = (*v)->one_shot(sig, rec);
    ASSERT_TRUE(m.ok());
    rec.resize(*m);
    EXPECT_EQ(Bytes(rec.end() - 10, rec.end()), to_bytes(text("recover me")));
    if (t == CKM_RSA_PKCS) {
      EXPECT_EQ(rec.size(), 10u);
      // CKM_RSA_PKCS sign_recover is the same signature as C_Sign.
      EXPECT_EQ(*sign(mech(t), k.priv, text("recover me")), sig);
    }
  }
  auto x = sign(mech(CKM_RSA_X_509), k.priv, text("raw sign"));
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE(verify(mech(CKM_RSA_X_509), k.pub, text("raw sign"), *x).ok());
  EXPECT_EQ(verify(mech(CKM_RSA_X_509), k.pub, text("raw sigm"), *x).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechAsymKat, RsaSha3Signatures) {
  const Pair& k = rsa2048();
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA3_384, CKG_MGF1_SHA3_384, 48};
  for (CK_MECHANISM m : {mech(CKM_SHA3_256_RSA_PKCS), mech(CKM_SHA3_384_RSA_PKCS_PSS, pss), mech(CKM_SHA224_RSA_PKCS)}) {
    auto sig = sign_parts(m, k.priv, text("sha-3 everywhere"), 3);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(verify(m, k.pub, text("sha-3 everywhere"), *sig).ok());
    EXPECT_EQ(verify(m, k.pub, text("sha-3 elsewhere"), *sig).rv(), CKR_SIGNATURE_INVALID);
  }
}

}  // namespace
}  // namespace ferrohsm::mech::test
