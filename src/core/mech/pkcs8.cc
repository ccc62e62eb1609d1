#include "core/mech/pkcs8.h"

#include "core/mech/curves.h"
#include "core/mech/ossl.h"

#include <openssl/x509.h>

#include <algorithm>

namespace ferrohsm::mech {
namespace {

Error invalid(const std::string& why) { return make_error(CKR_WRAPPED_KEY_INVALID, why); }

Result<SecureBytes> bn_part(const EVP_PKEY* k, const char* name, size_t pad = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &raw) != 1 || raw == nullptr)
    return invalid(std::string("the private key lacks ") + name);
  BnPtr bn(raw);
  SecureBytes out(std::max(pad, static_cast<size_t>(BN_num_bytes(bn.get()))));
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0)
    return ossl_error(CKR_GENERAL_ERROR, "BN_bn2binpad failed");
  return out;
}

Result<SecureBytes> octet_part(const EVP_PKEY* k, const char* name) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(k, name, nullptr, 0, &len) != 1)
    return invalid(std::string("the private key lacks ") + name);
  SecureBytes out(len);
  if (EVP_PKEY_get_octet_string_param(k, name, out.data(), out.size(), &len) != 1)
    return ossl_error(CKR_GENERAL_ERROR, "cannot read the private key");
  out.resize(len);
  return out;
}

Status rsa_parts(const EVP_PKEY* k, AttrMap& out) {
  static constexpr std::pair<CK_ATTRIBUTE_TYPE, const char*> kParts[] = {
      {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},           {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
      {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},  {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
      {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},     {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2}, {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  for (const auto& [attr, param] : kParts) {
    FH_ASSIGN_OR_RETURN(SecureBytes v, bn_part(k, param));
    out.set(attr, std::move(v));
  }
  out.set_ulong(CKA_KEY_TYPE, CKK_RSA);
  return {};
}

Result<const Curve*> curve_of(const EVP_PKEY* k) {
  char group[64] = {};
  size_t len = 0;
  std::string name;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1)
    name.assign(group, len);
  else
    name = EVP_PKEY_get0_type_name(k) != nullptr ? EVP_PKEY_get0_type_name(k) : "";
  const Curve* c = curve_by_ossl_name(name);
  if (c == nullptr) return make_error(CKR_CURVE_NOT_SUPPORTED, "the wrapped key's curve " + name + " is not supported");
  return c;
}

}  // namespace

Result<SecureBytes> private_key_to_pkcs8(const Key& key) {
  if (key.cls != CKO_PRIVATE_KEY || key.pkey == nullptr)
    return make_error(CKR_KEY_NOT_WRAPPABLE, "only private keys have a PKCS#8 form");
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key.pkey);
  if (info == nullptr) return ossl_error(CKR_KEY_NOT_WRAPPABLE, "the key has no PKCS#8 form");
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info, nullptr);
  SecureBytes out(len > 0 ? static_cast<size_t>(len) : 0);
  unsigned char* p = out.data();
  const bool ok = len > 0 && i2d_PKCS8_PRIV_KEY_INFO(info, &p) == len;
  PKCS8_PRIV_KEY_INFO_free(info);
  if (!ok) return ossl_error(CKR_GENERAL_ERROR, "PKCS#8 encoding failed");
  return out;
}

Result<AttrMap> private_key_from_pkcs8(ByteView der) {
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (info == nullptr || p != der.data() + der.size()) {
    PKCS8_PRIV_KEY_INFO_free(info);
    ossl_clear_errors();
    return invalid("the unwrapped bytes are not a PKCS#8 PrivateKeyInfo");
  }
  PkeyPtr pkey(EVP_PKCS82PKEY(info));
  PKCS8_PRIV_KEY_INFO_free(info);
  if (!pkey) {
    ossl_clear_errors();
    return invalid("the PKCS#8 key cannot be read");
  }
  AttrMap out;
  out.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_RSA) {
    FH_TRY(rsa_parts(pkey.get(), out));
    return out;
  }
  FH_ASSIGN_OR_RETURN(const Curve* c, curve_of(pkey.get()));
  out.set_ulong(CKA_KEY_TYPE, c->key_type);
  out.set(CKA_EC_PARAMS, c->oid_der);
  if (c->key_type == CKK_EC) {
    FH_ASSIGN_OR_RETURN(SecureBytes d, bn_part(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, c->field_bytes));
    out.set(CKA_VALUE, std::move(d));
  } else {
    FH_ASSIGN_OR_RETURN(SecureBytes d, octet_part(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY));
    out.set(CKA_VALUE, std::move(d));
  }
  return out;
}

}  // namespace ferrohsm::mech
