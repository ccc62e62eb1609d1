// The benchmark's token keys: RSA-2048, P-256, P-384 and Ed25519 key pairs, an
// AES-256 key and a 32-byte HMAC key, generated on the token by `p11bench setup`
// (private, sensitive token objects, as an application would keep them).
#include "ops.h"

#include <cstdio>

namespace p11bench {
namespace {

struct PairSpec {
  const char* label;
  CK_MECHANISM_TYPE mech;
  CK_KEY_TYPE type;
  const std::string* oid;  // nullptr for RSA
};

const PairSpec kPairs[] = {
    {"bench-rsa2048", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, nullptr},
    {"bench-p256", CKM_EC_KEY_PAIR_GEN, CKK_EC, &kP256Oid},
    {"bench-p384", CKM_EC_KEY_PAIR_GEN, CKK_EC, &kP384Oid},
    {"bench-ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, &kEd25519Oid},
};

CK_OBJECT_HANDLE find_key(const Module& m, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const std::string& label) {
  Template t;
  t.ulong(CKA_CLASS, cls).bytes(CKA_LABEL, label);
  return find_one(m, s, t);
}

void gen_pair(const Module& m, CK_SESSION_HANDLE s, const PairSpec& p) {
  Template pub, priv;
  pub.flag(CKA_TOKEN, true).flag(CKA_VERIFY, true).bytes(CKA_LABEL, p.label);
  priv.flag(CKA_TOKEN, true).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_SIGN, true);
  priv.bytes(CKA_LABEL, p.label);
  if (p.oid == nullptr) {
    const uint8_t e[] = {1, 0, 1};
    pub.ulong(CKA_MODULUS_BITS, 2048).add(CKA_PUBLIC_EXPONENT, e, sizeof e);
  } else {
    pub.bytes(CKA_EC_PARAMS, *p.oid);
  }
  CK_MECHANISM mech{p.mech, nullptr, 0};
  CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
  CK_RV rv = m.f->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hpub, &hpriv);
  if (rv != CKR_OK) std::fprintf(stderr, "p11bench: cannot generate %s: %s\n", p.label, rv_name(rv).c_str());
}

void gen_secret(const Module& m, CK_SESSION_HANDLE s, const char* label, CK_MECHANISM_TYPE mt, CK_KEY_TYPE kt,
                bool mac) {
  Template t;
  t.ulong(CKA_CLASS, CKO_SECRET_KEY).ulong(CKA_KEY_TYPE, kt).ulong(CKA_VALUE_LEN, 32);
  t.flag(CKA_TOKEN, true).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).bytes(CKA_LABEL, label);
  if (mac) t.flag(CKA_SIGN, true).flag(CKA_VERIFY, true);
  else t.flag(CKA_ENCRYPT, true).flag(CKA_DECRYPT, true);
  CK_MECHANISM mech{mt, nullptr, 0};
  CK_OBJECT_HANDLE h = 0;
  CK_RV rv = m.f->C_GenerateKey(s, &mech, t.data(), t.size(), &h);
  if (rv != CKR_OK) std::fprintf(stderr, "p11bench: cannot generate %s: %s\n", label, rv_name(rv).c_str());
}

}  // namespace

void create_token_keys(const Module& m, CK_SESSION_HANDLE s) {
  for (const PairSpec& p : kPairs)
    if (find_key(m, s, CKO_PRIVATE_KEY, p.label) == CK_INVALID_HANDLE) gen_pair(m, s, p);
  if (find_key(m, s, CKO_SECRET_KEY, "bench-aes256") == CK_INVALID_HANDLE)
    gen_secret(m, s, "bench-aes256", CKM_AES_KEY_GEN, CKK_AES, false);
  if (find_key(m, s, CKO_SECRET_KEY, "bench-hmac") == CK_INVALID_HANDLE)
    gen_secret(m, s, "bench-hmac", CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, true);
}

TokenKeys find_token_keys(const Module& m, CK_SESSION_HANDLE s) {
  TokenKeys k;
  k.rsa_priv = find_key(m, s, CKO_PRIVATE_KEY, "bench-rsa2048");
  k.rsa_pub = find_key(m, s, CKO_PUBLIC_KEY, "bench-rsa2048");
  k.p256_priv = find_key(m, s, CKO_PRIVATE_KEY, "bench-p256");
  k.p256_pub = find_key(m, s, CKO_PUBLIC_KEY, "bench-p256");
  k.p384_priv = find_key(m, s, CKO_PRIVATE_KEY, "bench-p384");
  k.p384_pub = find_key(m, s, CKO_PUBLIC_KEY, "bench-p384");
  k.ed_priv = find_key(m, s, CKO_PRIVATE_KEY, "bench-ed25519");
  k.ed_pub = find_key(m, s, CKO_PUBLIC_KEY, "bench-ed25519");
  k.aes = find_key(m, s, CKO_SECRET_KEY, "bench-aes256");
  k.hmac = find_key(m, s, CKO_SECRET_KEY, "bench-hmac");
  return k;
}

}  // namespace p11bench
