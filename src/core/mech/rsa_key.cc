// RSA key material: import from CKA_MODULUS … CKA_COEFFICIENT (checked for
// consistency with cheap big-number identities), export of the public attributes,
// and CKM_RSA_PKCS_KEY_PAIR_GEN (kRsaMinBits to kRsaMaxBits). Import takes a wider
// range, so that a key made elsewhere can be stored; using one outside the
// mechanisms' range answers CKR_KEY_SIZE_RANGE.
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"
#include "core/mech/rsa_internal.h"

#include <openssl/rsa.h>

namespace ferrohsm::mech {
namespace {

constexpr int kMinImportBits = 512;
constexpr int kMaxImportBits = 16384;
constexpr int kMaxExponentBits = 64;  // OpenSSL refuses larger public exponents on big moduli

struct RsaNumbers {
  BnPtr n, e, d, p, q, dp, dq, qinv;
};

Error invalid(const char* what) { return make_error(CKR_ATTRIBUTE_VALUE_INVALID, what); }

Status check_exponent(const BIGNUM* e) {
  if (BN_is_odd(e) == 0 || BN_is_one(e) != 0)
    return invalid("CKA_PUBLIC_EXPONENT must be odd and at least 3");
  if (BN_num_bits(e) > kMaxExponentBits) return invalid("CKA_PUBLIC_EXPONENT is larger than 64 bits");
  return {};
}

Status check_public(const RsaNumbers& k) {
  int bits = BN_num_bits(k.n.get());
  if (bits < kMinImportBits || bits > kMaxImportBits) return invalid("CKA_MODULUS has an unsupported size");
  if (BN_is_odd(k.n.get()) == 0) return invalid("CKA_MODULUS is even");
  FH_TRY(check_exponent(k.e.get()));
  if (BN_cmp(k.e.get(), k.n.get()) >= 0) return invalid("CKA_PUBLIC_EXPONENT is not below the modulus");
  return {};
}

// Checks (or computes) one CRT exponent: x == d mod (prime - 1) and e·x == 1 mod (prime - 1).
Status crt_exponent(const RsaNumbers& k, const BIGNUM* prime, BnPtr& x, BN_CTX* ctx) {
  BnPtr pm1(BN_dup(prime)), want(BN_secure_new()), t(BN_secure_new());
  if (!pm1 || !want || !t || BN_sub_word(pm1.get(), 1) != 1 || BN_mod(want.get(), k.d.get(), pm1.get(), ctx) != 1)
    return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
  if (x && BN_cmp(x.get(), want.get()) != 0) return invalid("CKA_EXPONENT_1/2 does not match the private exponent");
  if (BN_mod_mul(t.get(), want.get(), k.e.get(), pm1.get(), ctx) != 1) return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
  if (BN_is_one(t.get()) == 0) return invalid("CKA_PRIVATE_EXPONENT does not match CKA_PUBLIC_EXPONENT");
  if (!x) x = std::move(want);
  return {};
}

Status check_private(RsaNumbers& k) {
  if (BN_is_zero(k.d.get()) != 0 || BN_cmp(k.d.get(), k.n.get()) >= 0)
    return invalid("CKA_PRIVATE_EXPONENT is out of range");
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
  if (!k.p && !k.q) {
    if (k.dp || k.dq || k.qinv) return invalid("RSA CRT values given without CKA_PRIME_1 and CKA_PRIME_2");
    // Without the primes: (2^e)^d == 2 mod n shows that d inverts e.
    BnPtr two(BN_new()), x(BN_secure_new());
    if (!two || !x || BN_set_word(two.get(), 2) != 1 ||
        BN_mod_exp(x.get(), two.get(), k.e.get(), k.n.get(), ctx.get()) != 1 ||
        BN_mod_exp_mont_consttime(x.get(), x.get(), k.d.get(), k.n.get(), ctx.get(), nullptr) != 1)
      return ossl_error(CKR_ATTRIBUTE_VALUE_INVALID, "RSA private key check failed");
    if (BN_cmp(x.get(), two.get()) != 0) return invalid("CKA_PRIVATE_EXPONENT does not match the public key");
    return {};
  }
  if (!k.p || !k.q) return invalid("RSA private key has only one of CKA_PRIME_1 / CKA_PRIME_2");
  BnPtr prod(BN_new());
  if (!prod || BN_mul(prod.get(), k.p.get(), k.q.get(), ctx.get()) != 1)
    return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
  if (BN_cmp(prod.get(), k.n.get()) != 0) return invalid("CKA_PRIME_1 × CKA_PRIME_2 is not CKA_MODULUS");
  FH_TRY(crt_exponent(k, k.p.get(), k.dp, ctx.get()));
  FH_TRY(crt_exponent(k, k.q.get(), k.dq, ctx.get()));
  BnPtr t(BN_secure_new());
  if (!t) return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
  if (k.qinv) {
    if (BN_mod_mul(t.get(), k.qinv.get(), k.q.get(), k.p.get(), ctx.get()) != 1)
      return ossl_error(CKR_HOST_MEMORY, "RSA check failed");
    if (BN_is_one(t.get()) == 0) return invalid("CKA_COEFFICIENT is not the inverse of CKA_PRIME_2 mod CKA_PRIME_1");
  } else {
    if (BN_mod_inverse(t.get(), k.q.get(), k.p.get(), ctx.get()) == nullptr)
      return ossl_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_PRIME_2 has no inverse mod CKA_PRIME_1");
    k.qinv = std::move(t);
  }
  return {};
}

Result<PkeyPtr> build_pkey(const RsaNumbers& k, bool priv) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return ossl_error(CKR_HOST_MEMORY, "OSSL_PARAM_BLD_new failed");
  bool ok = OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, k.n.get()) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, k.e.get()) == 1;
  if (priv) {
    ok = ok && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, k.d.get()) == 1;
    if (k.p) {
      ok = ok && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, k.p.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, k.q.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, k.dp.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, k.dq.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, k.qinv.get()) == 1;
    }
  }
  ParamsPtr params(ok ? OSSL_PARAM_BLD_to_param(bld.get()) : nullptr);
  if (!params) return ossl_error(CKR_HOST_MEMORY, "cannot build RSA parameters");
  return pkey_from_params("RSA", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get(),
                          CKR_ATTRIBUTE_VALUE_INVALID, "OpenSSL rejected the RSA key");
}

