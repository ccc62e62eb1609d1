// The crypto operations through a PKCS#11 module: per message the *Init call and the
// one-shot call, on the calling thread's own session, with the token keys of
// keys_p11.cc. A mechanism the module lacks is reported as n/a, never as a failure.
#include "ops.h"

#include <cstring>
#include <memory>

namespace p11bench {

const char* const kNullCallOp = "null call C_GetSessionInfo";

const std::vector<OpSpec>& crypto_ops() {
  static const std::vector<OpSpec> ops = {
      {kNullCallOp, Alg::kNone, Kind::kNull, 0},
      {"sign RSA-2048 PKCS#1 SHA-256 1KiB", Alg::kRsaPkcs1, Kind::kSign, 1024},
      {"verify RSA-2048 PKCS#1 SHA-256 1KiB", Alg::kRsaPkcs1, Kind::kVerify, 1024},
      {"sign RSA-2048 PSS SHA-256 1KiB", Alg::kRsaPss, Kind::kSign, 1024},
      {"verify RSA-2048 PSS SHA-256 1KiB", Alg::kRsaPss, Kind::kVerify, 1024},
      {"sign ECDSA P-256 32B digest", Alg::kEcdsaP256, Kind::kSign, 32},
      {"verify ECDSA P-256 32B digest", Alg::kEcdsaP256, Kind::kVerify, 32},
      {"sign ECDSA P-384 48B digest", Alg::kEcdsaP384, Kind::kSign, 48},
      {"verify ECDSA P-384 48B digest", Alg::kEcdsaP384, Kind::kVerify, 48},
      {"sign Ed25519 1KiB", Alg::kEd25519, Kind::kSign, 1024},
      {"verify Ed25519 1KiB", Alg::kEd25519, Kind::kVerify, 1024},
      {"encrypt AES-256-GCM 64B", Alg::kAesGcm, Kind::kEncrypt, 64},
      {"decrypt AES-256-GCM 64B", Alg::kAesGcm, Kind::kDecrypt, 64},
      {"encrypt AES-256-GCM 4KiB", Alg::kAesGcm, Kind::kEncrypt, 4096},
      {"decrypt AES-256-GCM 4KiB", Alg::kAesGcm, Kind::kDecrypt, 4096},
      {"encrypt AES-256-CBC 64B", Alg::kAesCbc, Kind::kEncrypt, 64},
      {"decrypt AES-256-CBC 64B", Alg::kAesCbc, Kind::kDecrypt, 64},
      {"encrypt AES-256-CBC 4KiB", Alg::kAesCbc, Kind::kEncrypt, 4096},
      {"decrypt AES-256-CBC 4KiB", Alg::kAesCbc, Kind::kDecrypt, 4096},
      {"digest SHA-256 64B", Alg::kSha256, Kind::kDigest, 64},
      {"digest SHA-256 4KiB", Alg::kSha256, Kind::kDigest, 4096},
      {"HMAC-SHA-256 64B", Alg::kHmacSha256, Kind::kSign, 64},
      {"HMAC-SHA-256 4KiB", Alg::kHmacSha256, Kind::kSign, 4096},
      {"keygen RSA-2048", Alg::kGenRsa2048, Kind::kGenerate, 0},
      {"keygen ECDSA P-256", Alg::kGenP256, Kind::kGenerate, 0},
      {"keygen Ed25519", Alg::kGenEd25519, Kind::kGenerate, 0},
  };
  return ops;
}

namespace {

// One thread's state; the mechanism's parameter points into it, so it never moves.
// Aligned to a cache line, so that two threads' states share none.
struct alignas(64) State {
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_SESSION_HANDLE s = 0;
  CK_OBJECT_HANDLE key = 0;  // private / secret key
  CK_OBJECT_HANDLE pub = 0;  // public key (verify)
  CK_MECHANISM mech{};
  CK_RSA_PKCS_PSS_PARAMS pss{};
  CK_GCM_PARAMS gcm{};
  uint8_t iv[16]{};
  uint64_t counter = 0;
  Buffer in, out, aux;  // aux: signature or ciphertext to check
  Template pub_t, priv_t;
  CK_ATTRIBUTE* pub_a = nullptr;
  CK_ATTRIBUTE* priv_a = nullptr;

