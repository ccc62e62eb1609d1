// Edwards (CKK_EC_EDWARDS: Ed25519, Ed448) and Montgomery (CKK_EC_MONTGOMERY:
// X25519, X448) key material — both raw byte strings in OpenSSL: import from
// CKA_EC_PARAMS + CKA_EC_POINT (raw public key, DER OCTET STRING or bare) /
// CKA_VALUE (raw private key), and CKM_EC_EDWARDS_KEY_PAIR_GEN /
// CKM_EC_MONTGOMERY_KEY_PAIR_GEN. Export is shared with EC (ec_key.cc).
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace ferrohsm::mech {
namespace {

Result<const Curve*> raw_curve(ByteView ec_params, CK_KEY_TYPE kt, CK_RV wrong_kind_rv) {
  FH_ASSIGN_OR_RETURN(const Curve* c, curve_from_params(ec_params));
  if (c->key_type != kt)
    return make_error(wrong_kind_rv, kt == CKK_EC_EDWARDS ? "CKA_EC_PARAMS does not name an Edwards curve (Ed25519, Ed448)"
                                                          : "CKA_EC_PARAMS does not name a Montgomery curve (X25519, X448)");
  return c;
}

Result<Bytes> raw_public(const EVP_PKEY* pkey, const Curve& c) {
  Bytes out(c.field_bytes);
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey, out.data(), &len) != 1 || len != out.size())
    return ossl_error(CKR_GENERAL_ERROR, "cannot read the raw public key");
  return out;
}

Result<KeyPtr> raw_key_from_attributes(CK_KEY_TYPE kt, CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  FH_ASSIGN_OR_RETURN(ByteView params, required_attr(attrs, CKA_EC_PARAMS, "CKA_EC_PARAMS"));
  FH_ASSIGN_OR_RETURN(const Curve* c, raw_curve(params, kt, CKR_ATTRIBUTE_VALUE_INVALID));
  if (cls == CKO_PUBLIC_KEY) {
    FH_ASSIGN_OR_RETURN(ByteView attr, required_attr(attrs, CKA_EC_POINT, "CKA_EC_POINT"));
    FH_ASSIGN_OR_RETURN(ByteView raw, unwrap_ec_point(attr, *c));
    FH_ASSIGN_OR_RETURN(PkeyPtr pub, raw_pkey(c->ossl_name, false, raw, CKR_ATTRIBUTE_VALUE_INVALID,
                                              "OpenSSL rejected the public key"));
    return make_asym_key(cls, kt, pub.release(), c->bits);
  }
  FH_ASSIGN_OR_RETURN(ByteView value, required_attr(attrs, CKA_VALUE, "CKA_VALUE"));
  if (value.size() != c->field_bytes)
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE has the wrong length for " + std::string(c->names[0]));
  FH_ASSIGN_OR_RETURN(PkeyPtr priv, raw_pkey(c->ossl_name, true, value, CKR_ATTRIBUTE_VALUE_INVALID,
                                             "OpenSSL rejected the private key"));
  KeyPtr key = make_asym_key(cls, kt, priv.release(), c->bits);
  if (attrs.has(CKA_EC_POINT)) {  // when stored on the private key it must agree
    FH_ASSIGN_OR_RETURN(ByteView given, unwrap_ec_point(attrs.view(CKA_EC_POINT), *c));
    FH_ASSIGN_OR_RETURN(Bytes derived, raw_public(key->pkey, *c));
    if (!std::ranges::equal(given, derived))
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_EC_POINT does not match CKA_VALUE");
  }
  return key;
}

Result<GeneratedKeyPair> raw_generate_key_pair(CK_KEY_TYPE kt, const CK_MECHANISM& mech, const AttrMap& pub) {
  FH_TRY(no_mech_param(mech));
  FH_ASSIGN_OR_RETURN(ByteView params, required_attr(pub, CKA_EC_PARAMS, "CKA_EC_PARAMS"));
  FH_ASSIGN_OR_RETURN(const Curve* c, raw_curve(params, kt, CKR_CURVE_NOT_SUPPORTED));
  FH_ASSIGN_OR_RETURN(PkeyPtr pkey, generate_pkey(c->ossl_name, nullptr));
  SecureBytes priv(c->field_bytes);
  size_t len = priv.size();
  if (EVP_PKEY_get_raw_private_key(pkey.get(), priv.data(), &len) != 1 || len != priv.size())
    return ossl_error(CKR_GENERAL_ERROR, "cannot read the raw private key");

  FH_ASSIGN_OR_RETURN(Bytes pub_raw, raw_public(pkey.get(), *c));

  GeneratedKeyPair kp;
  const Bytes spki = subject_public_key_info(*c, pub_raw);
  const Bytes point = der_octet_string(pub_raw);
  for (AttrMap* m : {&kp.public_attrs, &kp.private_attrs}) {
    m->set_ulong(CKA_KEY_TYPE, kt);
    m->set(CKA_EC_PARAMS, params);  // the caller's encoding, as given
    m->set(CKA_EC_POINT, point);
    m->set(CKA_PUBLIC_KEY_INFO, spki);
  }
  kp.private_attrs.set(CKA_VALUE, std::move(priv));
  kp.private_key = make_asym_key(CKO_PRIVATE_KEY, kt, pkey.release(), c->bits);
  return kp;
}

}  // namespace

Result<KeyPtr> edwards_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  return raw_key_from_attributes(CKK_EC_EDWARDS, cls, attrs);
}
Result<KeyPtr> montgomery_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  return raw_key_from_attributes(CKK_EC_MONTGOMERY, cls, attrs);
}
Result<GeneratedKeyPair> edwards_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap&) {
  return raw_generate_key_pair(CKK_EC_EDWARDS, mech, pub);
}
Result<GeneratedKeyPair> montgomery_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap&) {
  return raw_generate_key_pair(CKK_EC_MONTGOMERY, mech, pub);
}

}  // namespace ferrohsm::mech
