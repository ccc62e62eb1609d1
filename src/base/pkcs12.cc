#include "base/pkcs12.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace ferrohsm {
namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
void free_x509_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }

Bytes der_of(X509* c) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(c, &buf);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

Error failed(CK_RV rv, const std::string& why) {
  ERR_clear_error();
  return make_error(rv, why);
}

}  // namespace

Result<Pkcs12Parts> unpack_pkcs12(ByteView der, std::string_view password) {
  const unsigned char* p = der.data();
  std::unique_ptr<PKCS12, Free<PKCS12, PKCS12_free>> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12 || p != der.data() + der.size()) return failed(CKR_ARGUMENTS_BAD, "not a PKCS#12 (DER)");
  // OpenSSL wants a C string; the copy is wiped.
  SecureBytes pass(password.size() + 1, 0);
  std::copy(password.begin(), password.end(), pass.begin());
  const char* pw = reinterpret_cast<const char*>(pass.data());
  if (PKCS12_mac_present(p12.get()) == 1 && PKCS12_verify_mac(p12.get(), pw, static_cast<int>(password.size())) != 1)
    return failed(CKR_ENCRYPTED_DATA_INVALID, "wrong password (the PKCS#12 MAC does not verify)");
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_chain = nullptr;
  const int parsed = PKCS12_parse(p12.get(), pw, &raw_key, &raw_cert, &raw_chain);
  std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>> key(raw_key);
  std::unique_ptr<X509, Free<X509, X509_free>> cert(raw_cert);
  std::unique_ptr<STACK_OF(X509), Free<STACK_OF(X509), free_x509_stack>> chain(raw_chain);
  if (parsed != 1) return failed(CKR_ENCRYPTED_DATA_INVALID, "the PKCS#12 does not decrypt (wrong password?)");
  if (key && cert && X509_check_private_key(cert.get(), key.get()) != 1)
    return failed(CKR_ARGUMENTS_BAD, "the PKCS#12's certificate does not match its private key");
  Pkcs12Parts out;
  if (key) {
    PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key.get());
    if (info == nullptr) return failed(CKR_ARGUMENTS_BAD, "the PKCS#12's private key has no PKCS#8 form");
    unsigned char* buf = nullptr;
    const int len = i2d_PKCS8_PRIV_KEY_INFO(info, &buf);
    PKCS8_PRIV_KEY_INFO_free(info);
    if (len <= 0) return failed(CKR_GENERAL_ERROR, "PKCS#8 encoding failed");
    out.private_key.assign(buf, buf + len);
    OPENSSL_clear_free(buf, static_cast<size_t>(len));
  }
  if (cert) out.certificate = der_of(cert.get());
  for (int i = 0; chain && i < sk_X509_num(chain.get()); ++i) out.chain.push_back(der_of(sk_X509_value(chain.get(), i)));
  ERR_clear_error();
  return out;
}

}  // namespace ferrohsm
