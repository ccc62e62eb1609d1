// HKDF-SHA512 (RFC 5869) through OpenSSL's EVP_KDF "HKDF", no salt.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/secret_bytes.h"

namespace ferrohsm::signer {

Result<SecretBytes<32>> hkdf_sha512_32(std::span<const std::uint8_t> key, std::string_view info);

}  // namespace ferrohsm::signer
