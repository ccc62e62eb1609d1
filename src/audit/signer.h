// What signs a checkpoint. The core implements it over an Ed25519 key kept sealed in a
// token of the store ("ferrohsm-audit"); the audit library sees only this interface.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

namespace ferrohsm::audit {

class Signer {
 public:
  virtual ~Signer() = default;
  // An Ed25519 signature of `message`.
  virtual Result<Bytes> sign(ByteView message) = 0;
  // The DER SubjectPublicKeyInfo of the key that signs.
  virtual Result<Bytes> public_key_spki() = 0;
};

// Hex SHA-256 of a DER SubjectPublicKeyInfo: how a checkpoint names its key.
std::string key_fingerprint(ByteView spki);
// Whether `sig` is `spki`'s Ed25519 signature of `message` (OpenSSL).
bool verify_signature(ByteView spki, ByteView message, ByteView sig);

}  // namespace ferrohsm::audit
