#include "core/key_import.h"

#include "base/pkcs12.h"
#include "core/mech/curves.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

namespace ferrohsm {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

struct Decoded {
  Pkey private_key;
  Pkey public_key;
  Cert cert;
};

Error bad(const std::string& name, const std::string& why) {
  ERR_clear_error();
  return make_error(CKR_ARGUMENTS_BAD, "import: " + name + ": " + why);
}

// Whole-input DER decoders; nullptr unless every byte was consumed.
Pkey der_private(ByteView der) {
  const unsigned char* p = der.data();
  Pkey k(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  return k && p == der.data() + der.size() ? std::move(k) : nullptr;
}
Pkey der_public(ByteView der) {
  const unsigned char* p = der.data();
  Pkey k(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  return k && p == der.data() + der.size() ? std::move(k) : nullptr;
}
Cert der_cert(ByteView der) {
  const unsigned char* p = der.data();
  Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  return c && p == der.data() + der.size() ? std::move(c) : nullptr;
}

Result<Decoded> decode_pem(ByteView data, const std::string& name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), BIO_free);
  char* type = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long len = 0;
  if (!bio || PEM_read_bio(bio.get(), &type, &header, &der, &len) != 1) return bad(name, "no readable PEM block");
  std::string label = type;
  ByteView body(der, static_cast<size_t>(len));
  Decoded d;
  if (label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY") d.private_key = der_private(body);
  else if (label == "PUBLIC KEY") d.public_key = der_public(body);
  else if (label == "CERTIFICATE" || label == "X509 CERTIFICATE") d.cert = der_cert(body);
  OPENSSL_free(type);
  OPENSSL_free(header);
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  if (label == "ENCRYPTED PRIVATE KEY")
    return bad(name, "encrypted PKCS#8 is not supported: decrypt it first (openssl pkcs8 -in F -out G)");
  if (!d.private_key && !d.public_key && !d.cert)
    return bad(name, "PEM block '" + label + "' is not a readable private key, public key or certificate");
  return d;
}

Result<Decoded> decode(ByteView data, const std::string& name) {
  static constexpr std::string_view kPem = "-----BEGIN ";
  if (as_chars(data).find(kPem) != std::string_view::npos) return decode_pem(data, name);
  Decoded d;
  if ((d.cert = der_cert(data))) return d;
  if ((d.public_key = der_public(data))) return d;
  if ((d.private_key = der_private(data))) return d;
  return bad(name, "not a PKCS#8 private key, public key or X.509 certificate (PEM or DER)");
}

Result<SecureBytes> bn_param(const EVP_PKEY* k, const char* param, size_t pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, param, &bn) != 1 || bn == nullptr)
    return make_error(CKR_ARGUMENTS_BAD, std::string("import: the key has no '") + param + "'");
  size_t n = std::max(pad_to, static_cast<size_t>(BN_num_bytes(bn)));
  SecureBytes out(n);
  int ok = BN_bn2binpad(bn, out.data(), static_cast<int>(n));
  BN_clear_free(bn);
  if (ok < 0) return make_error(CKR_GENERAL_ERROR, "import: BN_bn2binpad failed");
  return out;
}

Result<SecureBytes> octet_param(const EVP_PKEY* k, const char* param) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(k, param, nullptr, 0, &len) != 1)
    return make_error(CKR_ARGUMENTS_BAD, std::string("import: the key has no '") + param + "'");
  SecureBytes out(len);
  if (EVP_PKEY_get_octet_string_param(k, param, out.data(), out.size(), &len) != 1)
    return make_error(CKR_GENERAL_ERROR, std::string("import: cannot read '") + param + "'");
  out.resize(len);
  return out;
}

// The curve of an EC or Edwards key from FerroHSM's curve table.
Result<const mech::Curve*> curve_of(const EVP_PKEY* k, int base) {
  std::string name;
  if (base == EVP_PKEY_ED25519) name = "ED25519";
  else if (base == EVP_PKEY_ED448) name = "ED448";
  else {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
      return make_error(CKR_ARGUMENTS_BAD, "import: the EC key names no curve");
    name.assign(group, len);
  }
  const mech::Curve* c = mech::curve_by_ossl_name(name);
  if (c == nullptr)
    return make_error(CKR_CURVE_NOT_SUPPORTED, "import: curve " + name + " is not supported (P-256, P-384, P-521, "
                                                                           "Ed25519, Ed448)");
  return c;
}

