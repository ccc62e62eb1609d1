#include "core/mech/ossl.h"

#include <openssl/err.h>

#include <string>

namespace ferrohsm::mech {

Error ossl_error(CK_RV rv, std::string_view what) {
  std::string msg(what);
  unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    msg += " (OpenSSL: ";
    msg += reason != nullptr ? reason : "unknown error";
    msg += ")";
  }
  ERR_clear_error();
  return make_error(rv, std::move(msg));
}

void ossl_clear_errors() { ERR_clear_error(); }

SecureBytes bn_to_bytes(const BIGNUM* bn, size_t pad) {
  size_t n = static_cast<size_t>(BN_num_bytes(bn));
  SecureBytes out(pad > n ? pad : n);
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  return out;
}

BnPtr bn_from_bytes(ByteView b, bool secret) {
  BnPtr bn(secret ? BN_secure_new() : BN_new());
  if (bn && BN_bin2bn(b.data(), static_cast<int>(b.size()), bn.get()) == nullptr) bn.reset();
  return bn;
}

Result<BnPtr> pkey_bn_param(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
    return ossl_error(CKR_GENERAL_ERROR, std::string("cannot read key parameter ") + name);
  return BnPtr(bn);
}

}  // namespace ferrohsm::mech
