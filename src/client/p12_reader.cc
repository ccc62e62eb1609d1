// Reading a PKCS#12 file into the attribute bytes of its key and certificate (OpenSSL 3);
// the file is unpacked by base/pkcs12.h.
#include <ferrohsm/client/import_p12.h>

#include "base/pkcs12.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace ferrohsm::client {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_clear_free>>;

Error crypto_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return Error{ErrorKind::crypto, CKR_OK, what + (code != 0 ? std::string(" (") + buf + ")" : "")};
}

Result<Bytes> bn_param(EVP_PKEY* pkey, const char* name, std::size_t pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return crypto_error(std::string("key has no ") + name);
  BnPtr bn(raw);
  std::size_t n = static_cast<std::size_t>(BN_num_bytes(bn.get()));
  Bytes out(pad_to > n ? pad_to : n);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) return crypto_error("BN_bn2binpad");
  return out;
}

template <typename F>
Result<Bytes> der(F&& encode) {
  unsigned char* buf = nullptr;
  int len = encode(&buf);
  if (len <= 0) return crypto_error("DER encoding failed");
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Bytes der_octet_string(const Bytes& content) {
  Bytes out = {0x04};
  std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n <= 0xff) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xff)});
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Status read_rsa(EVP_PKEY* k, P12Contents& c) {
  FH_ASSIGN_OR_RETURN(c.modulus, bn_param(k, OSSL_PKEY_PARAM_RSA_N));
  FH_ASSIGN_OR_RETURN(c.public_exponent, bn_param(k, OSSL_PKEY_PARAM_RSA_E));
  FH_ASSIGN_OR_RETURN(c.private_exponent, bn_param(k, OSSL_PKEY_PARAM_RSA_D));
  FH_ASSIGN_OR_RETURN(c.prime1, bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR1));
  FH_ASSIGN_OR_RETURN(c.prime2, bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR2));
  FH_ASSIGN_OR_RETURN(c.exponent1, bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT1));
  FH_ASSIGN_OR_RETURN(c.exponent2, bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT2));
  FH_ASSIGN_OR_RETURN(c.coefficient, bn_param(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
  return {};
}

Status read_ec(EVP_PKEY* k, P12Contents& c) {
  char group[80] = "";
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1) {
    return Error{ErrorKind::invalid_argument, CKR_OK, "the EC key has no named curve (explicit parameters are not supported)"};
  }
  int nid = OBJ_sn2nid(group);
  if (nid == NID_undef) nid = OBJ_txt2nid(group);
  ASN1_OBJECT* oid = nid == NID_undef ? nullptr : OBJ_nid2obj(nid);
  if (oid == nullptr) return Error{ErrorKind::invalid_argument, CKR_OK, std::string("unknown EC curve ") + group};
  FH_ASSIGN_OR_RETURN(c.ec_params, der([&](unsigned char** out) { return i2d_ASN1_OBJECT(oid, out); }));
  std::size_t field_bytes = static_cast<std::size_t>((EVP_PKEY_get_bits(k) + 7) / 8);
  FH_ASSIGN_OR_RETURN(c.ec_value, bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, field_bytes));
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &len) != 1) {
    return crypto_error("EC public point");
  }
  Bytes point(len);
  if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(), len, &len) != 1) {
    return crypto_error("EC public point");
  }
  point.resize(len);
  c.ec_point = der_octet_string(point);
  return {};
}

void wipe(Bytes& b) {
  if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
}

}  // namespace

P12Contents::~P12Contents() {
  for (Bytes* b : {&private_exponent, &prime1, &prime2, &exponent1, &exponent2, &coefficient, &ec_value}) wipe(*b);
}

Result<P12Contents> read_p12(const std::string& path, const Secret& password) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Error{ErrorKind::io, CKR_OK, "cannot open PKCS#12 file " + path};
  ferrohsm::SecureBytes file_bytes;
  unsigned char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) file_bytes.insert(file_bytes.end(), buf, buf + n);
  OPENSSL_cleanse(buf, sizeof buf);
  // The unpacking is the base library's, shared with the core's import (key import, REST).
  auto parts = ferrohsm::unpack_pkcs12(file_bytes, password.view());
  if (!parts) {
    const bool wrong_password = parts.error().rv == CKR_ENCRYPTED_DATA_INVALID;
    return Error{wrong_password ? ErrorKind::crypto : ErrorKind::invalid_argument, CKR_OK,
                 (wrong_password ? "wrong password for " + path + ": " : path + ": ") + parts.error().message};
  }
  if (parts->private_key.empty()) return Error{ErrorKind::invalid_argument, CKR_OK, path + " holds no private key"};
  if (parts->certificate.empty())
    return Error{ErrorKind::invalid_argument, CKR_OK, path + " holds no certificate for its key"};
  const unsigned char* kp = parts->private_key.data();
  PkeyPtr key(d2i_AutoPrivateKey(nullptr, &kp, static_cast<long>(parts->private_key.size())));
  const unsigned char* cp = parts->certificate.data();
  X509Ptr cert(d2i_X509(nullptr, &cp, static_cast<long>(parts->certificate.size())));
  if (!key || !cert) return crypto_error("cannot read the key or certificate of " + path);

  P12Contents c;
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    c.key_type = P12KeyType::rsa;
    FH_TRY(read_rsa(key.get(), c));
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    c.key_type = P12KeyType::ec;
    FH_TRY(read_ec(key.get(), c));
  } else {
    const char* name = EVP_PKEY_get0_type_name(key.get());
    return Error{ErrorKind::invalid_argument, CKR_OK,
                 std::string("unsupported key type ") + (name ? name : "?") + " in " + path +
                     " (import-p12 takes RSA and EC keys)"};
  }
  FH_ASSIGN_OR_RETURN(c.cert_der, der([&](unsigned char** out) { return i2d_X509(cert.get(), out); }));
  FH_ASSIGN_OR_RETURN(c.subject_der,
                       der([&](unsigned char** out) { return i2d_X509_NAME(X509_get_subject_name(cert.get()), out); }));
  FH_ASSIGN_OR_RETURN(c.issuer_der,
                       der([&](unsigned char** out) { return i2d_X509_NAME(X509_get_issuer_name(cert.get()), out); }));
  FH_ASSIGN_OR_RETURN(c.serial_der, der([&](unsigned char** out) {
                         return i2d_ASN1_INTEGER(X509_get_serialNumber(cert.get()), out);
                       }));
  return c;
}

}  // namespace ferrohsm::client