// Class, key type and public material; `priv` also gets the private material. No usages:
// the caller chooses them.
Status key_attributes(const EVP_PKEY* k, AttrMap& pub, AttrMap* priv, std::string& kind) {
  const int base = EVP_PKEY_get_base_id(k);
  CK_KEY_TYPE kt = base == EVP_PKEY_RSA ? CKK_RSA : base == EVP_PKEY_EC ? CKK_EC : CKK_EC_EDWARDS;
  if (base != EVP_PKEY_RSA && base != EVP_PKEY_EC && base != EVP_PKEY_ED25519 && base != EVP_PKEY_ED448)
    return make_error(CKR_ARGUMENTS_BAD, std::string("import: key type ") + OBJ_nid2sn(base) +
                                             " is not supported (RSA, EC P-256/384/521, Ed25519, Ed448)");
  pub.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  pub.set_ulong(CKA_KEY_TYPE, kt);
  if (priv != nullptr) {
    priv->set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    priv->set_ulong(CKA_KEY_TYPE, kt);
  }
  if (kt == CKK_RSA) {
    kind = "rsa";
    FH_ASSIGN_OR_RETURN(SecureBytes n, bn_param(k, OSSL_PKEY_PARAM_RSA_N));
    FH_ASSIGN_OR_RETURN(SecureBytes e, bn_param(k, OSSL_PKEY_PARAM_RSA_E));
    pub.set(CKA_MODULUS, n);
    pub.set(CKA_PUBLIC_EXPONENT, e);
    if (priv == nullptr) return {};
    priv->set(CKA_MODULUS, std::move(n));
    priv->set(CKA_PUBLIC_EXPONENT, std::move(e));
    static constexpr std::pair<CK_ATTRIBUTE_TYPE, const char*> kParts[] = {
        {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},      {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
        {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},         {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2},    {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
    for (const auto& [attr, param] : kParts) {
      FH_ASSIGN_OR_RETURN(SecureBytes v, bn_param(k, param));
      priv->set(attr, std::move(v));
    }
    return {};
  }
  FH_ASSIGN_OR_RETURN(const mech::Curve* c, curve_of(k, base));
  pub.set(CKA_EC_PARAMS, c->oid_der);
  if (kt == CKK_EC) {
    kind = "ec";
    FH_ASSIGN_OR_RETURN(SecureBytes x, bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, c->field_bytes));
    FH_ASSIGN_OR_RETURN(SecureBytes y, bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, c->field_bytes));
    Bytes point{0x04};
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    pub.set(CKA_EC_POINT, mech::der_octet_string(point));
  } else {
    kind = "ec-edwards";
    FH_ASSIGN_OR_RETURN(SecureBytes raw, octet_param(k, OSSL_PKEY_PARAM_PUB_KEY));
    pub.set(CKA_EC_POINT, mech::der_octet_string(raw));
  }
  if (priv == nullptr) return {};
  priv->set(CKA_EC_PARAMS, c->oid_der);
  if (kt == CKK_EC) {
    FH_ASSIGN_OR_RETURN(SecureBytes d, bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, c->field_bytes));
    priv->set(CKA_VALUE, std::move(d));
  } else {
    FH_ASSIGN_OR_RETURN(SecureBytes d, octet_param(k, OSSL_PKEY_PARAM_PRIV_KEY));
    priv->set(CKA_VALUE, std::move(d));
  }
  return {};
}

template <typename T, typename F>
Bytes der_of(const T* v, F i2d) {
  int len = i2d(v, nullptr);
  if (len <= 0) return {};
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d(v, &p);
  return out;
}

Bytes spki_sha1(const EVP_PKEY* k) {
  Bytes spki = der_of(k, i2d_PUBKEY);
  Bytes md(20);
  unsigned int len = 0;
  if (spki.empty() || EVP_Digest(spki.data(), spki.size(), md.data(), &len, EVP_sha1(), nullptr) != 1) return {};
  md.resize(len);
  return md;
}

