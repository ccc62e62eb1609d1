// The physical limit: the same operations directly through OpenSSL 3 EVP, with keys
// generated in memory, algorithms fetched once and contexts kept per thread — the
// least work an application can do per message with OpenSSL.
#include "ops.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace p11bench {
namespace {

struct Keys {
  EVP_PKEY* rsa = nullptr;
  EVP_PKEY* p256 = nullptr;
  EVP_PKEY* p384 = nullptr;
  EVP_PKEY* ed = nullptr;
  uint8_t aes[32]{};
  uint8_t hmac[32]{};
};

EVP_PKEY* generate(const char* alg, const char* group, unsigned bits) {
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr);
  EVP_PKEY* k = nullptr;
  if (c != nullptr && EVP_PKEY_keygen_init(c) == 1) {
    if (group != nullptr) {
      OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
                        OSSL_PARAM_construct_end()};
      EVP_PKEY_CTX_set_params(c, p);
    }
    if (bits != 0) EVP_PKEY_CTX_set_rsa_keygen_bits(c, static_cast<int>(bits));
    EVP_PKEY_generate(c, &k);
  }
  EVP_PKEY_CTX_free(c);
  return k;
}

const Keys& keys() {
  static const Keys* k = [] {
    auto* p = new Keys;
    p->rsa = generate("RSA", nullptr, 2048);
    p->p256 = generate("EC", "P-256", 0);
    p->p384 = generate("EC", "P-384", 0);
    p->ed = generate("ED25519", nullptr, 0);
    RAND_bytes(p->aes, sizeof p->aes);
    RAND_bytes(p->hmac, sizeof p->hmac);
    return p;
  }();
  return *k;
}

const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct alignas(64) OsslState {  // a cache line of its own per thread
  Buffer in, out, aux;
  uint8_t iv[16]{};
  uint64_t counter = 0;
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* pctx = nullptr;  // sign/verify (pre-hashed) or keygen
  EVP_MD_CTX* md = nullptr;
  EVP_CIPHER_CTX* cipher = nullptr;
  EVP_MAC_CTX* mac = nullptr;
  ~OsslState() {
    EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(md);
    EVP_CIPHER_CTX_free(cipher);
    EVP_MAC_CTX_free(mac);
  }
};

bool hashed(Alg a) { return a == Alg::kRsaPkcs1 || a == Alg::kRsaPss; }

// Sign or verify with the key in st.pctx (already initialised); hashes first for RSA.
bool pkey_sign(OsslState& st, Alg a, uint8_t* sig, size_t* sig_len) {
  uint8_t dgst[32];
  const uint8_t* tbs = st.in.data();
  size_t tbs_len = st.in.size();
  if (hashed(a)) {
    if (EVP_Digest(st.in.data(), st.in.size(), dgst, nullptr, sha256(), nullptr) != 1) return false;
    tbs = dgst, tbs_len = sizeof dgst;
  }
  return EVP_PKEY_sign(st.pctx, sig, sig_len, tbs, tbs_len) == 1;
}

bool pkey_verify(OsslState& st, Alg a) {
  uint8_t dgst[32];
  const uint8_t* tbs = st.in.data();
  size_t tbs_len = st.in.size();
  if (hashed(a)) {
    if (EVP_Digest(st.in.data(), st.in.size(), dgst, nullptr, sha256(), nullptr) != 1) return false;
    tbs = dgst, tbs_len = sizeof dgst;
  }
  return EVP_PKEY_verify(st.pctx, st.aux.data(), st.aux.size(), tbs, tbs_len) == 1;
}

