// RSA through the C ABI: key pair generation (exponent from the template), PKCS #1
// v1.5 / PSS signatures with every hash, raw RSA, PKCS #1 v1.5 and OAEP encryption,
// wrapping and sign/verify-recover. OpenSSL checks each result on the public key the
// module exports, and produces the ciphertexts and wrappings the module must open.
#include <openssl/rsa.h>

#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

namespace ferrohsm::abi::roundtrip {
namespace {

// DigestInfo prefix of SHA-256 (RFC 8017 §9.2, note 1).
const char* const kSha256DigestInfo = "3031300d060960864801650304020105000420";

struct HashSpec {
  CK_MECHANISM_TYPE hash;
  CK_RSA_PKCS_MGF_TYPE mgf;
  const char* md;  // OpenSSL name
};
constexpr HashSpec kHashes[] = {
    {CKM_SHA_1, CKG_MGF1_SHA1, "SHA1"},           {CKM_SHA224, CKG_MGF1_SHA224, "SHA224"},
    {CKM_SHA256, CKG_MGF1_SHA256, "SHA256"},      {CKM_SHA384, CKG_MGF1_SHA384, "SHA384"},
    {CKM_SHA512, CKG_MGF1_SHA512, "SHA512"},      {CKM_SHA3_224, CKG_MGF1_SHA3_224, "SHA3-224"},
    {CKM_SHA3_256, CKG_MGF1_SHA3_256, "SHA3-256"}, {CKM_SHA3_384, CKG_MGF1_SHA3_384, "SHA3-384"},
    {CKM_SHA3_512, CKG_MGF1_SHA3_512, "SHA3-512"}, {CKM_MD5, 0, "MD5"},  // MD5: CKM_MD5_RSA_PKCS only
};
const HashSpec* Hash(CK_MECHANISM_TYPE h) {
  for (const HashSpec& s : kHashes)
    if (s.hash == h) return &s;
  return nullptr;
}
size_t HashSize(const char* md) { return OsslDigest(md, {}).size(); }

struct RsaSig {
  CK_MECHANISM_TYPE mech;
  CK_MECHANISM_TYPE hash;
  bool pss;
};
constexpr RsaSig kSigs[] = {
    {CKM_SHA1_RSA_PKCS, CKM_SHA_1, false},          {CKM_SHA224_RSA_PKCS, CKM_SHA224, false},
    {CKM_SHA256_RSA_PKCS, CKM_SHA256, false},       {CKM_SHA384_RSA_PKCS, CKM_SHA384, false},
    {CKM_SHA512_RSA_PKCS, CKM_SHA512, false},       {CKM_SHA3_224_RSA_PKCS, CKM_SHA3_224, false},
    {CKM_SHA3_256_RSA_PKCS, CKM_SHA3_256, false},   {CKM_SHA3_384_RSA_PKCS, CKM_SHA3_384, false},
    {CKM_SHA3_512_RSA_PKCS, CKM_SHA3_512, false},   {CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, true},
    {CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, true},    {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, true},
    {CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, true},    {CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, true},
    {CKM_SHA3_224_RSA_PKCS_PSS, CKM_SHA3_224, true}, {CKM_SHA3_256_RSA_PKCS_PSS, CKM_SHA3_256, true},
    {CKM_SHA3_384_RSA_PKCS_PSS, CKM_SHA3_384, true}, {CKM_SHA3_512_RSA_PKCS_PSS, CKM_SHA3_512, true},
    {CKM_RSA_PKCS_PSS, CKM_SHA256, true},  // raw PSS: the data is the SHA-256 digest
    {CKM_MD5_RSA_PKCS, CKM_MD5, false},    // legacy
};

// Raw RSA input: as long as the modulus, below it (leading zero byte).
Bytes RawBlock() {
  Bytes b = Random(256);
  b[0] = 0;
  return b;
}

void SignatureCase(Ctx& c, CK_MECHANISM_TYPE m, EVP_PKEY* pub) {
  const KeyPair& k = c.Rsa();
  const Bytes msg = Random(77);
  if (m == CKM_RSA_PKCS) {
    CK_MECHANISM mech{m, nullptr, 0};
    Bytes sig = c.SignVerify(&mech, k.priv, k.pub, Concat(Hex(kSha256DigestInfo), OsslDigest("SHA256", msg)));
    EXPECT_TRUE(VerifyPkcs1(pub, "SHA256", msg, sig)) << "OpenSSL rejects the PKCS #1 v1.5 signature";
    return;
  }
  if (m == CKM_RSA_X_509) {
    CK_MECHANISM mech{m, nullptr, 0};
    Bytes block = RawBlock();
    Bytes sig = c.SignVerify(&mech, k.priv, k.pub, block);
    EXPECT_EQ(HexOf(RsaVerifyRecover(pub, RSA_NO_PADDING, sig)), HexOf(block)) << "OpenSSL: s^e mod n";
    return;
  }
  for (const RsaSig& s : kSigs) {
    if (s.mech != m) continue;
    const HashSpec* h = Hash(s.hash);
    CK_RSA_PKCS_PSS_PARAMS pss{h->hash, h->mgf, HashSize(h->md)};
    CK_MECHANISM mech{m, s.pss ? &pss : nullptr, s.pss ? sizeof pss : 0};
    const bool raw = m == CKM_RSA_PKCS_PSS;
    const Bytes data = raw ? OsslDigest(h->md, msg) : msg;
    Bytes sig = c.SignVerify(&mech, k.priv, k.pub, data);
    EXPECT_EQ(sig.size(), 256u);
    bool ok = s.pss ? VerifyPss(pub, h->md, h->md, static_cast<int>(pss.sLen), raw, data, sig)
                    : VerifyPkcs1(pub, h->md, data, sig);
    EXPECT_TRUE(ok) << "OpenSSL rejects the signature";
    return;
  }
  ADD_FAILURE() << "no signature case for this RSA mechanism";
}

struct Oaep {
  CK_MECHANISM_TYPE hash;
  CK_ULONG source;  // CKZ_DATA_SPECIFIED or 0 (OpenSC's "no source")
  const char* label;
};
constexpr Oaep kOaeps[] = {
    {CKM_SHA_1, CKZ_DATA_SPECIFIED, nullptr}, {CKM_SHA224, CKZ_DATA_SPECIFIED, "label-224"},
    {CKM_SHA256, CKZ_DATA_SPECIFIED, "ferrohsm label"}, {CKM_SHA256, 0, nullptr},
    {CKM_SHA384, CKZ_DATA_SPECIFIED, nullptr}, {CKM_SHA512, CKZ_DATA_SPECIFIED, "x"},
    {CKM_SHA3_256, CKZ_DATA_SPECIFIED, "sha3"},
};

struct OaepMech {
  explicit OaepMech(const Oaep& o) : label(o.label ? AsBytes(o.label) : Bytes{}) {
    const HashSpec* h = Hash(o.hash);
    p = {h->hash, h->mgf, o.source, label.empty() ? nullptr : label.data(), label.size()};
    mech = {CKM_RSA_PKCS_OAEP, &p, sizeof p};
    md = h->md;
  }
  Bytes label;
  CK_RSA_PKCS_OAEP_PARAMS p{};
  CK_MECHANISM mech{};
  const char* md = nullptr;
};

void EncryptionCase(Ctx& c, CK_MECHANISM_TYPE m, EVP_PKEY* pub) {
  c.Did(CKF_ENCRYPT | CKF_DECRYPT);
  const KeyPair& k = c.Rsa();
  auto round_trip = [&](CK_MECHANISM* mech, const Bytes& plain, const Bytes& foreign, bool deterministic) {
    EXPECT_FALSE(foreign.empty()) << "OpenSSL could not encrypt";
    Out opened = c.Decrypt(mech, k.priv, foreign);
    EXPECT_CKR_OK(opened.rv) << "C_Decrypt of OpenSSL's ciphertext";
    EXPECT_EQ(HexOf(opened.bytes), HexOf(plain));
    Out ct = c.Encrypt(mech, k.pub, plain);
    EXPECT_CKR_OK(ct.rv) << "C_Encrypt";
    EXPECT_EQ(ct.bytes.size(), 256u);
    if (deterministic) {
      EXPECT_EQ(HexOf(ct.bytes), HexOf(foreign)) << "raw RSA differs from OpenSSL's";
    }
    Out back = c.Decrypt(mech, k.priv, ct.bytes);
    EXPECT_CKR_OK(back.rv) << "C_Decrypt of the module's ciphertext";
    EXPECT_EQ(HexOf(back.bytes), HexOf(plain));
  };
  if (m == CKM_RSA_X_509) {
    CK_MECHANISM mech{m, nullptr, 0};
    Bytes block = RawBlock();
    round_trip(&mech, block, RsaEncrypt(pub, RSA_NO_PADDING, block), true);
  } else if (m == CKM_RSA_PKCS) {
    CK_MECHANISM mech{m, nullptr, 0};
    Bytes plain = Random(48);
    round_trip(&mech, plain, RsaEncrypt(pub, RSA_PKCS1_PADDING, plain), false);
  } else {
    for (const Oaep& o : kOaeps) {
      SCOPED_TRACE(std::string("OAEP ") + Hash(o.hash)->md + (o.label ? " with a label" : " without a label") +
                   (o.source == 0 ? ", source 0" : ""));
      OaepMech om(o);
      Bytes plain = Random(32);
      round_trip(&om.mech, plain, RsaEncrypt(pub, RSA_PKCS1_OAEP_PADDING, plain, om.md, om.md, om.label), false);
    }
  }
}

void WrapCase(Ctx& c, CK_MECHANISM_TYPE m, EVP_PKEY* pub) {
  const KeyPair& k = c.Rsa();
  Bytes target = Random(32);
  if (m == CKM_RSA_PKCS_OAEP) {
    OaepMech om(kOaeps[2]);
    c.WrapUnwrap(&om.mech, k.pub, k.priv, target, {},
                 RsaEncrypt(pub, RSA_PKCS1_OAEP_PADDING, target, om.md, om.md, om.label), true);
  } else {
    CK_MECHANISM mech{m, nullptr, 0};
    c.WrapUnwrap(&mech, k.pub, k.priv, target, {}, RsaEncrypt(pub, RSA_PKCS1_PADDING, target), true);
  }
}

void RecoverCase(Ctx& c, CK_MECHANISM_TYPE m, EVP_PKEY* pub) {
  c.Did(CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER);
  const KeyPair& k = c.Rsa();
  CK_MECHANISM mech{m, nullptr, 0};
  const bool raw = m == CKM_RSA_X_509;
  Bytes data = raw ? RawBlock() : Random(40);
  Out sig = c.SignRecover(&mech, k.priv, data);
  ASSERT_CKR_OK(sig.rv) << "C_SignRecover";
  EXPECT_EQ(HexOf(RsaVerifyRecover(pub, raw ? RSA_NO_PADDING : RSA_PKCS1_PADDING, sig.bytes)), HexOf(data))
      << "OpenSSL recovers other data";
  Out back = c.VerifyRecover(&mech, k.pub, sig.bytes);
  EXPECT_CKR_OK(back.rv) << "C_VerifyRecover";
  EXPECT_EQ(HexOf(back.bytes), HexOf(data));
  if (!raw) {  // raw RSA has no redundancy to detect a change
    EXPECT_CKR(CKR_SIGNATURE_INVALID, c.VerifyRecover(&mech, k.pub, Tampered(sig.bytes, 100)).rv)
        << "a tampered signature must not recover";
  }
}

Bytes Stripped(Bytes b) {
  while (!b.empty() && b[0] == 0) b.erase(b.begin());
  return b;
}

}  // namespace

void RunRsaKeyGen(Ctx& c, CK_MECHANISM_TYPE) {
  c.Did(CKF_GENERATE_KEY_PAIR);
  const KeyPair& k = c.Rsa();  // made with CKM_RSA_PKCS_KEY_PAIR_GEN
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetUlong(c.f, c.s, k.pub, CKA_MODULUS_BITS).value_or(0), 2048u);
  EXPECT_EQ(GetBytes(c.f, c.s, k.pub, CKA_MODULUS).value_or(Bytes{}).size(), 256u);
  Pkey pub = PublicOf(c, k.pub);
  ASSERT_TRUE(pub);
  const Bytes msg = Random(50);
  CK_MECHANISM sha256{CKM_SHA256_RSA_PKCS, nullptr, 0};
  Out sig = c.Sign(&sha256, k.priv, msg);
  ASSERT_CKR_OK(sig.rv);
  EXPECT_TRUE(VerifyPkcs1(pub.get(), "SHA256", msg, sig.bytes)) << "OpenSSL rejects the new key's signature";