  void next_iv() {
    ++counter;
    std::memcpy(iv, &counter, sizeof counter);
  }
};

bool mech_supported(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE t) {
  CK_SESSION_INFO si{};
  if (f->C_GetSessionInfo(s, &si) != CKR_OK) return false;
  CK_MECHANISM_INFO mi{};
  return f->C_GetMechanismInfo(si.slotID, t, &mi) == CKR_OK;
}

CK_RV sign_once(State& st, CK_OBJECT_HANDLE key, Buffer& out) {
  CK_ULONG n = static_cast<CK_ULONG>(out.size());
  CK_RV rv = st.f->C_SignInit(st.s, &st.mech, key);
  if (rv == CKR_OK) rv = st.f->C_Sign(st.s, st.in.data(), static_cast<CK_ULONG>(st.in.size()), out.data(), &n);
  out.resize(n);
  return rv;
}

CK_RV encrypt_once(State& st, Buffer& out) {
  CK_ULONG n = static_cast<CK_ULONG>(out.size());
  CK_RV rv = st.f->C_EncryptInit(st.s, &st.mech, st.key);
  if (rv == CKR_OK) rv = st.f->C_Encrypt(st.s, st.in.data(), static_cast<CK_ULONG>(st.in.size()), out.data(), &n);
  out.resize(n);
  return rv;
}

// Sets mechanism, key and buffers for `op`; a non-empty return says why it cannot run.
std::string prepare(State& st, const TokenKeys& k, const OpSpec& op) {
  st.in.assign(op.len, 0x5a);
  st.out.assign(op.len + 512, 0);
  switch (op.alg) {
    case Alg::kNone:
      return {};
    case Alg::kRsaPkcs1:
      st.mech = {CKM_SHA256_RSA_PKCS, nullptr, 0};
      st.key = k.rsa_priv, st.pub = k.rsa_pub;
      break;
    case Alg::kRsaPss:
      st.pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
      st.mech = {CKM_SHA256_RSA_PKCS_PSS, &st.pss, sizeof st.pss};
      st.key = k.rsa_priv, st.pub = k.rsa_pub;
      break;
    case Alg::kEcdsaP256:
      st.mech = {CKM_ECDSA, nullptr, 0};
      st.key = k.p256_priv, st.pub = k.p256_pub;
      break;
    case Alg::kEcdsaP384:
      st.mech = {CKM_ECDSA, nullptr, 0};
      st.key = k.p384_priv, st.pub = k.p384_pub;
      break;
    case Alg::kEd25519:
      st.mech = {CKM_EDDSA, nullptr, 0};
      st.key = k.ed_priv, st.pub = k.ed_pub;
      break;
    case Alg::kAesGcm:
      st.gcm = {st.iv, 12, 96, nullptr, 0, 128};
      st.mech = {CKM_AES_GCM, &st.gcm, sizeof st.gcm};
      st.key = k.aes;
      break;
    case Alg::kAesCbc:
      st.mech = {CKM_AES_CBC, st.iv, sizeof st.iv};
      st.key = k.aes;
      break;
    case Alg::kSha256:
      st.mech = {CKM_SHA256, nullptr, 0};
      st.key = 1;
      break;
    case Alg::kHmacSha256:
      st.mech = {CKM_SHA256_HMAC, nullptr, 0};
      st.key = k.hmac;
      break;
    case Alg::kGenRsa2048: {
      const uint8_t e[] = {1, 0, 1};
      st.mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
      st.pub_t.ulong(CKA_MODULUS_BITS, 2048).add(CKA_PUBLIC_EXPONENT, e, sizeof e);
      st.key = 1;
      break;
    }
    case Alg::kGenP256:
      st.mech = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
      st.pub_t.bytes(CKA_EC_PARAMS, kP256Oid);
      st.key = 1;
      break;
    case Alg::kGenEd25519:
      st.mech = {CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
      st.pub_t.bytes(CKA_EC_PARAMS, kEd25519Oid);
      st.key = 1;
      break;
  }
  if (!mech_supported(st.f, st.s, st.mech.mechanism)) return "mechanism not supported";
  if (st.key == CK_INVALID_HANDLE) return "no key (the module could not generate it)";
  if (op.kind == Kind::kVerify && st.pub == CK_INVALID_HANDLE) return "no public key";
  CK_RV rv = CKR_OK;
  if (op.kind == Kind::kVerify) {
    st.aux.assign(512, 0);
    rv = sign_once(st, st.key, st.aux);
  } else if (op.kind == Kind::kDecrypt) {
    st.aux.assign(op.len + 64, 0);
    rv = encrypt_once(st, st.aux);  // decrypted with the same (fixed) IV
  } else if (op.kind == Kind::kGenerate) {
    st.pub_t.flag(CKA_TOKEN, false).flag(CKA_VERIFY, true);
    st.priv_t.flag(CKA_TOKEN, false).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_SIGN, true);
    st.pub_a = st.pub_t.data();
    st.priv_a = st.priv_t.data();
  }
  if (rv != CKR_OK) return "preparation failed: " + rv_name(rv);
  return {};
}

OpFn make_op(const std::shared_ptr<State>& p, const OpSpec& op) {
  State* st = p.get();
  CK_FUNCTION_LIST_PTR f = st->f;
  const CK_ULONG in_len = static_cast<CK_ULONG>(st->in.size());
  switch (op.kind) {
    case Kind::kNull:
      return [p, st, f] {
        CK_SESSION_INFO info{};
        return f->C_GetSessionInfo(st->s, &info) == CKR_OK;
      };
    case Kind::kSign:
      return [p, st, f, in_len] {
        CK_ULONG n = static_cast<CK_ULONG>(st->out.size());
        return f->C_SignInit(st->s, &st->mech, st->key) == CKR_OK &&
               f->C_Sign(st->s, st->in.data(), in_len, st->out.data(), &n) == CKR_OK;
      };
    case Kind::kVerify:
      return [p, st, f, in_len] {
        return f->C_VerifyInit(st->s, &st->mech, st->pub) == CKR_OK &&
               f->C_Verify(st->s, st->in.data(), in_len, st->aux.data(), static_cast<CK_ULONG>(st->aux.size())) ==
                   CKR_OK;
      };
    case Kind::kEncrypt:
      return [p, st, f, in_len] {
        st->next_iv();
        CK_ULONG n = static_cast<CK_ULONG>(st->out.size());
        return f->C_EncryptInit(st->s, &st->mech, st->key) == CKR_OK &&
               f->C_Encrypt(st->s, st->in.data(), in_len, st->out.data(), &n) == CKR_OK;
      };
    case Kind::kDecrypt:
      return [p, st, f] {
        CK_ULONG n = static_cast<CK_ULONG>(st->out.size());
        return f->C_DecryptInit(st->s, &st->mech, st->key) == CKR_OK &&
               f->C_Decrypt(st->s, st->aux.data(), static_cast<CK_ULONG>(st->aux.size()), st->out.data(), &n) ==
                   CKR_OK;
      };
    case Kind::kDigest:
      return [p, st, f, in_len] {
        CK_ULONG n = static_cast<CK_ULONG>(st->out.size());
        return f->C_DigestInit(st->s, &st->mech) == CKR_OK &&
               f->C_Digest(st->s, st->in.data(), in_len, st->out.data(), &n) == CKR_OK;
      };
    case Kind::kGenerate:
      return [p, st, f] {
        CK_OBJECT_HANDLE pub = 0, priv = 0;
        if (f->C_GenerateKeyPair(st->s, &st->mech, st->pub_a, st->pub_t.size(), st->priv_a, st->priv_t.size(), &pub,
                                 &priv) != CKR_OK)
          return false;
        return f->C_DestroyObject(st->s, pub) == CKR_OK && f->C_DestroyObject(st->s, priv) == CKR_OK;
      };
  }
  return {};
}

}  // namespace

Factory p11_factory(const Module& m, const std::vector<CK_SESSION_HANDLE>& sessions, const TokenKeys& k,
                    const OpSpec& op) {
  return [&m, sessions, k, op](int i, std::string& why) -> std::optional<OpFn> {
    auto st = std::make_shared<State>();
    st->f = m.f;
    st->s = sessions.at(static_cast<size_t>(i));
    why = prepare(*st, k, op);
    if (!why.empty()) return std::nullopt;
    OpFn fn = make_op(st, op);
    if (!fn()) {  // one trial call: a module that lists the mechanism may still refuse the key or parameters
      why = "the module refused the operation";
      return std::nullopt;
    }
    return fn;
  };
}

}  // namespace p11bench
