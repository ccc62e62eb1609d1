// CKM_AES_GCM with CK_GCM_PARAMS (3.0 layout): IV 1..128 bytes, AAD, tag 32..128
// bits in steps of 8. Encryption outputs ciphertext || tag. Decryption buffers the
// whole input until final, because no plaintext may leave before the tag is checked;
// the plaintext is then produced in the caller's output buffer, which is wiped before
// the call returns when the tag does not verify (CKR_ENCRYPTED_DATA_INVALID); when the
// output overlaps the input, in scratch memory, copied out only once the tag verified.
#include "core/mech/aes_internal.h"
#include "core/mech/ossl.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

namespace ferrohsm::mech {
namespace {

// PKCS#11 allows IVs up to 256 bytes, but OpenSSL 3.0's GCM takes at most 128 (GCM_IV_MAX_SIZE).
constexpr CK_ULONG kMaxIvBytes = 128;
constexpr size_t kMaxBuffered = size_t{256} << 20;  // multi-part decryption keeps at most 256 MiB

Error gcm_param_error(const char* what) { return make_error(CKR_MECHANISM_PARAM_INVALID, what); }

Result<const CK_GCM_PARAMS*> gcm_params(const CK_MECHANISM& mech) {
  FH_ASSIGN_OR_RETURN(const CK_GCM_PARAMS* p, mech_param<CK_GCM_PARAMS>(mech));
  if (p->pIv == nullptr || p->ulIvLen < 1 || p->ulIvLen > kMaxIvBytes)
    return gcm_param_error("GCM IV must be 1 to 128 bytes");
  if (p->pAAD == nullptr && p->ulAADLen != 0) return gcm_param_error("GCM AAD pointer is NULL");
  if (p->ulAADLen > INT_MAX) return gcm_param_error("GCM AAD too long");
  if (p->ulTagBits < 32 || p->ulTagBits > 128 || p->ulTagBits % 8 != 0)
    return gcm_param_error("GCM tag length must be 32 to 128 bits, a multiple of 8");
  return p;
}

// Starts a GCM message on `ctx`: a new context gets `cipher` and `key`; a re-armed
// one (both null) keeps its key schedule and only takes the new IV (its length set
// when it is not the one the context has) and AAD, which resets GCM's state.
Status gcm_start(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const uint8_t* key, const CK_GCM_PARAMS& p,
                 bool encrypt, size_t current_iv_len) {
  size_t iv_len = p.ulIvLen;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len), OSSL_PARAM_construct_end()};
  const int enc = encrypt ? 1 : 0;
  int len = 0;
  // The common 96-bit IV is GCM's default: one init with key and IV, no parameter
  // parsing. Other lengths set the IV length first, then key and IV.
  const bool ok = iv_len == current_iv_len
                      ? EVP_CipherInit_ex2(ctx, cipher, key, p.pIv, enc, nullptr) == 1
                      : EVP_CipherInit_ex2(ctx, cipher, nullptr, nullptr, enc, params) == 1 &&
                            EVP_CipherInit_ex2(ctx, nullptr, key, p.pIv, enc, nullptr) == 1;
  if (!ok || (p.ulAADLen != 0 && EVP_CipherUpdate(ctx, nullptr, &len, p.pAAD, static_cast<int>(p.ulAADLen)) != 1))
    return ossl_error(CKR_FUNCTION_FAILED, "GCM init failed");
  return {};
}

constexpr size_t kDefaultIvLen = 12;

class GcmOp final : public CipherOp {
 public:
  GcmOp(KeyPtr key, CipherCtxPtr ctx, bool encrypt, size_t tag_len, size_t iv_len)
      : key_(std::move(key)), ctx_(std::move(ctx)), encrypt_(encrypt), tag_len_(tag_len), iv_len_(iv_len) {}

  bool reusable() const override { return true; }
  Status rearm(const CK_MECHANISM& mech) override {
    FH_ASSIGN_OR_RETURN(const CK_GCM_PARAMS* p, gcm_params(mech));
    buffered_.clear();
    tag_len_ = p->ulTagBits / 8;
    Status r = gcm_start(ctx_.get(), nullptr, nullptr, *p, encrypt_, iv_len_);
    iv_len_ = p->ulIvLen;
    return r;
  }

  size_t update_size(size_t in_len) const override { return encrypt_ ? in_len : 0; }
  size_t final_size() const override {
    if (encrypt_) return tag_len_;
    return buffered_.size() > tag_len_ ? buffered_.size() - tag_len_ : 0;
  }
  size_t one_shot_size(size_t in_len) const override {
    if (encrypt_) return in_len + tag_len_;
    return in_len > tag_len_ ? in_len - tag_len_ : 0;
  }

