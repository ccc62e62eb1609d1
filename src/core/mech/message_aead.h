// The message-based AEAD API of PKCS#11 3.0 (C_MessageEncryptInit … §5.13, §5.15):
// one key, many messages, each with its own parameter block — CK_GCM_MESSAGE_PARAMS,
// CK_CCM_MESSAGE_PARAMS or CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS. The tag travels
// in the parameter block, not after the ciphertext, so the ciphertext is exactly as
// long as the plaintext. On encryption the token makes the IV/nonce as the block's
// generator asks (CKG_NO_GENERATE, CKG_GENERATE, CKG_GENERATE_COUNTER,
// CKG_GENERATE_COUNTER_XOR, CKG_GENERATE_RANDOM) and writes it back into the block.
// GCM and ChaCha20-Poly1305 messages may also be sent in parts (Begin/Next); CCM
// needs the whole message in one call (OpenSSL's CCM takes the data in one step).
#pragma once

#include "core/mech/key.h"

#include <cstdint>
#include <memory>

namespace ferrohsm::mech {

class MessageAead {
 public:
  // CKR_MECHANISM_INVALID for a mechanism without a message form; the key is checked.
  static Result<std::unique_ptr<MessageAead>> create(CK_MECHANISM_TYPE type, KeyPtr key, bool encrypt);
  virtual ~MessageAead() = default;

  virtual bool multipart() const = 0;
  // Checks the caller's parameter block (CKR_MECHANISM_PARAM_INVALID), makes the IV
  // on encryption and starts a message.
  virtual Status begin(void* param, CK_ULONG param_len, ByteView aad) = 0;
  // Output is exactly in.size() bytes. With `last`, the tag is written to (encrypt)
  // or checked against (decrypt, CKR_AEAD_DECRYPT_FAILED) the parameter block.
  virtual Result<size_t> next(void* param, CK_ULONG param_len, ByteView in, MutableByteView out, bool last) = 0;
  // Drops a message in progress (a failed step, C_MessageEncryptFinal).
  virtual void abort() = 0;
  // A whole message in one call.
  Result<size_t> one_shot(void* param, CK_ULONG param_len, ByteView aad, ByteView in, MutableByteView out) {
    FH_TRY(begin(param, param_len, aad));
    auto n = next(param, param_len, in, out, true);
    if (!n.ok()) abort();
    return n;
  }
};

}  // namespace ferrohsm::mech
