// RSA encryption and signature recovery, single-part: CKM_RSA_X_509 (raw RSA; also
// sign / verify), CKM_RSA_PKCS (PKCS #1 v1.5 block types 2 and 1) and
// CKM_RSA_PKCS_OAEP (CK_RSA_PKCS_OAEP_PARAMS: SHA-1/SHA-2/SHA-3 with any MGF1 hash,
// an optional label; source CKZ_DATA_SPECIFIED, or 0 with no data as OpenSC sends).
// Decryption writes into wiped scratch memory and copies out only on success.
#include "core/mech/prehash.h"
#include "core/mech/rsa_internal.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kRsaPkcs1Overhead = 11;

enum class Dir { kEncrypt, kDecrypt, kSignRecover, kVerifyRecover };

struct RsaCipherSetup {
  int padding = RSA_NO_PADDING;
  const Hash* oaep_hash = nullptr;
  const Hash* mgf_hash = nullptr;
  Bytes label;
  size_t k = 0;
  size_t max_in = 0;  // largest input (encrypt / sign_recover)
};

Result<RsaCipherSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key, Dir dir) {
  const bool priv = dir == Dir::kDecrypt || dir == Dir::kSignRecover;
  FH_TRY(check_asym_key(key, CKK_RSA, priv));
  RsaCipherSetup s;
  s.k = static_cast<size_t>(EVP_PKEY_get_size(key->pkey));
  s.max_in = s.k;
  switch (mech.mechanism) {
    case CKM_RSA_X_509:
      FH_TRY(no_mech_param(mech));
      return s;
    case CKM_RSA_PKCS:
      FH_TRY(no_mech_param(mech));
      s.padding = RSA_PKCS1_PADDING;
      s.max_in = s.k - kRsaPkcs1Overhead;
      return s;
    case CKM_RSA_PKCS_OAEP:
      break;
    default:
      return make_error(CKR_MECHANISM_INVALID, "not an RSA encryption mechanism");
  }
  if (dir == Dir::kSignRecover || dir == Dir::kVerifyRecover)
    return make_error(CKR_MECHANISM_INVALID, "OAEP does not sign");
  FH_ASSIGN_OR_RETURN(const CK_RSA_PKCS_OAEP_PARAMS* p, mech_param<CK_RSA_PKCS_OAEP_PARAMS>(mech));
  s.padding = RSA_PKCS1_OAEP_PADDING;
  s.oaep_hash = strong_hash_by_mech(p->hashAlg);
  if (s.oaep_hash == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "OAEP hashAlg is not a supported hash");
  s.mgf_hash = hash_by_mgf(p->mgf);
  if (s.mgf_hash == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "OAEP mgf is not a supported CKG_MGF1_*");
  if (p->source != CKZ_DATA_SPECIFIED && !(p->source == 0 && p->ulSourceDataLen == 0))
    return make_error(CKR_MECHANISM_PARAM_INVALID, "OAEP source must be CKZ_DATA_SPECIFIED");
  if (p->ulSourceDataLen != 0) {
    if (p->pSourceData == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "OAEP label pointer is NULL");
    if (p->ulSourceDataLen > INT_MAX) return make_error(CKR_MECHANISM_PARAM_INVALID, "OAEP label too long");
    const auto* l = static_cast<const uint8_t*>(p->pSourceData);
    s.label.assign(l, l + p->ulSourceDataLen);
  }
  if (s.k < 2 * s.oaep_hash->size + 2) return make_error(CKR_KEY_SIZE_RANGE, "key too small for OAEP with this hash");
  s.max_in = s.k - 2 * s.oaep_hash->size - 2;
  return s;
}