bool init_pctx(OsslState& st, Alg a, bool sign) {
  st.pctx = EVP_PKEY_CTX_new_from_pkey(nullptr, st.key, nullptr);
  if (st.pctx == nullptr || (sign ? EVP_PKEY_sign_init(st.pctx) : EVP_PKEY_verify_init(st.pctx)) != 1) return false;
  if (a == Alg::kRsaPkcs1 || a == Alg::kRsaPss) {
    if (EVP_PKEY_CTX_set_signature_md(st.pctx, sha256()) != 1) return false;
    if (a == Alg::kRsaPss && (EVP_PKEY_CTX_set_rsa_padding(st.pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                              EVP_PKEY_CTX_set_rsa_pss_saltlen(st.pctx, 32) != 1))
      return false;
  }
  return true;
}

bool ed_sign(OsslState& st, uint8_t* sig, size_t* len) {
  return EVP_DigestSignInit_ex(st.md, nullptr, nullptr, nullptr, nullptr, st.key, nullptr) == 1 &&
         EVP_DigestSign(st.md, sig, len, st.in.data(), st.in.size()) == 1;
}

bool cipher_run(OsslState& st, bool gcm, bool enc, const uint8_t* in, size_t len, uint8_t* out) {
  int n = 0, m = 0;
  if (enc) {
    if (EVP_EncryptInit_ex2(st.cipher, nullptr, nullptr, st.iv, nullptr) != 1) return false;
    if (EVP_EncryptUpdate(st.cipher, out, &n, in, static_cast<int>(len)) != 1) return false;
    if (EVP_EncryptFinal_ex(st.cipher, out + n, &m) != 1) return false;
    return !gcm || EVP_CIPHER_CTX_ctrl(st.cipher, EVP_CTRL_AEAD_GET_TAG, 16, out + n + m) == 1;
  }
  size_t body = gcm ? len - 16 : len;
  if (EVP_DecryptInit_ex2(st.cipher, nullptr, nullptr, st.iv, nullptr) != 1) return false;
  if (gcm && EVP_CIPHER_CTX_ctrl(st.cipher, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(in + body)) != 1)
    return false;
  if (EVP_DecryptUpdate(st.cipher, out, &n, in, static_cast<int>(body)) != 1) return false;
  return EVP_DecryptFinal_ex(st.cipher, out + n, &m) == 1;
}

// BENCH_OSSL_FRESH=1: AES and HMAC as a program would call OpenSSL per message, with a
// context made, keyed and freed each time (the algorithm fetched once), instead of one
// context re-initialised: the figure issue 18 compares FerroHSM's AES-GCM with.
bool fresh_contexts() {
  static const bool fresh = [] {
    const char* e = std::getenv("BENCH_OSSL_FRESH");
    return e != nullptr && std::string(e) == "1";
  }();
  return fresh;
}

bool fresh_cipher_run(OsslState& st, const EVP_CIPHER* c, size_t ivlen, bool enc, const uint8_t* in, size_t len,
                      uint8_t* out) {
  EVP_CIPHER_CTX* kept = st.cipher;
  st.cipher = EVP_CIPHER_CTX_new();
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen), OSSL_PARAM_construct_end()};
  const bool gcm = EVP_CIPHER_get_mode(c) == EVP_CIPH_GCM_MODE;
  bool ok = st.cipher != nullptr &&
            EVP_CipherInit_ex2(st.cipher, c, keys().aes, nullptr, enc ? 1 : 0, gcm ? params : nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(st.cipher, 0) == 1 && cipher_run(st, gcm, enc, in, len, out);
  EVP_CIPHER_CTX_free(st.cipher);
  st.cipher = kept;
  return ok;
}