  Result<size_t> update(ByteView in, MutableByteView out) override {
    if (!encrypt_) {
      if (in.size() > kMaxBuffered - buffered_.size())
        return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "GCM ciphertext too long for multi-part decryption");
      buffered_.insert(buffered_.end(), in.begin(), in.end());
      return size_t{0};
    }
    return crypt(in, out.data());
  }

  Result<size_t> final(MutableByteView out) override {
    if (!encrypt_) return decrypt_all(buffered_, out);
    int len = 0;
    if (EVP_EncryptFinal_ex(ctx_.get(), out.data(), &len) != 1) return ossl_error(CKR_FUNCTION_FAILED, "GCM final failed");
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + len, tag_len_),
                           OSSL_PARAM_construct_end()};
    if (EVP_CIPHER_CTX_get_params(ctx_.get(), params) != 1) return ossl_error(CKR_FUNCTION_FAILED, "GCM tag failed");
    return static_cast<size_t>(len) + tag_len_;
  }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    if (!encrypt_) return decrypt_all(in, out);
    FH_ASSIGN_OR_RETURN(size_t n, crypt(in, out.data()));
    FH_ASSIGN_OR_RETURN(size_t t, final(out.subspan(n)));
    return n + t;
  }

 private:
  Result<size_t> crypt(ByteView in, uint8_t* out) {
    if (in.size() > INT_MAX) return make_error(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input too long");
    int len = 0;
    if (EVP_CipherUpdate(ctx_.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "GCM update failed");
    return static_cast<size_t>(len);
  }

  Result<size_t> decrypt_all(ByteView in, MutableByteView out) {
    if (in.size() < tag_len_) return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "GCM input is shorter than the tag");
    const size_t ct_len = in.size() - tag_len_;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, const_cast<uint8_t*>(in.data() + ct_len), tag_len_),
        OSSL_PARAM_construct_end()};
    if (EVP_CIPHER_CTX_set_params(ctx_.get(), params) != 1) return ossl_error(CKR_FUNCTION_FAILED, "GCM tag failed");
    // Decrypted straight into the caller's output buffer, which is wiped when the tag
    // does not verify: the call then returns no plaintext, and a good message costs no
    // copy. When that buffer overlaps the input (decryption in place), the plaintext
    // goes through scratch memory kept by the operation instead, so that a failure
    // leaves the caller's ciphertext as it was.
    const bool overlap = out.data() < in.data() + in.size() && in.data() < out.data() + ct_len;
    if (overlap && plain_.size() < ct_len) plain_.resize(ct_len);
    uint8_t* dst = overlap ? plain_.data() : out.data();
    auto n = crypt(in.first(ct_len), dst);
    int len = 0;
    if (!n.ok() || EVP_DecryptFinal_ex(ctx_.get(), dst + *n, &len) != 1) {
      OPENSSL_cleanse(dst, ct_len);
      if (!n.ok()) return n.error();
      ossl_clear_errors();
      return make_error(CKR_ENCRYPTED_DATA_INVALID, "GCM tag does not verify");
    }
    const size_t total = *n + static_cast<size_t>(len);
    if (overlap) {
      std::copy_n(plain_.begin(), total, out.begin());
      OPENSSL_cleanse(plain_.data(), ct_len);
    }
    return total;
  }

  KeyPtr key_;
  CipherCtxPtr ctx_;
  bool encrypt_;
  size_t tag_len_;
  size_t iv_len_;   // the IV length the context is set to
  Bytes buffered_;  // decryption: ciphertext || tag received so far
  SecureBytes plain_;  // decryption in place: the plaintext until its tag verified
};

}  // namespace

Result<std::unique_ptr<CipherOp>> make_gcm(const CK_MECHANISM& mech, KeyPtr key, bool encrypt) {
  FH_TRY(check_aes_key(key));
  FH_ASSIGN_OR_RETURN(const CK_GCM_PARAMS* p, gcm_params(mech));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return ossl_error(CKR_HOST_MEMORY, "GCM init failed");
  FH_TRY(gcm_start(ctx.get(), aes_cipher(AesMode::kGcm, key->secret.size()), key->secret.data(), *p, encrypt,
                   kDefaultIvLen));
  return std::unique_ptr<CipherOp>(
      std::make_unique<GcmOp>(std::move(key), std::move(ctx), encrypt, p->ulTagBits / 8, p->ulIvLen));
}

}  // namespace ferrohsm::mech
