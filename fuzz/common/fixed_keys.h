// The asymmetric keys of the harnesses, fixed so that every run is the same and so
// that seeds made in one run (signatures, ciphertexts, wrapped keys, peer points)
// stay valid in the next. Test keys only: they guard nothing.
#pragma once

#include <cstdint>
#include <vector>

namespace ferrohsm::fuzz {

using Bytes = std::vector<uint8_t>;

struct FixedKeys {
  // RSA-2048: CKA_MODULUS … CKA_COEFFICIENT, big-endian.
  Bytes n, e, d, p, q, dp, dq, qinv;
  // CKA_VALUE of the private key and CKA_EC_POINT (DER OCTET STRING) of the public one.
  Bytes p256_value, p256_point;
  Bytes ed25519_value, ed25519_point;
  Bytes x25519_value, x25519_point;
};

// Parsed once with OpenSSL; aborts if that fails.
const FixedKeys& fixed_keys();

}  // namespace ferrohsm::fuzz