AttrMap certificate_attributes(const X509* c) {
  AttrMap a;
  a.set_ulong(CKA_CLASS, CKO_CERTIFICATE);
  a.set_ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  a.set_bool(CKA_PRIVATE, false);
  a.set(CKA_SUBJECT, der_of(X509_get_subject_name(c), i2d_X509_NAME));
  a.set(CKA_ISSUER, der_of(X509_get_issuer_name(c), i2d_X509_NAME));
  a.set(CKA_SERIAL_NUMBER, der_of(X509_get0_serialNumber(c), i2d_ASN1_INTEGER));
  a.set(CKA_VALUE, der_of(c, i2d_X509));
  return a;
}

}  // namespace

Result<ImportedObjects> decode_import(ByteView data, const std::string& name) {
  FH_ASSIGN_OR_RETURN(Decoded d, decode(data, name));
  ERR_clear_error();
  ImportedObjects out;
  std::string kt;
  if (d.cert) {
    out.kind = "certificate";
    out.objects.push_back(certificate_attributes(d.cert.get()));
    if (const EVP_PKEY* k = X509_get0_pubkey(d.cert.get())) out.default_id = spki_sha1(k);
    return out;
  }
  AttrMap pub;
  if (d.public_key) {
    FH_TRY(key_attributes(d.public_key.get(), pub, nullptr, kt));
    out.kind = "public key (" + kt + ")";
    out.default_id = spki_sha1(d.public_key.get());
    out.objects.push_back(std::move(pub));
    return out;
  }
  AttrMap priv;
  FH_TRY(key_attributes(d.private_key.get(), pub, &priv, kt));
  out.kind = "private key (" + kt + ")";
  out.default_id = spki_sha1(d.private_key.get());
  out.objects.push_back(std::move(priv));
  out.objects.push_back(std::move(pub));
  return out;
}

Result<ImportedObjects> decode_pkcs12(ByteView der, std::string_view password, const std::string& name) {
  auto parts = unpack_pkcs12(der, password);
  if (!parts) return make_error(parts.error().rv, "import: " + name + ": " + parts.error().message);
  if (parts->private_key.empty()) return bad(name, "the PKCS#12 holds no private key");
  Pkey key = der_private(parts->private_key);
  if (!key) return bad(name, "the PKCS#12's private key cannot be read");
  ImportedObjects out;
  AttrMap priv, pub;
  std::string kt;
  FH_TRY(key_attributes(key.get(), pub, &priv, kt));
  out.kind = "pkcs12 (" + kt + ")";
  out.default_id = spki_sha1(key.get());
  out.objects.push_back(std::move(priv));
  out.objects.push_back(std::move(pub));
  if (!parts->certificate.empty()) {
    Cert cert = der_cert(parts->certificate);
    if (!cert) return bad(name, "the PKCS#12's certificate cannot be read");
    out.objects.push_back(certificate_attributes(cert.get()));
  }
  for (const Bytes& c : parts->chain) {
    Cert cert = der_cert(c);
    if (!cert) return bad(name, "a certificate of the PKCS#12's chain cannot be read");
    AttrMap a = certificate_attributes(cert.get());
    if (const EVP_PKEY* k = X509_get0_pubkey(cert.get())) a.set(CKA_ID, spki_sha1(k));
    out.objects.push_back(std::move(a));
  }
  return out;
}

Result<ImportedObjects> read_import_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad(path, std::string("cannot be read: ") + std::strerror(errno));
  SecureBytes data;
  char buf[4096];
  while (in && data.size() <= kMaxFileBytes) {
    in.read(buf, sizeof buf);
    data.insert(data.end(), buf, buf + in.gcount());
  }
  secure_wipe(buf, sizeof buf);
  if (data.size() > kMaxFileBytes) return bad(path, "larger than 1 MiB");
  if (data.empty()) return bad(path, "is empty");
  return decode_import(data, path);
}

}  // namespace ferrohsm
