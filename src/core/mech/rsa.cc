// RSA signatures: PKCS #1 v1.5 (CKM_RSA_PKCS over a DigestInfo or raw data,
// CKM_SHAx_RSA_PKCS) and PSS (CKM_RSA_PKCS_PSS over a digest, CKM_SHAx_RSA_PKCS_PSS),
// with SHA-1, SHA-2 and SHA-3 (and the legacy CKM_MD5_RSA_PKCS), for moduli of
// kRsaMinBits to kRsaMaxBits, plus the registry entries of the RSA family (and
// CKM_RSA_PKCS_KEY_PAIR_GEN; encryption is in rsa_cipher.cc).
// The hashed PKCS #1 variants build the DigestInfo here and sign it raw, which keeps
// the per-signature work to one OpenSSL private-key operation.
#include "core/mech/key_internal.h"
#include "core/mech/prehash.h"
#include "core/mech/registry.h"
#include "core/mech/rsa_internal.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include <cstring>

namespace ferrohsm::mech {
namespace {

constexpr size_t kPkcs1Overhead = 11;

struct RsaMech {
  CK_MECHANISM_TYPE type;
  bool pss;
  CK_MECHANISM_TYPE prehash;  // 0: single-part, over the caller's input
  bool legacy = false;
};

constexpr RsaMech kRsaMechs[] = {
    {CKM_RSA_PKCS, false, 0},
    {CKM_SHA1_RSA_PKCS, false, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS, false, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS, false, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS, false, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS, false, CKM_SHA512},
    {CKM_SHA3_224_RSA_PKCS, false, CKM_SHA3_224},
    {CKM_SHA3_256_RSA_PKCS, false, CKM_SHA3_256},
    {CKM_SHA3_384_RSA_PKCS, false, CKM_SHA3_384},
    {CKM_SHA3_512_RSA_PKCS, false, CKM_SHA3_512},
    {CKM_RSA_PKCS_PSS, true, 0},
    {CKM_SHA1_RSA_PKCS_PSS, true, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS_PSS, true, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, true, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS_PSS, true, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, true, CKM_SHA512},
    {CKM_SHA3_224_RSA_PKCS_PSS, true, CKM_SHA3_224},
    {CKM_SHA3_256_RSA_PKCS_PSS, true, CKM_SHA3_256},
    {CKM_SHA3_384_RSA_PKCS_PSS, true, CKM_SHA3_384},
    {CKM_SHA3_512_RSA_PKCS_PSS, true, CKM_SHA3_512},
    {CKM_MD5_RSA_PKCS, false, CKM_MD5, /*legacy=*/true},
};

const RsaMech* find_mech(CK_MECHANISM_TYPE t) {
  for (const RsaMech& m : kRsaMechs)
    if (m.type == t) return &m;
  return nullptr;
}

// What a factory settles before the operation starts.
struct RsaSetup {
  const Hash* prehash = nullptr;  // hashing done by the operation
  const Hash* pss_hash = nullptr;  // PSS: the hash of the digest being signed
  const Hash* mgf_hash = nullptr;
  int salt_len = 0;
  size_t k = 0;  // modulus bytes
};

Result<RsaSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key, bool sign) {
  FH_TRY(check_asym_key(key, CKK_RSA, sign));
  const RsaMech* m = find_mech(mech.mechanism);
  if (m == nullptr) return make_error(CKR_MECHANISM_INVALID, "not an RSA signature mechanism");
  RsaSetup s;
  s.prehash = hash_by_mech(m->prehash);
  s.k = static_cast<size_t>(EVP_PKEY_get_size(key->pkey));
  if (!m->pss) {
    FH_TRY(no_mech_param(mech));
    return s;
  }
  FH_ASSIGN_OR_RETURN(const CK_RSA_PKCS_PSS_PARAMS* p, mech_param<CK_RSA_PKCS_PSS_PARAMS>(mech));
  s.pss_hash = strong_hash_by_mech(p->hashAlg);
  if (s.pss_hash == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "PSS hashAlg is not a supported hash");
  if (s.prehash != nullptr && s.pss_hash != s.prehash)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "PSS hashAlg does not match the mechanism's hash");
  s.mgf_hash = hash_by_mgf(p->mgf);
  if (s.mgf_hash == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "PSS mgf is not a supported CKG_MGF1_*");
  // EMSA-PSS: emLen = ceil((modBits - 1) / 8) must hold hLen + sLen + 2.
  const size_t em_len = (key->bits - 1 + 7) / 8;
  if (p->sLen > em_len || s.pss_hash->size + p->sLen + 2 > em_len)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "PSS sLen is too large for the key");
  s.salt_len = static_cast<int>(p->sLen);
  return s;
}

