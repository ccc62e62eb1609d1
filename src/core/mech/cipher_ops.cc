// cipher_ops.h: the shared multi-part cipher operations.
#include "core/mech/cipher_ops.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kMaxBufferedInput = size_t{64} << 20;  // whole-input modes keep at most 64 MiB

// ECB / CBC / CBC_PAD in one direction. OpenSSL buffers partial blocks (and, when
// decrypting with padding, the last full block); `total_` tracks the input so the
// output of each step is known exactly.
class BlockCipherOp final : public CipherOp {
 public:
  BlockCipherOp(KeyPtr key, CipherCtxPtr ctx, bool encrypt, bool pad, size_t block, BlockRearm rearm)
      : key_(std::move(key)), ctx_(std::move(ctx)), encrypt_(encrypt), pad_(pad), block_(block), rearm_(rearm) {}

  bool reusable() const override { return rearm_.reusable; }
  // A new IV (or none) on the kept key schedule: EVP_CipherInit_ex2 without cipher and
  // key resets the context's buffered block, as a new context would have it.
  Status rearm(const CK_MECHANISM& mech) override {
    const uint8_t* iv = nullptr;
    if (rearm_.iv_len != 0) {
      if (mech.pParameter == nullptr || mech.ulParameterLen != rearm_.iv_len)
        return make_error(CKR_MECHANISM_PARAM_INVALID, "the mechanism needs an IV of the block size");
      iv = static_cast<const uint8_t*>(mech.pParameter);
    } else {
      FH_TRY(no_mech_param(mech));
    }
    total_ = 0;
    if (EVP_CipherInit_ex2(ctx_.get(), nullptr, nullptr, iv, encrypt_ ? 1 : 0, nullptr) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "cipher init failed");
    return {};
  }

  size_t update_size(size_t in_len) const override { return produced(total_ + in_len) - produced(total_); }
  size_t final_size() const override { return pad_ ? block_ : 0; }
  size_t one_shot_size(size_t in_len) const override {
    return pad_ && encrypt_ ? (in_len / block_ + 1) * block_ : in_len;
  }

  Result<size_t> update(ByteView in, MutableByteView out) override {
    if (in.size() > INT_MAX - block_) return make_error(len_error(), "input too long for one call");
    int len = 0;
    if (EVP_CipherUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AES update failed");
    total_ += in.size();
    return static_cast<size_t>(len);
  }

  Result<size_t> final(MutableByteView out) override {
    if (!encrypt_ && pad_ && (total_ == 0 || total_ % block_ != 0))
      return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-empty multiple of the block size");
    if (!pad_ && total_ % block_ != 0) return make_error(len_error(), "input must be a multiple of the block size");
    uint8_t block[EVP_MAX_BLOCK_LENGTH];
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), block, &len) != 1) {
      if (encrypt_) return ossl_error(CKR_FUNCTION_FAILED, "AES final failed");
      ossl_clear_errors();
      return make_error(CKR_ENCRYPTED_DATA_INVALID, "CBC_PAD padding is invalid");
    }
    std::copy(block, block + len, out.begin());
    OPENSSL_cleanse(block, sizeof block);
    return static_cast<size_t>(len);
  }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    if (!pad_ && in.size() % block_ != 0) return make_error(len_error(), "input must be a multiple of the block size");
    if (pad_ && !encrypt_ && (in.empty() || in.size() % block_ != 0))
      return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-empty multiple of the block size");
    FH_ASSIGN_OR_RETURN(size_t n, update(in, out));
    Result<size_t> tail = final(out.subspan(n));
    if (!tail.ok()) {
      OPENSSL_cleanse(out.data(), n);  // release no unpadded plaintext on a padding error
      return tail.error();
    }
    return n + *tail;
  }

 private:
  CK_RV len_error() const { return encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE; }
  // Bytes update() has produced in all after `total` input bytes.
  size_t produced(size_t total) const {
    size_t whole = total - total % block_;
    if (pad_ && !encrypt_ && total != 0 && total % block_ == 0) whole -= block_;  // last block held for final
    return whole;
  }

  KeyPtr key_;
  CipherCtxPtr ctx_;
  bool encrypt_;
  bool pad_;
  size_t block_;
  BlockRearm rearm_;
  size_t total_ = 0;
};

}  // namespace

std::unique_ptr<CipherOp> make_block_cipher_op(KeyPtr key, CipherCtxPtr ctx, bool encrypt, bool pad, size_t block,
                                               BlockRearm rearm) {
  return std::make_unique<BlockCipherOp>(std::move(key), std::move(ctx), encrypt, pad, block, rearm);
}

Result<CipherCtxPtr> init_cipher_ctx(const EVP_CIPHER* cipher, ByteView key, const uint8_t* iv, bool encrypt, bool pad) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || cipher == nullptr) return ossl_error(CKR_HOST_MEMORY, "cipher unavailable");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (static_cast<size_t>(EVP_CIPHER_get_key_length(cipher)) != key.size() ||
      EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), pad ? 1 : 0) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "cipher init failed");
  return ctx;
}

Result<size_t> StreamCipherOp::update(ByteView in, MutableByteView out) {
  if (in.size() > INT_MAX) return make_error(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input too long");
  FH_TRY(admit(in.size()));
  int len = 0;
  if (EVP_CipherUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "cipher update failed");
  return static_cast<size_t>(len);
}

Result<size_t> StreamCipherOp::final(MutableByteView) { return size_t{0}; }

Result<size_t> StreamCipherOp::one_shot(ByteView in, MutableByteView out) { return update(in, out); }

Result<size_t> BufferedCipherOp::update(ByteView in, MutableByteView) {
  if (in.size() > kMaxBufferedInput - buf_.size())
    return make_error(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input too long for multi-part");
  buf_.insert(buf_.end(), in.begin(), in.end());
  return size_t{0};
}

Result<size_t> BufferedCipherOp::final(MutableByteView out) {
  SecureBytes all = std::move(buf_);
  buf_.clear();
  return one_shot(all, out);
}

}  // namespace ferrohsm::mech
