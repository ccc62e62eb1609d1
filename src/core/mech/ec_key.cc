// EC (Weierstrass, CKK_EC) key material: import from CKA_EC_PARAMS + CKA_EC_POINT /
// CKA_VALUE (the public point of a private key is computed from the scalar), export
// of CKA_EC_PARAMS / CKA_EC_POINT (shared with Edwards keys), CKM_EC_KEY_PAIR_GEN.
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <algorithm>

namespace ferrohsm::mech {
namespace {

Error invalid(std::string what) { return make_error(CKR_ATTRIBUTE_VALUE_INVALID, std::move(what)); }

Result<const Curve*> weierstrass_curve(ByteView ec_params, CK_RV wrong_kind_rv) {
  FH_ASSIGN_OR_RETURN(const Curve* c, curve_from_params(ec_params));
  if (c->key_type != CKK_EC)
    return make_error(wrong_kind_rv, "CKA_EC_PARAMS names an Edwards or Montgomery curve: use CKK_EC_EDWARDS / CKK_EC_MONTGOMERY");
  return c;
}

Result<EcGroupPtr> group_of(const Curve& c) {
  EcGroupPtr g(EC_GROUP_new_by_curve_name(OBJ_sn2nid(c.ossl_name)));
  if (!g) return ossl_error(CKR_GENERAL_ERROR, "cannot load the curve");
  return g;
}

// The uncompressed encoding of `p`.
Result<Bytes> encode_point(const EC_GROUP* g, const EC_POINT* p, BN_CTX* ctx) {
  size_t n = EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, ctx);
  Bytes out(n);
  if (n == 0 || EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, out.data(), n, ctx) != n)
    return ossl_error(CKR_GENERAL_ERROR, "cannot encode the EC point");
  return out;
}

// Decodes CKA_EC_POINT (wrapped or raw, on the curve) to its uncompressed encoding.
Result<Bytes> read_point(ByteView attr, const Curve& c, const EC_GROUP* g, BN_CTX* ctx) {
  FH_ASSIGN_OR_RETURN(ByteView raw, unwrap_ec_point(attr, c));
  EcPointPtr p(EC_POINT_new(g));
  if (!p || EC_POINT_oct2point(g, p.get(), raw.data(), raw.size(), ctx) != 1) {
    ossl_clear_errors();
    return invalid(std::string("CKA_EC_POINT is not a point of ") + std::string(c.names[0]));
  }
  return encode_point(g, p.get(), ctx);
}

}  // namespace

Result<KeyPtr> ec_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  const bool priv = cls == CKO_PRIVATE_KEY;
  FH_ASSIGN_OR_RETURN(ByteView params, required_attr(attrs, CKA_EC_PARAMS, "CKA_EC_PARAMS"));
  FH_ASSIGN_OR_RETURN(const Curve* c, weierstrass_curve(params, CKR_ATTRIBUTE_VALUE_INVALID));
  FH_ASSIGN_OR_RETURN(EcGroupPtr group, group_of(*c));
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) return ossl_error(CKR_HOST_MEMORY, "BN_CTX allocation failed");

  Bytes point;
  BnPtr d;
  if (!priv) {
    FH_ASSIGN_OR_RETURN(ByteView attr, required_attr(attrs, CKA_EC_POINT, "CKA_EC_POINT"));
    FH_ASSIGN_OR_RETURN(point, read_point(attr, *c, group.get(), ctx.get()));
  } else {
    FH_ASSIGN_OR_RETURN(ByteView value, required_attr(attrs, CKA_VALUE, "CKA_VALUE"));
    d = bn_from_bytes(value, true);
    if (!d) return ossl_error(CKR_HOST_MEMORY, "BN allocation failed");
    BN_set_flags(d.get(), BN_FLG_CONSTTIME);
    if (BN_is_zero(d.get()) != 0 || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0)
      return invalid("CKA_VALUE is not a private scalar of the curve");
    EcPointPtr pub(EC_POINT_new(group.get()));
    if (!pub || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, ctx.get()) != 1)
      return ossl_error(CKR_GENERAL_ERROR, "cannot compute the public point");
    FH_ASSIGN_OR_RETURN(point, encode_point(group.get(), pub.get(), ctx.get()));
    if (attrs.has(CKA_EC_POINT)) {  // some clients store it on the private key: it must agree
      FH_ASSIGN_OR_RETURN(Bytes given, read_point(attrs.view(CKA_EC_POINT), *c, group.get(), ctx.get()));
      if (given != point) return invalid("CKA_EC_POINT does not match CKA_VALUE");
    }
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  bool ok = bld && OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_name, 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1 &&
            (!priv || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) == 1);
  ParamsPtr ossl_params(ok ? OSSL_PARAM_BLD_to_param(bld.get()) : nullptr);
  if (!ossl_params) return ossl_error(CKR_HOST_MEMORY, "cannot build EC parameters");
  FH_ASSIGN_OR_RETURN(PkeyPtr pkey, pkey_from_params("EC", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                                                     ossl_params.get(), CKR_ATTRIBUTE_VALUE_INVALID,
                                                     "OpenSSL rejected the EC key"));
  return make_asym_key(cls, CKK_EC, pkey.release(), c->bits);
}

