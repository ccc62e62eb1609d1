#include "support/reference.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/bytes.h"

namespace ferrohsm::signer::testing {

std::vector<std::uint8_t> unhex(std::string_view hex) {
  Bytes out;
  if (!from_hex(hex, out)) throw std::invalid_argument("bad hex in a test vector: " + std::string(hex));
  return out;
}

Digest sha512_of(std::string_view text) {
  Digest d{};
  SHA512(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

std::array<std::uint8_t, 32> reference_hkdf_sha512_32(std::span<const std::uint8_t> ikm, std::string_view info) {
  unsigned char zeros[64] = {};
  unsigned char prk[64];
  unsigned int prk_len = 0;
  HMAC(EVP_sha512(), zeros, sizeof zeros, ikm.data(), ikm.size(), prk, &prk_len);
  std::string block(info);
  block.push_back('\x01');
  unsigned char t1[64];
  unsigned int t1_len = 0;
  HMAC(EVP_sha512(), prk, static_cast<int>(prk_len), reinterpret_cast<const unsigned char*>(block.data()),
       block.size(), t1, &t1_len);
  std::array<std::uint8_t, 32> out{};
  std::copy(t1, t1 + 32, out.begin());
  return out;
}

Signature reference_sign(std::span<const std::uint8_t, 32> seed, std::span<const std::uint8_t> message) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Signature sig{};
  std::size_t len = sig.size();
  if (!key || !ctx || EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) != 1)
    throw std::runtime_error("reference Ed25519 signing failed");
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return sig;
}

PublicKey reference_public(std::span<const std::uint8_t, 32> seed) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  PublicKey pub{};
  std::size_t len = pub.size();
  if (!key || EVP_PKEY_get_raw_public_key(key, pub.data(), &len) != 1)
    throw std::runtime_error("reference Ed25519 public key failed");
  EVP_PKEY_free(key);
  return pub;
}

void write_file(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ferrohsm-signer-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ferrohsm::signer::testing