// Plain *_init and EVP_PKEY_CTX_set_rsa_* calls, not *_init_ex with OSSL_PARAMs: an
// ENGINE the host made default hands us a legacy context that ignores init
// parameters (see rsa.cc, make_ctx).
Result<PkeyCtxPtr> make_ctx(const Key& key, const RsaCipherSetup& s, Dir dir) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey, nullptr));
  if (!ctx) return ossl_error(CKR_HOST_MEMORY, "EVP_PKEY_CTX_new failed");
  int rc = 0;
  switch (dir) {
    case Dir::kEncrypt: rc = EVP_PKEY_encrypt_init(ctx.get()); break;
    case Dir::kDecrypt: rc = EVP_PKEY_decrypt_init(ctx.get()); break;
    case Dir::kSignRecover: rc = EVP_PKEY_sign_init(ctx.get()); break;
    case Dir::kVerifyRecover: rc = EVP_PKEY_verify_recover_init(ctx.get()); break;
  }
  if (rc == 1) rc = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), s.padding);
  if (rc == 1 && s.oaep_hash != nullptr) {
    rc = EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), s.oaep_hash->md()) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), s.mgf_hash->md()) == 1;
    if (rc == 1 && !s.label.empty()) {
      // set0 takes ownership of an OPENSSL_malloc'ed copy.
      auto* label = static_cast<unsigned char*>(OPENSSL_memdup(s.label.data(), s.label.size()));
      rc = label != nullptr && EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, static_cast<int>(s.label.size())) == 1;
      if (rc != 1) OPENSSL_free(label);
    }
  }
  if (rc != 1) return ossl_error(CKR_FUNCTION_FAILED, "RSA init failed");
  return ctx;
}

// One RSA operation in one direction (single-part).
class RsaCipherOp final : public CipherOp {
 public:
  RsaCipherOp(KeyPtr key, RsaCipherSetup s, Dir dir, PkeyCtxPtr ctx)
      : key_(std::move(key)), s_(std::move(s)), dir_(dir), ctx_(std::move(ctx)) {}
  bool multipart() const override { return false; }
  size_t update_size(size_t) const override { return 0; }
  size_t final_size() const override { return 0; }
  size_t one_shot_size(size_t) const override { return s_.k; }
  Result<size_t> update(ByteView, MutableByteView) override { return single_part_error(); }
  Result<size_t> final(MutableByteView) override { return single_part_error(); }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    const bool forward = dir_ == Dir::kEncrypt || dir_ == Dir::kSignRecover;
    if (forward) {
      if (in.size() > s_.max_in) return make_error(CKR_DATA_LEN_RANGE, "input too long for the RSA key and padding");
    } else if (in.size() != s_.k) {
      return make_error(dir_ == Dir::kDecrypt ? CKR_ENCRYPTED_DATA_LEN_RANGE : CKR_SIGNATURE_LEN_RANGE,
                        "RSA input must be modulus length");
    }
    // Raw RSA takes exactly k bytes: shorter input is left-padded with zeros.
    SecureBytes padded;
    if (s_.padding == RSA_NO_PADDING && in.size() < s_.k) {
      padded.assign(s_.k - in.size(), 0);
      padded.insert(padded.end(), in.begin(), in.end());
      in = padded;
    }
    SecureBytes tmp(s_.k);
    size_t len = tmp.size();
    int rc = 0;
    switch (dir_) {
      case Dir::kEncrypt: rc = EVP_PKEY_encrypt(ctx_.get(), tmp.data(), &len, in.data(), in.size()); break;
      case Dir::kDecrypt: rc = EVP_PKEY_decrypt(ctx_.get(), tmp.data(), &len, in.data(), in.size()); break;
      case Dir::kSignRecover: rc = EVP_PKEY_sign(ctx_.get(), tmp.data(), &len, in.data(), in.size()); break;
      case Dir::kVerifyRecover: rc = EVP_PKEY_verify_recover(ctx_.get(), tmp.data(), &len, in.data(), in.size()); break;
    }
    if (rc != 1) {
      ossl_clear_errors();
      switch (dir_) {
        case Dir::kDecrypt: return make_error(CKR_ENCRYPTED_DATA_INVALID, "RSA decryption failed");
        case Dir::kVerifyRecover: return make_error(CKR_SIGNATURE_INVALID, "RSA signature does not verify");
        default: return make_error(CKR_DATA_INVALID, "RSA input is out of range for the key");
      }
    }
    std::copy_n(tmp.begin(), len, out.begin());
    return len;
  }

 private:
  KeyPtr key_;
  RsaCipherSetup s_;
  Dir dir_;
  PkeyCtxPtr ctx_;
};

Result<std::unique_ptr<CipherOp>> make(const CK_MECHANISM& mech, KeyPtr key, Dir dir) {
  FH_ASSIGN_OR_RETURN(RsaCipherSetup s, setup(mech, key, dir));
  FH_ASSIGN_OR_RETURN(PkeyCtxPtr ctx, make_ctx(*key, s, dir));
  return std::unique_ptr<CipherOp>(std::make_unique<RsaCipherOp>(std::move(key), std::move(s), dir, std::move(ctx)));
}

