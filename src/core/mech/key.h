// A key as the mechanisms use it: built once from an object's attributes (after
// login, the sealed values already opened) and then shared, immutable, by every
// operation on that key. Asymmetric keys hold an OpenSSL EVP_PKEY; secret keys hold
// their bytes in wiped memory.
#pragma once

#include "core/attributes.h"

#include <openssl/evp.h>

#include <memory>

namespace ferrohsm::mech {

struct Key {
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
  EVP_PKEY* pkey = nullptr;  // owned; set for CKO_PUBLIC_KEY / CKO_PRIVATE_KEY
  SecureBytes secret;        // set for CKO_SECRET_KEY
  // The key size as CK_MECHANISM_INFO counts it: RSA modulus bits; EC field bits
  // (256 / 384 / 521); Ed25519 255, Ed448 448; secret keys (AES, generic, HMAC): BYTES.
  CK_ULONG bits = 0;

  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() { EVP_PKEY_free(pkey); }
};

using KeyPtr = std::shared_ptr<const Key>;

// Builds the OpenSSL form of a key object from its attributes; checks that the
// material is complete and consistent (CKR_TEMPLATE_INCOMPLETE,
// CKR_ATTRIBUTE_VALUE_INVALID). Used for imported keys (C_CreateObject) and for
// stored keys when first used.
Result<KeyPtr> key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs);

// The one length (bytes) a secret key type allows — DES 8, DES2 16, DES3 24,
// ChaCha20 32 — or 0 when it allows several (AES) or any (generic secrets, HMAC keys).
size_t secret_key_fixed_length(CK_KEY_TYPE type);

// DER SubjectPublicKeyInfo of an asymmetric key (CKA_PUBLIC_KEY_INFO).
Result<Bytes> public_key_info(const Key& key);

// The public-key attributes that follow from a private key's material: for RSA
// CKA_MODULUS and CKA_PUBLIC_EXPONENT, for EC/Edwards/Montgomery CKA_EC_PARAMS and
// CKA_EC_POINT, plus CKA_PUBLIC_KEY_INFO. Used to complete imported private keys and
// to build the public half.
Result<AttrMap> public_attributes_of(const Key& key);

}  // namespace ferrohsm::mech
