#include "test_keys.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>

namespace ferrohsm::cli::test {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string drain(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

template <typename F>
std::string write_with(F f) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || f(b.get()) != 1) throw std::runtime_error("OpenSSL encoding failed");
  return drain(b.get());
}

std::unique_ptr<X509, decltype(&X509_free)> make_cert(EVP_PKEY* k, const std::string& cn) {
  std::unique_ptr<X509, decltype(&X509_free)> c(X509_new(), X509_free);
  X509_set_version(c.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), 0x1234567);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 86400);
  X509_set_pubkey(c.get(), k);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), name);
  const int base = EVP_PKEY_get_base_id(k);
  const EVP_MD* md = (base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  if (X509_sign(c.get(), k, md) <= 0) throw std::runtime_error("X509_sign failed");
  return c;
}

}  // namespace

PkeyPtr make_key(const std::string& kind) {
  EVP_PKEY* k = nullptr;
  if (kind == "rsa") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (kind == "p256") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (kind == "p384") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (kind == "p521") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  else if (kind == "ed25519") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else if (kind == "ed448") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448");
  else if (kind == "x25519") k = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  if (k == nullptr) throw std::runtime_error("cannot make a " + kind + " key");
  return PkeyPtr(k);
}

std::string pkcs8_pem(EVP_PKEY* k) {
  return write_with([k](BIO* b) { return PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
}

std::string pkcs8_der(EVP_PKEY* k) {
  return write_with([k](BIO* b) { return i2d_PKCS8PrivateKey_bio(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
}

std::string encrypted_pkcs8_pem(EVP_PKEY* k) {
  static char pass[] = "password";
  return write_with([k](BIO* b) {
    return PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), pass, sizeof pass - 1, nullptr, nullptr);
  });
}

std::string spki_pem(EVP_PKEY* k) {
  return write_with([k](BIO* b) { return PEM_write_bio_PUBKEY(b, k); });
}

std::string spki_der(EVP_PKEY* k) {
  return write_with([k](BIO* b) { return i2d_PUBKEY_bio(b, k); });
}

CertEncodings self_signed_cert(EVP_PKEY* k, const std::string& cn) {
  auto c = make_cert(k, cn);
  return {write_with([&c](BIO* b) { return PEM_write_bio_X509(b, c.get()); }),
          write_with([&c](BIO* b) { return i2d_X509_bio(b, c.get()); })};
}

}  // namespace ferrohsm::cli::test