// CKM_RSA_X_509 as C_Sign / C_Verify: the raw private operation; verification
// recovers the public operation's result and compares it with the zero-padded data.
class X509SignOp final : public SignOp {
 public:
  X509SignOp(std::unique_ptr<CipherOp> op, size_t k) : op_(std::move(op)), k_(k) {}
  size_t signature_size() const override { return k_; }
  bool multipart() const override { return false; }
  Status update(ByteView) override { return single_part_error(); }
  Result<size_t> final(MutableByteView) override { return single_part_error(); }
  Result<size_t> sign(ByteView data, MutableByteView out) override { return op_->one_shot(data, out); }

 private:
  std::unique_ptr<CipherOp> op_;
  size_t k_;
};

class X509VerifyOp final : public VerifyOp {
 public:
  X509VerifyOp(std::unique_ptr<CipherOp> op, size_t k) : op_(std::move(op)), k_(k) {}
  size_t signature_size() const override { return k_; }
  bool multipart() const override { return false; }
  Status update(ByteView) override { return single_part_error(); }
  Status final(ByteView) override { return single_part_error(); }
  Status verify(ByteView data, ByteView sig) override {
    if (data.size() > k_) return make_error(CKR_DATA_LEN_RANGE, "data longer than the modulus");
    Bytes rec(k_);
    FH_ASSIGN_OR_RETURN(size_t n, op_->one_shot(sig, rec));
    Bytes want(k_ - data.size(), 0);
    want.insert(want.end(), data.begin(), data.end());
    if (n != k_ || CRYPTO_memcmp(rec.data(), want.data(), k_) != 0)
      return make_error(CKR_SIGNATURE_INVALID, "RSA signature does not verify");
    return {};
  }

 private:
  std::unique_ptr<CipherOp> op_;
  size_t k_;
};

Result<std::unique_ptr<SignOp>> x509_sign(const CK_MECHANISM& mech, KeyPtr key) {
  const size_t k = key && key->pkey ? static_cast<size_t>(EVP_PKEY_get_size(key->pkey)) : 0;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, make(mech, std::move(key), Dir::kSignRecover));
  return std::unique_ptr<SignOp>(std::make_unique<X509SignOp>(std::move(op), k));
}

Result<std::unique_ptr<VerifyOp>> x509_verify(const CK_MECHANISM& mech, KeyPtr key) {
  const size_t k = key && key->pkey ? static_cast<size_t>(EVP_PKEY_get_size(key->pkey)) : 0;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, make(mech, std::move(key), Dir::kVerifyRecover));
  return std::unique_ptr<VerifyOp>(std::make_unique<X509VerifyOp>(std::move(op), k));
}

}  // namespace

Result<std::unique_ptr<CipherOp>> rsa_encrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make(mech, std::move(key), Dir::kEncrypt);
}
Result<std::unique_ptr<CipherOp>> rsa_decrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make(mech, std::move(key), Dir::kDecrypt);
}
Result<std::unique_ptr<CipherOp>> rsa_sign_recover(const CK_MECHANISM& mech, KeyPtr key) {
  return make(mech, std::move(key), Dir::kSignRecover);
}
Result<std::unique_ptr<CipherOp>> rsa_verify_recover(const CK_MECHANISM& mech, KeyPtr key) {
  return make(mech, std::move(key), Dir::kVerifyRecover);
}

void register_rsa_cipher(Registry& r) {
  Entry x509;
  x509.type = CKM_RSA_X_509;
  x509.info = {kRsaMinBits, kRsaMaxBits,
               CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY | CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER};
  x509.key_types = {CKK_RSA};
  x509.encrypt = rsa_encrypt;
  x509.decrypt = rsa_decrypt;
  x509.sign = x509_sign;
  x509.verify = x509_verify;
  x509.sign_recover = rsa_sign_recover;
  x509.verify_recover = rsa_verify_recover;
  r.add(std::move(x509));

  Entry oaep;
  oaep.type = CKM_RSA_PKCS_OAEP;
  oaep.info = {kRsaMinBits, kRsaMaxBits, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP};
  oaep.key_types = {CKK_RSA};
  oaep.encrypt = rsa_encrypt;
  oaep.decrypt = rsa_decrypt;
  r.add(std::move(oaep));
}

}  // namespace ferrohsm::mech