std::optional<OpFn> build(const std::shared_ptr<OsslState>& p, const OpSpec& op) {
  OsslState& st = *p;
  const Keys& k = keys();
  st.in.assign(op.len, 0x5a);
  st.out.assign(op.len + 512, 0);
  const Alg a = op.alg;
  switch (a) {
    case Alg::kNone:
      return std::nullopt;
    case Alg::kRsaPkcs1:
    case Alg::kRsaPss:
    case Alg::kEcdsaP256:
    case Alg::kEcdsaP384: {
      st.key = a == Alg::kEcdsaP256 ? k.p256 : a == Alg::kEcdsaP384 ? k.p384 : k.rsa;
      if (op.kind == Kind::kSign) {
        if (!init_pctx(st, a, true)) return std::nullopt;
        return [p, a] {
          size_t n = p->out.size();
          return pkey_sign(*p, a, p->out.data(), &n);
        };
      }
      if (!init_pctx(st, a, true)) return std::nullopt;
      st.aux.assign(512, 0);
      size_t n = st.aux.size();
      if (!pkey_sign(st, a, st.aux.data(), &n)) return std::nullopt;
      st.aux.resize(n);
      EVP_PKEY_CTX_free(st.pctx);
      if (!init_pctx(st, a, false)) return std::nullopt;
      return [p, a] { return pkey_verify(*p, a); };
    }
    case Alg::kEd25519: {
      st.key = k.ed;
      st.md = EVP_MD_CTX_new();
      st.aux.assign(64, 0);
      size_t n = 64;
      if (!ed_sign(st, st.aux.data(), &n)) return std::nullopt;
      if (op.kind == Kind::kSign)
        return [p] {
          size_t len = 64;
          return ed_sign(*p, p->out.data(), &len);
        };
      return [p] {
        return EVP_DigestVerifyInit_ex(p->md, nullptr, nullptr, nullptr, nullptr, p->key, nullptr) == 1 &&
               EVP_DigestVerify(p->md, p->aux.data(), 64, p->in.data(), p->in.size()) == 1;
      };
    }
    case Alg::kAesGcm:
    case Alg::kAesCbc: {
      const bool gcm = a == Alg::kAesGcm;
      static EVP_CIPHER* c_gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
      static EVP_CIPHER* c_cbc = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
      st.cipher = EVP_CIPHER_CTX_new();
      OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, nullptr),
                             OSSL_PARAM_construct_end()};
      size_t ivlen = 12;
      params[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
      const bool enc = op.kind == Kind::kEncrypt;
      if (EVP_CipherInit_ex2(st.cipher, gcm ? c_gcm : c_cbc, k.aes, nullptr, enc ? 1 : 0, gcm ? params : nullptr) != 1)
        return std::nullopt;
      EVP_CIPHER_CTX_set_padding(st.cipher, 0);
      if (!enc) {
        st.aux.assign(op.len + (gcm ? 16 : 0), 0);
        EVP_CIPHER_CTX* dec = st.cipher;
        st.cipher = EVP_CIPHER_CTX_new();
        EVP_CipherInit_ex2(st.cipher, gcm ? c_gcm : c_cbc, k.aes, nullptr, 1, gcm ? params : nullptr);
        EVP_CIPHER_CTX_set_padding(st.cipher, 0);
        bool ok = cipher_run(st, gcm, true, st.in.data(), st.in.size(), st.aux.data());
        EVP_CIPHER_CTX_free(st.cipher);
        st.cipher = dec;
        if (!ok) return std::nullopt;
        if (fresh_contexts())
          return [p, gcm, ivlen] {
            return fresh_cipher_run(*p, gcm ? c_gcm : c_cbc, ivlen, false, p->aux.data(), p->aux.size(), p->out.data());
          };
        return [p, gcm] { return cipher_run(*p, gcm, false, p->aux.data(), p->aux.size(), p->out.data()); };
      }
      if (fresh_contexts())
        return [p, gcm, ivlen] {
          ++p->counter;
          std::memcpy(p->iv, &p->counter, sizeof p->counter);
          return fresh_cipher_run(*p, gcm ? c_gcm : c_cbc, ivlen, true, p->in.data(), p->in.size(), p->out.data());
        };
      return [p, gcm] {
        ++p->counter;
        std::memcpy(p->iv, &p->counter, sizeof p->counter);
        return cipher_run(*p, gcm, true, p->in.data(), p->in.size(), p->out.data());
      };
    }
    case Alg::kSha256:
      st.md = EVP_MD_CTX_new();
      return [p] {
        unsigned int n = 0;
        return EVP_DigestInit_ex2(p->md, sha256(), nullptr) == 1 &&
               EVP_DigestUpdate(p->md, p->in.data(), p->in.size()) == 1 &&
               EVP_DigestFinal_ex(p->md, p->out.data(), &n) == 1;
      };
    case Alg::kHmacSha256: {
      static EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      st.mac = EVP_MAC_CTX_new(hmac);
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                             OSSL_PARAM_construct_end()};
      if (st.mac == nullptr || EVP_MAC_init(st.mac, k.hmac, sizeof k.hmac, params) != 1) return std::nullopt;
      if (fresh_contexts())
        return [p] {
          EVP_MAC_CTX* c = EVP_MAC_CTX_new(hmac);
          OSSL_PARAM ps[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                             OSSL_PARAM_construct_end()};
          size_t n = 0;
          bool ok = c != nullptr && EVP_MAC_init(c, keys().hmac, sizeof keys().hmac, ps) == 1 &&
                    EVP_MAC_update(c, p->in.data(), p->in.size()) == 1 &&
                    EVP_MAC_final(c, p->out.data(), &n, p->out.size()) == 1;
          EVP_MAC_CTX_free(c);
          return ok;
        };
      return [p] {  // re-initialised with the key it already holds
        size_t n = 0;
        return EVP_MAC_init(p->mac, nullptr, 0, nullptr) == 1 &&
               EVP_MAC_update(p->mac, p->in.data(), p->in.size()) == 1 &&
               EVP_MAC_final(p->mac, p->out.data(), &n, p->out.size()) == 1;
      };
    }
    case Alg::kGenRsa2048:
    case Alg::kGenP256:
    case Alg::kGenEd25519: {
      const char* name = a == Alg::kGenRsa2048 ? "RSA" : a == Alg::kGenP256 ? "EC" : "ED25519";
      st.pctx = EVP_PKEY_CTX_new_from_name(nullptr, name, nullptr);
      if (st.pctx == nullptr || EVP_PKEY_keygen_init(st.pctx) != 1) return std::nullopt;
      if (a == Alg::kGenP256) {
        OSSL_PARAM gp[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("P-256"), 0),
                           OSSL_PARAM_construct_end()};
        if (EVP_PKEY_CTX_set_params(st.pctx, gp) != 1) return std::nullopt;
      }
      if (a == Alg::kGenRsa2048 && EVP_PKEY_CTX_set_rsa_keygen_bits(st.pctx, 2048) != 1) return std::nullopt;
      return [p] {
        EVP_PKEY* key = nullptr;
        bool ok = EVP_PKEY_generate(p->pctx, &key) == 1;
        EVP_PKEY_free(key);
        return ok;
      };
    }
  }
  return std::nullopt;
}

}  // namespace

Factory ossl_factory(const OpSpec& op) {
  keys();  // generated once, before any thread starts
  return [op](int, std::string& why) -> std::optional<OpFn> {
    auto st = std::make_shared<OsslState>();
    auto fn = build(st, op);
    if (!fn || !(*fn)()) {
      why = "OpenSSL setup failed";
      return std::nullopt;
    }
    return fn;
  };
}

double ossl_pbkdf2_ms() {
  const char pin[] = "benchmark-pin";
  uint8_t salt[16] = {}, out[32];
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    double t0 = now_s();
    PKCS5_PBKDF2_HMAC(pin, sizeof pin - 1, salt, sizeof salt, 600000, sha256(), sizeof out, out);
    best = std::min(best, (now_s() - t0) * 1e3);
  }
  return best;
}

}  // namespace p11bench
