// A public key as a JSON Web Key (GET …/keys/{key}/public?format=jwk), computed by
// OpenSSL 3 from the key's SubjectPublicKeyInfo: RSA {n, e} (RFC 7518 §6.3), EC
// {crv: P-256|P-384|P-521, x, y} with coordinates at the field's full length
// (RFC 7518 §6.2), OKP {crv: Ed25519|Ed448|X25519|X448, x} (RFC 8037). Numbers are
// base64url without padding; `kid` is the key's id.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <nlohmann/json.hpp>

#include <string>

namespace ferrohsm::server::rest {

// CKR_KEY_TYPE_INCONSISTENT for a key type or curve JWK has no name for.
Result<nlohmann::json> jwk_from_spki(ByteView spki, const std::string& kid);

}  // namespace ferrohsm::server::rest