enum class Use { kSign, kVerify, kRecover };

// Plain *_init and the EVP_PKEY_CTX_set_rsa_* calls rather than *_init_ex with
// OSSL_PARAMs: when the host process made an ENGINE the default for RSA (libp11's
// `openssl -engine pkcs11`), OpenSSL 3.0 hands us the engine's legacy context, which
// ignores init parameters but honours these calls (see ossl.h, provider_pkey_ctx).
Result<PkeyCtxPtr> make_ctx(const Key& key, const RsaSetup& s, Use use) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey, nullptr));
  if (!ctx) return ossl_error(CKR_HOST_MEMORY, "EVP_PKEY_CTX_new failed");
  int rc = use == Use::kSign     ? EVP_PKEY_sign_init(ctx.get())
           : use == Use::kVerify ? EVP_PKEY_verify_init(ctx.get())
                                 : EVP_PKEY_verify_recover_init(ctx.get());
  if (rc == 1 && s.pss_hash != nullptr) {
    rc = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), s.pss_hash->md()) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), s.salt_len) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), s.mgf_hash->md()) == 1;
  }
  if (rc != 1) return ossl_error(CKR_FUNCTION_FAILED, "RSA signature init failed");
  return ctx;
}

// The encoded input of the RSA primitive: the DigestInfo for hashed PKCS #1 v1.5,
// else the input itself, with its length checked.
Result<ByteView> encode_tbs(const RsaSetup& s, ByteView tbs, uint8_t* buf) {
  if (s.pss_hash != nullptr) {
    if (tbs.size() != s.pss_hash->size)
      return make_error(CKR_DATA_LEN_RANGE, "PSS input must be a digest of the length of hashAlg");
    return tbs;
  }
  if (s.prehash != nullptr) {
    const ByteView prefix = s.prehash->digest_info;
    std::memcpy(buf, prefix.data(), prefix.size());
    std::memcpy(buf + prefix.size(), tbs.data(), tbs.size());
    return ByteView(buf, prefix.size() + tbs.size());
  }
  if (tbs.size() > s.k - kPkcs1Overhead)
    return make_error(CKR_DATA_LEN_RANGE, "CKM_RSA_PKCS input must be at most modulus length - 11 bytes");
  return tbs;
}

constexpr size_t kMaxDigestInfo = 19 + EVP_MAX_MD_SIZE;
constexpr size_t kMaxModulusBytes = 16384 / 8;  // the largest modulus key import accepts

class RsaSignOp final : public PrehashSignOp {
 public:
  RsaSignOp(KeyPtr key, RsaSetup s) : key_(std::move(key)), s_(s) {}
  Status start() {
    FH_TRY(init_prehash(s_.prehash));
    FH_ASSIGN_OR_RETURN(ctx_, make_ctx(*key_, s_, Use::kSign));
    return {};
  }
  size_t signature_size() const override { return s_.k; }

 private:
  Result<size_t> sign_tbs(ByteView tbs, MutableByteView out) override {
    uint8_t buf[kMaxDigestInfo];
    FH_ASSIGN_OR_RETURN(ByteView em, encode_tbs(s_, tbs, buf));
    size_t len = out.size();
    if (EVP_PKEY_sign(ctx_.get(), out.data(), &len, em.data(), em.size()) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "RSA signing failed");
    return len;
  }

