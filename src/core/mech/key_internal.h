// Internal to src/core/mech: the per-family halves of key.h (import from
// attributes, export of public attributes) and the key generators the family files
// register. key_material.cc dispatches on the key type.
#pragma once

#include "core/mech/curves.h"
#include "core/mech/key.h"
#include "core/mech/registry.h"

namespace ferrohsm::mech {

// An attribute that must be present and non-empty, else CKR_TEMPLATE_INCOMPLETE.
Result<ByteView> required_attr(const AttrMap& attrs, CK_ATTRIBUTE_TYPE t, const char* name);
// Wraps a freshly built EVP_PKEY into a shared Key.
KeyPtr make_asym_key(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, EVP_PKEY* pkey, CK_ULONG bits);

// rsa_key.cc
Result<KeyPtr> rsa_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs);
Status rsa_public_attributes(const Key& key, AttrMap& out);
Result<GeneratedKeyPair> rsa_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap& priv);

// ec_key.cc (CKK_EC) and edwards_key.cc (CKK_EC_EDWARDS)
Result<KeyPtr> ec_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs);
Result<KeyPtr> edwards_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs);
Result<KeyPtr> montgomery_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs);
// CKA_EC_PARAMS (canonical OID) and CKA_EC_POINT (DER OCTET STRING) of either kind.
Status ec_public_attributes(const Key& key, AttrMap& out);
Result<GeneratedKeyPair> ec_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap& priv);
Result<GeneratedKeyPair> edwards_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub,
                                                   const AttrMap& priv);
Result<GeneratedKeyPair> montgomery_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub,
                                                      const AttrMap& priv);
// Sets CKA_EC_PARAMS (canonical OID) and CKA_EC_POINT of `pkey` on `out`.
Status put_ec_public(const EVP_PKEY* pkey, const Curve& c, AttrMap& out);
// The curve of an EC or Edwards key (from its OpenSSL group / type name).
const Curve* key_curve(const Key& key);

// secret_key.cc
Result<KeyPtr> secret_key_from_attributes(CK_KEY_TYPE kt, const AttrMap& attrs);
Result<AttrMap> aes_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl);
Result<AttrMap> generic_secret_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl);
// A random secret of `len` bytes as the attributes of a generated key of type `kt`.
Result<AttrMap> random_secret_key(CK_KEY_TYPE kt, CK_ULONG len);
// The template's CKA_VALUE_LEN (CKR_TEMPLATE_INCOMPLETE when absent).
Result<CK_ULONG> template_value_len(const AttrMap& tmpl);

}  // namespace ferrohsm::mech
