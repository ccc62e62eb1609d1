#include "ferrohsm/signer/ed25519.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace ferrohsm::signer::ed25519 {

void PkeyFree::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }

namespace {
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
}  // namespace

Result<Pkey> from_private_seed(std::span<const std::uint8_t, 32> seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) return Error::internal("OpenSSL could not build an Ed25519 key");
  return key;
}

Result<Pkey> generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return Error::internal("OpenSSL could not generate an Ed25519 key");
  return Pkey(raw);
}

Result<PublicKey> public_of(const Pkey& key) {
  PublicKey out{};
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != out.size())
    return Error::internal("OpenSSL could not export the Ed25519 public key");
  return out;
}

Result<Signature> sign(const Pkey& key, std::span<const std::uint8_t> message) {
  MdCtx ctx(EVP_MD_CTX_new());
  Signature sig{};
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size())
    return Error::internal("OpenSSL Ed25519 signing failed");
  return sig;
}

bool verify(const PublicKey& pub, std::span<const std::uint8_t> message,
            std::span<const std::uint8_t> signature) {
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

std::string public_pem(const PublicKey& pub) {
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  if (!key) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

namespace {
Result<PublicKey> raw_of_spki(Pkey key) {
  if (!key) return Error::invalid("not a SubjectPublicKeyInfo");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) return Error::invalid("not an Ed25519 public key");
  return public_of(key);
}
}  // namespace

Result<PublicKey> from_spki_der(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key && p != der.data() + der.size()) return Error::invalid("trailing bytes after the SubjectPublicKeyInfo");
  return raw_of_spki(std::move(key));
}

Result<PublicKey> from_spki_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Error::internal("OpenSSL could not make a memory BIO");
  return raw_of_spki(Pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)));
}

}  // namespace ferrohsm::signer::ed25519
