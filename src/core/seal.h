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

// What stored KDF parameters may ask for: the configuration's own bounds, so that a
// store row cannot make a login derive for minutes (or not at all).
struct KdfBounds {
  uint32_t min_iterations = 1;
  uint32_t max_iterations = 1;
};
inline constexpr size_t kMinSaltBytes = 16, kMaxSaltBytes = 64;

struct KdfParams {
  uint32_t iterations = 0;
  Bytes salt;
  // "pbkdf2-sha256:<iterations>:<salt hex>"
  std::string encode() const;
  // CKR_DEVICE_ERROR when unreadable or outside `bounds` (salt: kMinSaltBytes..kMaxSaltBytes).
  static Result<KdfParams> parse(const std::string& text, const KdfBounds& bounds);
  static KdfParams fresh(uint32_t iterations);  // random 16-byte salt
};

Result<SecureBytes> derive_pin_key(std::string_view pin, const KdfParams& p);

Result<Bytes> seal(ByteView key, ByteView plaintext, ByteView aad);
// CKR_ENCRYPTED_DATA_INVALID when the key is wrong or the blob was altered.
Result<SecureBytes> unseal(ByteView key, ByteView blob, ByteView aad);

// Associated data for attribute values and for the wrapped token key. The wrap's
// version says what the token's objects carry: 2 (written now) — every object has an
// integrity MAC (core/object_mac.h); 1 — written before MACs existed, so objects may
// lack one. A role's first login over a version-1 wrap MACs those objects and then
// re-wraps with version 2. Someone who can write the store cannot turn a version-2
// wrap back into a version-1 one without the PIN.
inline constexpr int kTokenKeyWrapVersion = 2;
Bytes attribute_aad(int64_t object_id, CK_ATTRIBUTE_TYPE type);
Bytes token_key_aad(const std::string& serial, bool so, int version = kTokenKeyWrapVersion);

Result<SecureBytes> random_bytes(size_t n);

}  // namespace ferrohsm
