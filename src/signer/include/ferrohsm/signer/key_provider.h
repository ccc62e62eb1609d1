// The KeyProvider port: the only code that touches private key material.
//
// Every adapter means the same by "sign this digest": a pure Ed25519 (RFC 8032)
// signature over the 64 bytes of a SHA-512 digest. Errors are domain errors only
// (never a CKR_* code or an SDK type). retire() is idempotent.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/scope.h"

namespace ferrohsm::signer {

using PublicKey = std::array<std::uint8_t, 32>;  // raw Ed25519 public key
using Digest = std::array<std::uint8_t, 64>;     // a SHA-512 digest
using Signature = std::array<std::uint8_t, 64>;  // a raw Ed25519 signature

struct GeneratedKey {
  std::string handle_id;
  PublicKey public_key{};
};

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;

  // The provider's registry name ("software", "pkcs11", …).
  virtual std::string_view name() const = 0;
  // True for providers that must never run in production (the software provider).
  virtual bool dev_only() const { return false; }

  virtual Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) = 0;
  virtual Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) = 0;
  virtual Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) = 0;
  virtual Status retire(const Context& ctx, const std::string& handle_id) = 0;
};

}  // namespace ferrohsm::signer
