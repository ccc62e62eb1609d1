// key.h: builds a Key from an object's attributes (dispatching to the family files)
// and derives the public attributes and SubjectPublicKeyInfo of asymmetric keys.
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"

#include <openssl/x509.h>

namespace ferrohsm::mech {

Result<ByteView> required_attr(const AttrMap& attrs, CK_ATTRIBUTE_TYPE t, const char* name) {
  const SecureBytes* v = attrs.get(t);
  if (v == nullptr) return make_error(CKR_TEMPLATE_INCOMPLETE, std::string(name) + " is required");
  if (v->empty()) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, std::string(name) + " is empty");
  return ByteView(v->data(), v->size());
}

KeyPtr make_asym_key(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, EVP_PKEY* pkey, CK_ULONG bits) {
  auto key = std::make_shared<Key>();
  key->cls = cls;
  key->key_type = kt;
  key->pkey = pkey;
  key->bits = bits;
  return key;
}

Result<KeyPtr> key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  if (!attrs.has(CKA_KEY_TYPE)) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  std::optional<CK_ULONG> kt = attrs.get_ulong(CKA_KEY_TYPE);
  if (!kt) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_KEY_TYPE must be a CK_ULONG");
  const bool asym = cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY;
  if (!asym && cls != CKO_SECRET_KEY) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "not a key class");
  switch (*kt) {
    case CKK_RSA:
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
      if (!asym) return make_error(CKR_TEMPLATE_INCONSISTENT, "an asymmetric key type on a secret key");
      if (*kt == CKK_RSA) return rsa_key_from_attributes(cls, attrs);
      if (*kt == CKK_EC) return ec_key_from_attributes(cls, attrs);
      if (*kt == CKK_EC_MONTGOMERY) return montgomery_key_from_attributes(cls, attrs);
      return edwards_key_from_attributes(cls, attrs);
    case CKK_AES:
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC:
    case CKK_SHA3_224_HMAC:
    case CKK_SHA3_256_HMAC:
    case CKK_SHA3_384_HMAC:
    case CKK_SHA3_512_HMAC:
    case CKK_DES:
    case CKK_DES2:
    case CKK_DES3:
    case CKK_CHACHA20:
    case CKK_HKDF:
      if (asym) return make_error(CKR_TEMPLATE_INCONSISTENT, "a secret key type on a public or private key");
      return secret_key_from_attributes(*kt, attrs);
    default:
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "unsupported CKA_KEY_TYPE");
  }
}

Result<Bytes> public_key_info(const Key& key) {
  if (key.pkey == nullptr) return make_error(CKR_KEY_TYPE_INCONSISTENT, "not an asymmetric key");
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key.pkey, &der);
  if (n <= 0) return ossl_error(CKR_GENERAL_ERROR, "cannot encode the SubjectPublicKeyInfo");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<AttrMap> public_attributes_of(const Key& key) {
  AttrMap out;
  switch (key.key_type) {
    case CKK_RSA:
      FH_TRY(rsa_public_attributes(key, out));
      break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
      FH_TRY(ec_public_attributes(key, out));
      break;
    default:
      return make_error(CKR_KEY_TYPE_INCONSISTENT, "not an asymmetric key");
  }
  FH_ASSIGN_OR_RETURN(Bytes spki, public_key_info(key));
  out.set(CKA_PUBLIC_KEY_INFO, spki);
  return out;
}

}  // namespace ferrohsm::mech
