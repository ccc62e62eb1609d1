#include "core/mech/test_util.h"

#include <openssl/x509.h>

namespace ferrohsm::mech::test {
namespace {

// Wycheproof rsa_signature_2048_sha256_test.json / ecdsa_secp256r1_sha256_p1363_test.json keys.
const char* kWpModulus =
    "a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b46942"
    "9e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a02939"
    "7a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4"
    "ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a4"
    "5d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d5";
const char* kWpEcPoint =
    "042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d96850015"
    "58d1a974e7341513e";
// RFC 8032 section 7.1, test 1.
const char* kEdSecretHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* kEd25519Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

Bytes printable(std::string_view s) {
  Bytes b(2 + s.size());
  b[0] = 0x13;
  b[1] = static_cast<uint8_t>(s.size());
  std::copy(s.begin(), s.end(), b.begin() + 2);
  return b;
}

Bytes spki_of(const KeyPtr& key) {
  auto r = public_key_info(*key);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : Bytes{};
}

AttrMap with(AttrMap m, CK_ATTRIBUTE_TYPE t, ByteView v) {
  m.set(t, v);
  return m;
}
AttrMap without(AttrMap m, CK_ATTRIBUTE_TYPE t) {
  m.erase(t);
  return m;
}

TEST(MechKey, RsaPublicImportAndExport) {
  AttrMap a = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_RSA)},
                     {CKA_MODULUS, hex(std::string("00") + kWpModulus)},  // a leading zero is fine
                     {CKA_PUBLIC_EXPONENT, hex("010001")}});
  KeyPtr key = must_key(key_from_attributes(CKO_PUBLIC_KEY, a));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->bits, 2048u);
  EXPECT_EQ(key->cls, CKO_PUBLIC_KEY);
  auto pub = public_attributes_of(*key);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(to_hex(pub->view(CKA_MODULUS)), kWpModulus);
  EXPECT_EQ(to_hex(pub->view(CKA_PUBLIC_EXPONENT)), "010001");
  // The SPKI is the one Wycheproof lists for this key.
  const Bytes spki = spki_of(key);
  EXPECT_EQ(to_hex(pub->view(CKA_PUBLIC_KEY_INFO)), to_hex(spki));
  EXPECT_EQ(to_hex(spki).substr(0, 48), "30820122300d06092a864886f70d01010105000382010f00");
  EXPECT_NE(to_hex(spki).find(kWpModulus), std::string::npos);
}

TEST(MechKey, RsaImportErrors) {
  AttrMap a = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_RSA)}, {CKA_MODULUS, hex(kWpModulus)}, {CKA_PUBLIC_EXPONENT, hex("010001")}});
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, without(a, CKA_MODULUS)).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, without(a, CKA_PUBLIC_EXPONENT)).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_PUBLIC_EXPONENT, hex("010000"))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_PUBLIC_EXPONENT, hex("01"))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_MODULUS, Bytes{})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  Bytes even = hex(kWpModulus);
  even.back() &= 0xfe;
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_MODULUS, even)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_MODULUS, hex("c5"))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  // A private key needs its private exponent.
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, a).rv(), CKR_TEMPLATE_INCOMPLETE);
}

TEST(MechKey, RsaPrivateImportChecksConsistency) {
  auto g = generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}}));
  ASSERT_TRUE(g.ok());
  const AttrMap& full = g->private_attrs;
  KeyPtr k = must_key(key_from_attributes(CKO_PRIVATE_KEY, full));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->bits, 2048u);
  // n, e, d only (no CRT values): accepted and usable.
  AttrMap ned = full;
  for (CK_ATTRIBUTE_TYPE t : {CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT}) ned.erase(t);
  KeyPtr k2 = must_key(key_from_attributes(CKO_PRIVATE_KEY, ned));
  ASSERT_TRUE(k2);
  auto sig = sign(mech(CKM_SHA256_RSA_PKCS), k2, text("no CRT"));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS), k, text("no CRT"), *sig).ok());
  // Primes only: the CRT exponents and coefficient are computed.
  AttrMap primes = full;
  for (CK_ATTRIBUTE_TYPE t : {CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT}) primes.erase(t);
  EXPECT_TRUE(key_from_attributes(CKO_PRIVATE_KEY, primes).ok());
  // The public attributes of the private key are those of the public key.
  auto pa = public_attributes_of(*k);
  ASSERT_TRUE(pa.ok());
  EXPECT_EQ(to_bytes(pa->view(CKA_MODULUS)), to_bytes(g->public_attrs.view(CKA_MODULUS)));

  auto tweak = [&](AttrMap m, CK_ATTRIBUTE_TYPE t) {
    Bytes v = to_bytes(m.view(t));
    v[v.size() / 2] ^= 0x10;
    return with(std::move(m), t, v);
  };
  for (CK_ATTRIBUTE_TYPE t : {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT}) {
    EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, tweak(full, t)).rv(), CKR_ATTRIBUTE_VALUE_INVALID) << t;
  }
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, tweak(ned, CKA_PRIVATE_EXPONENT)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, without(full, CKA_PRIME_2)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  AttrMap crt_without_primes = without(without(full, CKA_PRIME_1), CKA_PRIME_2);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, crt_without_primes).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, without(full, CKA_PRIVATE_EXPONENT)).rv(), CKR_TEMPLATE_INCOMPLETE);
}

