// Ed25519 through OpenSSL 3 EVP: key objects from raw seeds, pure signatures, checks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/key_provider.h"

struct evp_pkey_st;

namespace ferrohsm::signer::ed25519 {

struct PkeyFree {
  void operator()(evp_pkey_st* p) const;
};
// An OpenSSL key object; safe to sign with from several threads at once.
using Pkey = std::unique_ptr<evp_pkey_st, PkeyFree>;

Result<Pkey> from_private_seed(std::span<const std::uint8_t, 32> seed);
Result<Pkey> generate();
Result<PublicKey> public_of(const Pkey& key);
// Pure Ed25519 over `message` (no pre-hash).
Result<Signature> sign(const Pkey& key, std::span<const std::uint8_t> message);
bool verify(const PublicKey& pub, std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature);
// SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----" …) of a raw public key.
std::string public_pem(const PublicKey& pub);
// The raw key of a SubjectPublicKeyInfo (DER, or PEM "PUBLIC KEY"), as cloud KMSs return
// them; kInvalidArgument when it is not an Ed25519 key.
Result<PublicKey> from_spki_der(std::span<const std::uint8_t> der);
Result<PublicKey> from_spki_pem(std::string_view pem);

}  // namespace ferrohsm::signer::ed25519
