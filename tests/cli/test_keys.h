// Keys and certificates made in-process with OpenSSL for the import tests, and
// their encodings (PKCS#8 PEM/DER, SubjectPublicKeyInfo, self-signed X.509).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace ferrohsm::cli::test {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// "rsa", "p256", "p384", "p521", "ed25519", "ed448", "x25519".
PkeyPtr make_key(const std::string& kind);

std::string pkcs8_pem(EVP_PKEY* k);
std::string pkcs8_der(EVP_PKEY* k);
std::string encrypted_pkcs8_pem(EVP_PKEY* k);
std::string spki_pem(EVP_PKEY* k);
std::string spki_der(EVP_PKEY* k);
// A self-signed certificate for `k` with CN=`cn` and serial 0x1234567 (signature
// SHA-256, or none for Edwards keys), in both encodings.
struct CertEncodings {
  std::string pem;
  std::string der;
};
CertEncodings self_signed_cert(EVP_PKEY* k, const std::string& cn);

}  // namespace ferrohsm::cli::test