TEST(MechKey, EcPublicImportForms) {
  const Bytes der_point = der_octet(hex(kWpEcPoint));
  for (const Bytes& params : {hex(kP256), printable("prime256v1"), printable("secp256r1")}) {
    for (const Bytes& point : {der_point, hex(kWpEcPoint)}) {
      KeyPtr key = must_key(key_from_attributes(
          CKO_PUBLIC_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC)}, {CKA_EC_PARAMS, params}, {CKA_EC_POINT, point}})));
      ASSERT_TRUE(key);
      EXPECT_EQ(key->bits, 256u);
      auto pub = public_attributes_of(*key);
      ASSERT_TRUE(pub.ok());
      EXPECT_EQ(to_hex(pub->view(CKA_EC_POINT)), "0441" + std::string(kWpEcPoint));
      EXPECT_EQ(to_hex(pub->view(CKA_EC_PARAMS)), kP256);
      EXPECT_EQ(to_hex(pub->view(CKA_PUBLIC_KEY_INFO)),
                "3059301306072a8648ce3d020106082a8648ce3d030107034200" + std::string(kWpEcPoint));
    }
  }
  // The compressed form of the same point (y is even: 0x...3e) is accepted too.
  Bytes compressed = hex("02" + std::string(kWpEcPoint).substr(2, 64));
  KeyPtr key = must_key(key_from_attributes(
      CKO_PUBLIC_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC)}, {CKA_EC_PARAMS, hex(kP256)}, {CKA_EC_POINT, compressed}})));
  ASSERT_TRUE(key);
  auto pub = public_attributes_of(*key);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(to_hex(pub->view(CKA_EC_POINT)), "0441" + std::string(kWpEcPoint));
}

TEST(MechKey, EcImportErrors) {
  AttrMap a = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC)}, {CKA_EC_PARAMS, hex(kP256)}, {CKA_EC_POINT, hex(kWpEcPoint)}});
  EXPECT_TRUE(key_from_attributes(CKO_PUBLIC_KEY, a).ok());
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, without(a, CKA_EC_PARAMS)).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, without(a, CKA_EC_POINT)).rv(), CKR_TEMPLATE_INCOMPLETE);
  // secp224r1: a well-formed OID of a curve FerroHSM does not offer.
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_PARAMS, hex("06052b81040021"))).rv(), CKR_CURVE_NOT_SUPPORTED);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_PARAMS, printable("secp224r1"))).rv(),
            CKR_CURVE_NOT_SUPPORTED);
  for (const char* bad : {"06032b65", "0608", "0600", "3000", "05", "06022b80"}) {
    EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_PARAMS, hex(bad))).rv(), CKR_ATTRIBUTE_VALUE_INVALID) << bad;
  }
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_PARAMS, hex(kEd25519))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  Bytes off_curve = hex(kWpEcPoint);
  off_curve.back() ^= 1;
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_POINT, off_curve)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_POINT, ByteView(hex(kWpEcPoint)).first(64))).rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, with(a, CKA_EC_PARAMS, hex(kP384))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
}