  // The public exponent comes from the template.
  Template pt, st;
  pt.Bool(CKA_TOKEN, false).Bool(CKA_VERIFY, true).Ulong(CKA_MODULUS_BITS, 2048).Bytes(CKA_PUBLIC_EXPONENT, {0x01, 0x00, 0x03});
  st.Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true);
  KeyPair e;
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  ASSERT_CKR_OK(c.f->C_GenerateKeyPair(c.s, &gen, pt.data(), pt.size(), st.data(), st.size(), &e.pub, &e.priv));
  EXPECT_EQ(HexOf(Stripped(GetBytes(c.f, c.s, e.pub, CKA_PUBLIC_EXPONENT).value_or(Bytes{}))), "010003");
  Pkey pub2 = PublicOf(c, e.pub);
  Out sig2 = c.Sign(&sha256, e.priv, msg);
  ASSERT_CKR_OK(sig2.rv);
  EXPECT_TRUE(pub2 && VerifyPkcs1(pub2.get(), "SHA256", msg, sig2.bytes)) << "OpenSSL rejects (e = 65539)";

  // The smallest size the mechanism reports works too.
  SCOPED_TRACE(testing::Message() << "a key of ulMinKeySize = " << c.info.ulMinKeySize << " bits");
  Template small_pub, small_priv = st;
  small_pub.Bool(CKA_TOKEN, false).Bool(CKA_VERIFY, true).Ulong(CKA_MODULUS_BITS, c.info.ulMinKeySize);
  KeyPair small;
  ASSERT_CKR_OK(c.f->C_GenerateKeyPair(c.s, &gen, small_pub.data(), small_pub.size(), small_priv.data(),
                                       small_priv.size(), &small.pub, &small.priv));
  EXPECT_EQ(GetUlong(c.f, c.s, small.pub, CKA_MODULUS_BITS).value_or(0), c.info.ulMinKeySize);
  Pkey pub3 = PublicOf(c, small.pub);
  Out sig3 = c.Sign(&sha256, small.priv, msg);
  ASSERT_CKR_OK(sig3.rv);
  EXPECT_TRUE(pub3 && VerifyPkcs1(pub3.get(), "SHA256", msg, sig3.bytes)) << "OpenSSL rejects the small key's";
}

void RunRsa(Ctx& c, CK_MECHANISM_TYPE m) {
  ASSERT_CKR_OK(c.Rsa().rv);
  Pkey pub = PublicOf(c, c.Rsa().pub);
  ASSERT_TRUE(pub);
  if (c.Has(CKF_SIGN | CKF_VERIFY)) {
    SCOPED_TRACE("sign/verify");
    SignatureCase(c, m, pub.get());
  }
  if (c.Has(CKF_ENCRYPT | CKF_DECRYPT)) {
    SCOPED_TRACE("encrypt/decrypt");
    EncryptionCase(c, m, pub.get());
  }
  if (c.Has(CKF_WRAP | CKF_UNWRAP)) {
    SCOPED_TRACE("wrap/unwrap");
    WrapCase(c, m, pub.get());
  }
  if (c.Has(CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER)) {
    SCOPED_TRACE("sign/verify recover");
    RecoverCase(c, m, pub.get());
  }
}

}  // namespace ferrohsm::abi::roundtrip
