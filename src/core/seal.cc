#include "core/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <climits>
#include <memory>

namespace ferrohsm {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kNonce = 12, kTag = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

const EVP_CIPHER* aes256gcm() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return c;
}

Error crypto_error(const char* what) { return make_error(CKR_FUNCTION_FAILED, std::string("seal: ") + what); }

}  // namespace

std::string KdfParams::encode() const { return "pbkdf2-sha256:" + std::to_string(iterations) + ":" + to_hex(salt); }

Result<KdfParams> KdfParams::parse(const std::string& text, const KdfBounds& bounds) {
  const std::string prefix = "pbkdf2-sha256:";
  auto bad = [&] { return make_error(CKR_DEVICE_ERROR, "store: unreadable KDF parameters"); };
  if (text.rfind(prefix, 0) != 0 || text.size() > prefix.size() + 11 + 2 * kMaxSaltBytes) return bad();
  auto colon = text.find(':', prefix.size());
  if (colon == std::string::npos) return bad();
  KdfParams p;
  auto [ptr, ec] = std::from_chars(text.data() + prefix.size(), text.data() + colon, p.iterations);
  if (ec != std::errc() || ptr != text.data() + colon) return bad();
  if (!from_hex(std::string_view(text).substr(colon + 1), p.salt)) return bad();
  if (p.iterations < bounds.min_iterations || p.iterations > bounds.max_iterations)
    return make_error(CKR_DEVICE_ERROR, "store: the KDF parameters ask for " + std::to_string(p.iterations) +
                                            " PBKDF2 iterations; allowed are " + std::to_string(bounds.min_iterations) +
                                            " to " + std::to_string(bounds.max_iterations));
  if (p.salt.size() < kMinSaltBytes || p.salt.size() > kMaxSaltBytes)
    return make_error(CKR_DEVICE_ERROR, "store: the KDF salt has " + std::to_string(p.salt.size()) +
                                            " bytes; allowed are " + std::to_string(kMinSaltBytes) + " to " +
                                            std::to_string(kMaxSaltBytes));
  return p;
}

KdfParams KdfParams::fresh(uint32_t iterations) {
  KdfParams p;
  p.iterations = iterations;
  p.salt.resize(16);
  RAND_bytes(p.salt.data(), static_cast<int>(p.salt.size()));
  return p;
}

Result<SecureBytes> derive_pin_key(std::string_view pin, const KdfParams& p) {
  SecureBytes out(kTokenKeyBytes);
  static const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (PKCS5_PBKDF2_HMAC(pin.data(), static_cast<int>(pin.size()), p.salt.data(), static_cast<int>(p.salt.size()),
                        static_cast<int>(p.iterations), sha256, static_cast<int>(out.size()), out.data()) != 1)
    return crypto_error("PBKDF2 failed");
  return out;
}

Result<SecureBytes> random_bytes(size_t n) {
  if (n > static_cast<size_t>(INT_MAX)) return make_error(CKR_ARGUMENTS_BAD, "too many random bytes for one call");
  SecureBytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1)
    return make_error(CKR_FUNCTION_FAILED, "random generator failed");
  return out;
}

Result<Bytes> seal(ByteView key, ByteView plaintext, ByteView aad) {
  if (key.size() != kTokenKeyBytes) return crypto_error("bad key length");
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  Bytes out(1 + kNonce + plaintext.size() + kTag);
  out[0] = kVersion;
  uint8_t* nonce = out.data() + 1;
  uint8_t* ct = nonce + kNonce;
  int len = 0;
  if (!ctx || RAND_bytes(nonce, kNonce) != 1 ||
      EVP_EncryptInit_ex2(ctx.get(), aes256gcm(), key.data(), nonce, nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, ct + plaintext.size()) != 1)
    return crypto_error("AES-GCM encryption failed");
  return out;
}

Result<SecureBytes> unseal(ByteView key, ByteView blob, ByteView aad) {
  if (key.size() != kTokenKeyBytes) return crypto_error("bad key length");
  if (blob.size() < 1 + kNonce + kTag || blob[0] != kVersion)
    return make_error(CKR_ENCRYPTED_DATA_INVALID, "seal: unknown sealed-value format");
  const uint8_t* nonce = blob.data() + 1;
  const uint8_t* ct = nonce + kNonce;
  size_t ct_len = blob.size() - 1 - kNonce - kTag;
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  SecureBytes out(ct_len);
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), aes256gcm(), key.data(), nonce, nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, const_cast<uint8_t*>(ct + ct_len)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1)
    return make_error(CKR_ENCRYPTED_DATA_INVALID, "seal: value does not open under this key");
  return out;
}

Bytes attribute_aad(int64_t object_id, CK_ATTRIBUTE_TYPE type) {
  std::string s = "ferrohsm/attr/v1/" + std::to_string(object_id) + "/" + std::to_string(type);
  return Bytes(s.begin(), s.end());
}

Bytes token_key_aad(const std::string& serial, bool so, int version) {
  std::string s = "ferrohsm/token-key/v" + std::to_string(version) + "/" + serial + (so ? "/so" : "/user");
  return Bytes(s.begin(), s.end());
}

}  // namespace ferrohsm