TEST(MechKey, EcPrivateImportDerivesThePublicPoint) {
  const Pair& p = ec_pair(kP384);
  auto gen_pub = public_attributes_of(*p.pub);
  ASSERT_TRUE(gen_pub.ok());
  auto from_priv = public_attributes_of(*p.priv);
  ASSERT_TRUE(from_priv.ok());
  EXPECT_EQ(to_bytes(from_priv->view(CKA_EC_POINT)), to_bytes(gen_pub->view(CKA_EC_POINT)));
  EXPECT_EQ(p.priv->bits, 384u);

  AttrMap a = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC)}, {CKA_EC_PARAMS, hex(kP256)}, {CKA_VALUE, hex("01")}});
  KeyPtr one = must_key(key_from_attributes(CKO_PRIVATE_KEY, a));  // d = 1: the public point is G
  ASSERT_TRUE(one);
  auto g = public_attributes_of(*one);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(to_hex(g->view(CKA_EC_POINT)),
            "044104" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_VALUE, hex("00"))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_VALUE, Bytes(32, 0xff))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, without(a, CKA_VALUE)).rv(), CKR_TEMPLATE_INCOMPLETE);
  // A CKA_EC_POINT stored with the private key must match the scalar.
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_POINT, hex(kWpEcPoint))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_TRUE(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_POINT, g->view(CKA_EC_POINT))).ok());
}

TEST(MechKey, EdwardsImportRfc8032Key) {
  const Bytes der_pub = der_octet(hex(kEd25519Public));
  for (const Bytes& params : {hex(kEd25519), printable("edwards25519"), printable("Ed25519")}) {
    KeyPtr priv = must_key(key_from_attributes(
        CKO_PRIVATE_KEY,
        attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, params}, {CKA_VALUE, hex(kEdSecretHex)}})));
    ASSERT_TRUE(priv);
    EXPECT_EQ(priv->bits, 255u);
    auto pub = public_attributes_of(*priv);
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(to_bytes(pub->view(CKA_EC_POINT)), der_pub);
    EXPECT_EQ(to_hex(pub->view(CKA_EC_PARAMS)), kEd25519);
    EXPECT_EQ(to_hex(pub->view(CKA_PUBLIC_KEY_INFO)), "302a300506032b6570032100" + std::string(kEd25519Public));
    for (const Bytes& point : {der_pub, hex(kEd25519Public)}) {
      KeyPtr k = must_key(key_from_attributes(
          CKO_PUBLIC_KEY,
          attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, params}, {CKA_EC_POINT, point}})));
      ASSERT_TRUE(k);
      EXPECT_EQ(spki_of(k), to_bytes(pub->view(CKA_PUBLIC_KEY_INFO)));
    }
  }
}

TEST(MechKey, EdwardsImportErrors) {
  AttrMap a = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, hex(kEd25519)}, {CKA_VALUE, hex(kEdSecretHex)}});
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_VALUE, Bytes(31, 1))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, without(a, CKA_VALUE)).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_PARAMS, hex(kP256))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_PARAMS, hex(kEd448))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_POINT, Bytes(32, 7))).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_TRUE(key_from_attributes(CKO_PRIVATE_KEY, with(a, CKA_EC_POINT, hex(kEd25519Public))).ok());
  AttrMap pub = attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, hex(kEd25519)}, {CKA_EC_POINT, Bytes(33, 1)}});
  EXPECT_EQ(key_from_attributes(CKO_PUBLIC_KEY, pub).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
}

TEST(MechKey, SecretKeys) {
  KeyPtr aes = secret_key(CKK_AES, Bytes(24, 1));
  ASSERT_TRUE(aes);
  EXPECT_EQ(aes->bits, 24u);  // bytes for secret keys
  EXPECT_EQ(aes->secret.size(), 24u);
  auto mk = [](CK_KEY_TYPE kt, Bytes v) {
    return key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(kt)}, {CKA_VALUE, std::move(v)}}));
  };
  EXPECT_EQ(mk(CKK_AES, Bytes(15, 1)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(mk(CKK_AES, Bytes(33, 1)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(mk(CKK_GENERIC_SECRET, Bytes{}).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_TRUE(mk(CKK_GENERIC_SECRET, Bytes(1, 1)).ok());
  EXPECT_TRUE(mk(CKK_SHA256_HMAC, Bytes(1000, 1)).ok());
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_AES)}})).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_AES)},
                                                       {CKA_VALUE, Bytes(16, 1)},
                                                       {CKA_VALUE_LEN, ulong_bytes(32)}}))
                .rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_TRUE(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_AES)},
                                                         {CKA_VALUE, Bytes(16, 1)},
                                                         {CKA_VALUE_LEN, ulong_bytes(16)}}))
                  .ok());
  EXPECT_EQ(public_attributes_of(*aes).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(public_key_info(*aes).rv(), CKR_KEY_TYPE_INCONSISTENT);
}

