// Sealing: how secrets rest in the store. A random 256-bit token key encrypts every
// sensitive attribute with AES-256-GCM, the object id and attribute type bound as
// associated data, so a sealed value cannot be moved to another object or
// attribute. The token key itself is sealed under a key derived from each PIN
// (PBKDF2-HMAC-SHA256); the KDF parameters are stored beside it so they can be
// raised later. Blob layout: version (1) || nonce (12) || ciphertext || tag (16).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string>

namespace ferrohsm {

inline constexpr size_t kTokenKeyBytes = 32;

struct KdfParams {
  uint32_t iterations = 0;
  Bytes salt;
  // "pbkdf2-sha256:<iterations>:<salt hex>"
  std::string encode() const;
  static Result<KdfParams> parse(const std::string& text);
  static KdfParams fresh(uint32_t iterations);  // random 16-byte salt
};

Result<SecureBytes> derive_pin_key(std::string_view pin, const KdfParams& p);

Result<Bytes> seal(ByteView key, ByteView plaintext, ByteView aad);
// CKR_ENCRYPTED_DATA_INVALID when the key is wrong or the blob was altered.
Result<SecureBytes> unseal(ByteView key, ByteView blob, ByteView aad);

// Associated data for attribute values and for the wrapped token key.
Bytes attribute_aad(int64_t object_id, CK_ATTRIBUTE_TYPE type);
Bytes token_key_aad(const std::string& serial, bool so);

Result<SecureBytes> random_bytes(size_t n);

}  // namespace ferrohsm
