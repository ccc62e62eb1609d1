// Independent reference computations for the tests (not the library's own code paths).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer::testing {

// Test vectors' hex (base/bytes.h's from_hex); bad hex throws: a typo in a vector fails loudly.
std::vector<std::uint8_t> unhex(std::string_view hex);
Digest sha512_of(std::string_view text);

// HKDF-SHA512 written out with HMAC (RFC 5869 §2.2–2.3), zero salt, 32 bytes out.
std::array<std::uint8_t, 32> reference_hkdf_sha512_32(std::span<const std::uint8_t> ikm, std::string_view info);

// Pure Ed25519 with the OpenSSL EVP API, from a raw 32-byte private seed.
Signature reference_sign(std::span<const std::uint8_t, 32> private_seed, std::span<const std::uint8_t> message);
PublicKey reference_public(std::span<const std::uint8_t, 32> private_seed);

// Writes bytes to a file (tests' temp files).
void write_file(const std::string& path, std::span<const std::uint8_t> bytes);
std::string read_text_file(const std::string& path);

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace ferrohsm::signer::testing