// Reads an optional big integer attribute; a present but empty value is invalid.
Status read_bn(const AttrMap& attrs, CK_ATTRIBUTE_TYPE t, const char* name, bool secret, BnPtr& out) {
  const SecureBytes* v = attrs.get(t);
  if (v == nullptr) return {};
  if (v->empty()) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, std::string(name) + " is empty");
  out = bn_from_bytes(*v, secret);
  if (!out) return ossl_error(CKR_HOST_MEMORY, "BN allocation failed");
  return {};
}

Status set_bn_attr(const EVP_PKEY* pkey, const char* param, AttrMap& out, CK_ATTRIBUTE_TYPE t) {
  FH_ASSIGN_OR_RETURN(BnPtr bn, pkey_bn_param(pkey, param));
  out.set(t, bn_to_bytes(bn.get()));
  return {};
}

}  // namespace

Result<KeyPtr> rsa_key_from_attributes(CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  const bool priv = cls == CKO_PRIVATE_KEY;
  FH_TRY(required_attr(attrs, CKA_MODULUS, "CKA_MODULUS"));
  FH_TRY(required_attr(attrs, CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT"));
  if (priv) FH_TRY(required_attr(attrs, CKA_PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT"));
  RsaNumbers k;
  FH_TRY(read_bn(attrs, CKA_MODULUS, "CKA_MODULUS", false, k.n));
  FH_TRY(read_bn(attrs, CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT", false, k.e));
  FH_TRY(check_public(k));
  if (priv) {
    FH_TRY(read_bn(attrs, CKA_PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT", true, k.d));
    FH_TRY(read_bn(attrs, CKA_PRIME_1, "CKA_PRIME_1", true, k.p));
    FH_TRY(read_bn(attrs, CKA_PRIME_2, "CKA_PRIME_2", true, k.q));
    FH_TRY(read_bn(attrs, CKA_EXPONENT_1, "CKA_EXPONENT_1", true, k.dp));
    FH_TRY(read_bn(attrs, CKA_EXPONENT_2, "CKA_EXPONENT_2", true, k.dq));
    FH_TRY(read_bn(attrs, CKA_COEFFICIENT, "CKA_COEFFICIENT", true, k.qinv));
    FH_TRY(check_private(k));
  }
  FH_ASSIGN_OR_RETURN(PkeyPtr pkey, build_pkey(k, priv));
  return make_asym_key(cls, CKK_RSA, pkey.release(), static_cast<CK_ULONG>(BN_num_bits(k.n.get())));
}

Status rsa_public_attributes(const Key& key, AttrMap& out) {
  FH_TRY(set_bn_attr(key.pkey, OSSL_PKEY_PARAM_RSA_N, out, CKA_MODULUS));
  FH_TRY(set_bn_attr(key.pkey, OSSL_PKEY_PARAM_RSA_E, out, CKA_PUBLIC_EXPONENT));
  return {};
}

Result<GeneratedKeyPair> rsa_generate_key_pair(const CK_MECHANISM& mech, const AttrMap& pub, const AttrMap&) {
  FH_TRY(no_mech_param(mech));
  if (!pub.has(CKA_MODULUS_BITS))
    return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_MODULUS_BITS is required in the public key template");
  std::optional<CK_ULONG> bits = pub.get_ulong(CKA_MODULUS_BITS);
  if (!bits) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_MODULUS_BITS must be a CK_ULONG");
  if (*bits < kRsaMinBits || *bits > kRsaMaxBits)
    return make_error(CKR_KEY_SIZE_RANGE, "CKA_MODULUS_BITS must be between " + std::to_string(kRsaMinBits) +
                                              " and " + std::to_string(kRsaMaxBits));
  BnPtr e;
  if (pub.has(CKA_PUBLIC_EXPONENT)) {
    FH_TRY(read_bn(pub, CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT", false, e));
    FH_TRY(check_exponent(e.get()));
  } else {
    e.reset(BN_new());
    if (!e || BN_set_word(e.get(), RSA_F4) != 1) return ossl_error(CKR_HOST_MEMORY, "BN allocation failed");
  }
  PkeyCtxPtr ctx = provider_pkey_ctx("RSA");  // not an ENGINE's (ossl.h)
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(*bits)) != 1 ||
      EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "RSA key generation failed");
  PkeyPtr pkey(raw);

  GeneratedKeyPair kp;
  kp.public_attrs.set_ulong(CKA_KEY_TYPE, CKK_RSA);
  kp.private_attrs.set_ulong(CKA_KEY_TYPE, CKK_RSA);
  struct Part {
    const char* param;
    CK_ATTRIBUTE_TYPE attr;
    bool is_public;
  };
  static constexpr Part kParts[] = {
      {OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS, true},
      {OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT, true},
      {OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT, false},
      {OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1, false},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2, false},
      {OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1, false},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2, false},
      {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT, false},
  };
  for (const Part& part : kParts) {
    FH_TRY(set_bn_attr(pkey.get(), part.param, kp.private_attrs, part.attr));
    if (part.is_public) kp.public_attrs.set(part.attr, kp.private_attrs.view(part.attr));
  }
  const auto n_bits = static_cast<CK_ULONG>(EVP_PKEY_get_bits(pkey.get()));
  kp.public_attrs.set_ulong(CKA_MODULUS_BITS, n_bits);
  kp.private_key = make_asym_key(CKO_PRIVATE_KEY, CKK_RSA, pkey.release(), n_bits);
  FH_ASSIGN_OR_RETURN(Bytes spki, public_key_info(*kp.private_key));  // encoded once, for both halves
  kp.public_attrs.set(CKA_PUBLIC_KEY_INFO, spki);
  kp.private_attrs.set(CKA_PUBLIC_KEY_INFO, spki);
  return kp;
}

}  // namespace ferrohsm::mech