TEST(MechKey, ClassAndTypeErrors) {
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_VALUE, Bytes(16, 1)}})).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_BLOWFISH)}, {CKA_VALUE, Bytes(24, 1)}})).rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  // Fixed-length secret key types check the length.
  EXPECT_TRUE(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_DES3)}, {CKA_VALUE, Bytes(24, 1)}})).ok());
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_DES3)}, {CKA_VALUE, Bytes(16, 1)}})).rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_CHACHA20)}, {CKA_VALUE, Bytes(16, 1)}})).rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  // A Montgomery key on an Edwards curve.
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_MONTGOMERY)},
                                                       {CKA_EC_PARAMS, hex(kEd25519)}, {CKA_VALUE, Bytes(32, 1)}})).rv(),
            CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_RSA)}})).rv(), CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(key_from_attributes(CKO_PRIVATE_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_AES)}, {CKA_VALUE, Bytes(16, 1)}})).rv(),
            CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(key_from_attributes(CKO_DATA, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_AES)}})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
}


// A generated pair carries what follows from its material, computed once by the
// generator (CKA_PUBLIC_KEY_INFO written directly, not by i2d_PUBKEY): it must be what
// a key rebuilt from the attributes derives, curve by curve, and the private key the
// generator hands over must be the same key.
TEST(MechKey, GeneratedPairCarriesItsDerivedAttributes) {
  auto to_bytes = [](ByteView v) { return Bytes(v.begin(), v.end()); };
  struct Case {
    CK_MECHANISM_TYPE gen;
    std::string_view oid;
  };
  const Case cases[] = {
      {CKM_EC_KEY_PAIR_GEN, kP256},
      {CKM_EC_KEY_PAIR_GEN, kP384},
      {CKM_EC_KEY_PAIR_GEN, kP521},
      {CKM_EC_KEY_PAIR_GEN, "06052b8104000a"},          // secp256k1
      {CKM_EC_KEY_PAIR_GEN, "06092b2403030208010107"},  // brainpoolP256r1
      {CKM_EC_KEY_PAIR_GEN, "06092b240303020801010d"},  // brainpoolP512r1
      {CKM_EC_EDWARDS_KEY_PAIR_GEN, kEd25519},
      {CKM_EC_EDWARDS_KEY_PAIR_GEN, kEd448},
      {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, "06032b656e"},  // X25519
      {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, "06032b656f"},  // X448
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.oid));
    auto g = generate_pair(c.gen, attrs({{CKA_EC_PARAMS, hex(c.oid)}}));
    ASSERT_TRUE(g.ok()) << g.error().message;
    ASSERT_NE(g->private_key, nullptr);
    Pair rebuilt = pair_from(g);
    ASSERT_NE(rebuilt.pub, nullptr);
    const Bytes spki = spki_of(rebuilt.pub);  // i2d_PUBKEY of the rebuilt public key
    EXPECT_EQ(to_bytes(g->public_attrs.view(CKA_PUBLIC_KEY_INFO)), spki);
    EXPECT_EQ(to_bytes(g->private_attrs.view(CKA_PUBLIC_KEY_INFO)), spki);
    EXPECT_EQ(spki_of(g->private_key), spki);
    EXPECT_EQ(to_bytes(g->private_attrs.view(CKA_EC_POINT)), to_bytes(g->public_attrs.view(CKA_EC_POINT)));
    EXPECT_EQ(g->private_key->bits, rebuilt.priv->bits);
    EXPECT_EQ(g->private_key->key_type, rebuilt.priv->key_type);
    EXPECT_EQ(EVP_PKEY_eq(g->private_key->pkey, rebuilt.priv->pkey), 1);
  }
  auto g = generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, attrs({{CKA_MODULUS_BITS, ulong_bytes(1024)}}));
  ASSERT_TRUE(g.ok()) << g.error().message;
  ASSERT_NE(g->private_key, nullptr);
  Pair rebuilt = pair_from(g);
  ASSERT_NE(rebuilt.pub, nullptr);
  EXPECT_EQ(to_bytes(g->public_attrs.view(CKA_PUBLIC_KEY_INFO)), spki_of(rebuilt.pub));
  EXPECT_EQ(to_bytes(g->private_attrs.view(CKA_PUBLIC_KEY_INFO)), spki_of(rebuilt.pub));
  EXPECT_EQ(g->public_attrs.get_ulong(CKA_MODULUS_BITS), std::optional<CK_ULONG>(rebuilt.pub->bits));
  EXPECT_EQ(EVP_PKEY_eq(g->private_key->pkey, rebuilt.priv->pkey), 1);
}

}  // namespace
}  // namespace ferrohsm::mech::test