Status put_ec_public(const EVP_PKEY* pkey, const Curve& c, AttrMap& out) {
  // One call into a buffer of the largest encoding (an EC point: uncompressed; Edwards,
  // Montgomery: the raw key): each call converts the point to affine coordinates.
  Bytes raw(c.key_type == CKK_EC ? 1 + 2 * c.field_bytes : c.field_bytes);
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, raw.data(), raw.size(), &len) != 1)
    return ossl_error(CKR_GENERAL_ERROR, "cannot read the public key");
  raw.resize(len);
  out.set(CKA_EC_PARAMS, c.oid_der);
  out.set(CKA_EC_POINT, der_octet_string(raw));
  return {};
}

Status ec_public_attributes(const Key& key, AttrMap& out) {
  const Curve* c = key_curve(key);
  if (c == nullptr) return make_error(CKR_GENERAL_ERROR, "key of an unknown curve");
  return put_ec_public(key.pkey, *c, out);
}

const Curve* key_curve(const Key& key) {
  if (key.key_type != CKK_EC) return curve_by_bits(key.key_type, key.bits);
  char name[80];
  size_t len = 0;
  if (key.pkey == nullptr ||
      EVP_PKEY_get_utf8_string_param(key.pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    ossl_clear_errors();
    return nullptr;
  }
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(name);
  return curve_by_nid(nid);
}

Result<GeneratedKeyPair> ec_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap&) {
  FH_TRY(no_mech_param(mech));
  FH_ASSIGN_OR_RETURN(ByteView params, required_attr(pub, CKA_EC_PARAMS, "CKA_EC_PARAMS"));
  FH_ASSIGN_OR_RETURN(const Curve* c, weierstrass_curve(params, CKR_CURVE_NOT_SUPPORTED));
  FH_ASSIGN_OR_RETURN(PkeyPtr pkey, generate_pkey("EC", c->ossl_name));
  FH_ASSIGN_OR_RETURN(BnPtr d, pkey_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY));

  GeneratedKeyPair kp;
  FH_TRY(put_ec_public(pkey.get(), *c, kp.public_attrs));
  FH_ASSIGN_OR_RETURN(ByteView point, unwrap_ec_point(kp.public_attrs.view(CKA_EC_POINT), *c));
  const Bytes spki = subject_public_key_info(*c, point);
  for (AttrMap* m : {&kp.public_attrs, &kp.private_attrs}) {
    m->set_ulong(CKA_KEY_TYPE, CKK_EC);
    m->set(CKA_EC_PARAMS, params);  // the caller's encoding, as given
    m->set(CKA_PUBLIC_KEY_INFO, spki);
  }
  kp.private_attrs.set(CKA_EC_POINT, kp.public_attrs.view(CKA_EC_POINT));
  kp.private_attrs.set(CKA_VALUE, bn_to_bytes(d.get(), c->field_bytes));
  kp.private_key = make_asym_key(CKO_PRIVATE_KEY, CKK_EC, pkey.release(), c->bits);
  return kp;
}

}  // namespace ferrohsm::mech