  KeyPtr key_;
  RsaSetup s_;
  PkeyCtxPtr ctx_;
};

class RsaVerifyOp final : public PrehashVerifyOp {
 public:
  RsaVerifyOp(KeyPtr key, RsaSetup s) : key_(std::move(key)), s_(s) {}
  Status start() {
    FH_TRY(init_prehash(s_.prehash));
    // PKCS #1 v1.5 recovers the encoded message and compares it here (OpenSSL's
    // verify refuses an empty message, which CKM_RSA_PKCS may legitimately sign).
    FH_ASSIGN_OR_RETURN(ctx_, make_ctx(*key_, s_, s_.pss_hash != nullptr ? Use::kVerify : Use::kRecover));
    return {};
  }
  size_t signature_size() const override { return s_.k; }

 private:
  Status verify_tbs(ByteView tbs, ByteView sig) override {
    uint8_t buf[kMaxDigestInfo];
    FH_ASSIGN_OR_RETURN(ByteView em, encode_tbs(s_, tbs, buf));
    if (sig.size() != s_.k) return make_error(CKR_SIGNATURE_LEN_RANGE, "RSA signature must be modulus length");
    bool ok = false;
    if (s_.pss_hash != nullptr) {
      ok = EVP_PKEY_verify(ctx_.get(), sig.data(), sig.size(), em.data(), em.size()) == 1;
    } else {
      uint8_t rec[kMaxModulusBytes];
      size_t rec_len = sizeof rec;
      ok = EVP_PKEY_verify_recover(ctx_.get(), rec, &rec_len, sig.data(), sig.size()) == 1 && rec_len == em.size() &&
           CRYPTO_memcmp(rec, em.data(), rec_len) == 0;
    }
    if (!ok) {
      ossl_clear_errors();
      return make_error(CKR_SIGNATURE_INVALID, "RSA signature does not verify");
    }
    return {};
  }

  KeyPtr key_;
  RsaSetup s_;
  PkeyCtxPtr ctx_;
};

Result<std::unique_ptr<SignOp>> make_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(RsaSetup s, setup(mech, key, true));
  auto op = std::make_unique<RsaSignOp>(std::move(key), s);
  FH_TRY(op->start());
  return std::unique_ptr<SignOp>(std::move(op));
}

Result<std::unique_ptr<VerifyOp>> make_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(RsaSetup s, setup(mech, key, false));
  auto op = std::make_unique<RsaVerifyOp>(std::move(key), s);
  FH_TRY(op->start());
  return std::unique_ptr<VerifyOp>(std::move(op));
}

}  // namespace

void register_rsa(Registry& r) {
  for (const RsaMech& m : kRsaMechs) {
    Entry e;
    e.type = m.type;
    e.info = {kRsaMinBits, kRsaMaxBits, CKF_SIGN | CKF_VERIFY};
    e.key_types = {CKK_RSA};
    e.legacy = m.legacy;
    e.sign = make_sign;
    e.verify = make_verify;
    if (m.type == CKM_RSA_PKCS) {  // also PKCS #1 v1.5 encryption (and wrapping) and recovery
      e.info.flags |= CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP | CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER;
      e.encrypt = rsa_encrypt;
      e.decrypt = rsa_decrypt;
      e.sign_recover = rsa_sign_recover;
      e.verify_recover = rsa_verify_recover;
    }
    r.add(std::move(e));
  }
  register_rsa_cipher(r);
  Entry gen;
  gen.type = CKM_RSA_PKCS_KEY_PAIR_GEN;
  gen.info = {kRsaMinBits, kRsaMaxBits, CKF_GENERATE_KEY_PAIR};
  gen.key_types = {CKK_RSA};
  gen.generate_key_pair = rsa_generate_key_pair;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
