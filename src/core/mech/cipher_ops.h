// Shared CipherOp shapes for the symmetric families:
//  - BlockCipherOp: a multi-part EVP block mode (ECB, CBC, CBC with PKCS #7 padding)
//    of any block size (AES 16, DES 8), with exact per-step output sizes;
//  - StreamCipherOp: a multi-part EVP mode whose output equals its input (CTR);
//  - BufferedCipherOp: a base for modes that need the whole input before any output
//    (AEAD decryption, CCM, key wrap, CTS): update() only buffers, final() runs
//    one_shot() over the buffer.
#pragma once

#include "core/mech/key.h"
#include "core/mech/operation.h"
#include "core/mech/ossl.h"

namespace ferrohsm::mech {

// Whether a finished block-mode operation may be re-armed (operation.h) and how its
// mechanism parameter is checked then: an IV of `iv_len` bytes, or none when 0.
struct BlockRearm {
  bool reusable = false;
  size_t iv_len = 0;
};

// `ctx` is initialised (key, IV, direction, padding set).
std::unique_ptr<CipherOp> make_block_cipher_op(KeyPtr key, CipherCtxPtr ctx, bool encrypt, bool pad, size_t block,
                                               BlockRearm rearm = {});
// An initialised EVP_CIPHER_CTX for `cipher` (padding off unless `pad`).
Result<CipherCtxPtr> init_cipher_ctx(const EVP_CIPHER* cipher, ByteView key, const uint8_t* iv, bool encrypt,
                                     bool pad = false);

class StreamCipherOp : public CipherOp {
 public:
  StreamCipherOp(KeyPtr key, CipherCtxPtr ctx, bool encrypt) : key_(std::move(key)), ctx_(std::move(ctx)), encrypt_(encrypt) {}
  size_t update_size(size_t in_len) const override { return in_len; }
  size_t final_size() const override { return 0; }
  size_t one_shot_size(size_t in_len) const override { return in_len; }
  Result<size_t> update(ByteView in, MutableByteView out) override;
  Result<size_t> final(MutableByteView out) override;
  Result<size_t> one_shot(ByteView in, MutableByteView out) override;

 protected:
  // Called before each update with its length: a limit (e.g. the CTR counter) may refuse.
  virtual Status admit(size_t) { return {}; }

 private:
  KeyPtr key_;
  CipherCtxPtr ctx_;
  bool encrypt_;
};

class BufferedCipherOp : public CipherOp {
 public:
  explicit BufferedCipherOp(bool encrypt) : encrypt_(encrypt) {}
  size_t update_size(size_t) const override { return 0; }
  size_t final_size() const override { return one_shot_size(buf_.size()); }
  Result<size_t> update(ByteView in, MutableByteView out) override;
  Result<size_t> final(MutableByteView out) override;

 protected:
  bool encrypt_;

 private:
  SecureBytes buf_;
};

}  // namespace ferrohsm::mech
