#include "core/hardening.h"

#include "base/names.h"
#include "core/mech/curves.h"

namespace ferrohsm {
namespace {

bool is_key(CK_OBJECT_CLASS c) { return c == CKO_SECRET_KEY || c == CKO_PRIVATE_KEY || c == CKO_PUBLIC_KEY; }

// The first pair of usages `a` holds that the enabled rules forbid together, as a
// message; empty when there is none. Public keys have no such pair: what a public key
// does (encrypt, wrap, verify) anyone can do outside the token with its value.
std::string forbidden_pair(const Hardening& h, const AttrMap& a) {
  const CK_OBJECT_CLASS cls = a.get_ulong(CKA_CLASS).value_or(CKO_DATA);
  auto both = [&](CK_ATTRIBUTE_TYPE x, CK_ATTRIBUTE_TYPE y) { return a.get_bool_or(x, false) && a.get_bool_or(y, false); };
  auto name = [](CK_ATTRIBUTE_TYPE x, CK_ATTRIBUTE_TYPE y) { return attribute_name(x) + " with " + attribute_name(y); };
  if (h.wrap_xor_decrypt) {
    // Wrap a sensitive key, then decrypt the blob (Clulow 2003, §2.1); encrypt a chosen
    // value, then unwrap it as a key of known value.
    // A key whose value can be read (not sensitive) that was made off the token
    // (created, unwrapped, derived) and is not CKA_TRUSTED never wraps a sensitive key
    // while untrusted_unwrapped is on (check_wrap); what it can wrap or decrypt anyone can
    // already read. pkcs11-tool derives every ECDH secret so (wrap, decrypt, readable).
    // Once the SO trusts such a key, its next use is refused here (check_key_use).
    const bool exposes_nothing = h.untrusted_unwrapped && !a.get_bool_or(CKA_SENSITIVE, false) &&
                                 !a.get_bool_or(CKA_LOCAL, false) && !a.get_bool_or(CKA_TRUSTED, false);
    if (cls == CKO_SECRET_KEY && !exposes_nothing) {
      if (both(CKA_WRAP, CKA_DECRYPT)) return name(CKA_WRAP, CKA_DECRYPT);
      if (both(CKA_UNWRAP, CKA_ENCRYPT)) return name(CKA_UNWRAP, CKA_ENCRYPT);
    }
    // The public half wraps (in the token or outside it); the private half must then
    // not decrypt what it could unwrap.
    if (cls == CKO_PRIVATE_KEY && both(CKA_UNWRAP, CKA_DECRYPT)) return name(CKA_UNWRAP, CKA_DECRYPT);
  }
  if (h.conflicting_usages && cls == CKO_PRIVATE_KEY) {
    // A raw RSA signature (CKM_RSA_X_509) is a decryption: a key that signs and unwraps
    // hands out, as a "signature", any key wrapped under its public half. Signing and
    // decrypting together expose nothing C_Decrypt does not, and signing and deriving
    // mix two protocols on one secret without a known attack; mainstream clients make
    // both (RSA sign+decrypt; pkcs11-tool, NSS and p11tool EC sign+derive): only the
    // strict profile refuses them (SP 800-57 §5.2, one key for one purpose).
    for (CK_ATTRIBUTE_TYPE other : {CKA_UNWRAP, CKA_DERIVE, CKA_DECRYPT}) {
      if (other != CKA_UNWRAP && !h.strict()) continue;
      for (CK_ATTRIBUTE_TYPE sign : {CKA_SIGN, CKA_SIGN_RECOVER})
        if (both(sign, other)) return name(sign, other);
    }
  }
  return {};
}

// The strict profile's sizes and curves for a new key.
Status check_strict(const AttrMap& a, KeyOrigin origin) {
  const CK_KEY_TYPE kt = a.get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  if (kt == CKK_RSA) {
    CK_ULONG bits = a.get_ulong(CKA_MODULUS_BITS).value_or(0);
    if (bits == 0) bits = a.view(CKA_MODULUS).size() * 8;
    if (bits < mech::kStrictRsaMinBits) {
      const CK_RV rv = origin == KeyOrigin::Generated ? CKR_KEY_SIZE_RANGE : CKR_TEMPLATE_INCONSISTENT;
      return make_error(rv, "the strict profile needs RSA keys of at least 2048 bits");
    }
  }
  if ((kt == CKK_EC || kt == CKK_EC_MONTGOMERY || kt == CKK_EC_EDWARDS) && a.has(CKA_EC_PARAMS)) {
    if (!mech::strict_curve(a.view(CKA_EC_PARAMS)))
      return make_error(CKR_CURVE_NOT_SUPPORTED, "the strict profile allows P-256, P-384, P-521, Ed25519 and Ed448");
  }
  if (kt == CKK_DES || kt == CKK_DES2 || kt == CKK_DES3 || kt == CKK_CHACHA20)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "the strict profile allows no new DES, 3DES or ChaCha20 keys");
  if (kt == CKK_GENERIC_SECRET && a.view(CKA_VALUE).size() < 14)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "the strict profile needs secrets of at least 112 bits");
  return {};
}

}  // namespace

AttrMap harden_defaults(const Hardening& h, CK_OBJECT_CLASS cls, AttrMap tmpl) {
  AttrMap out = std::move(tmpl);
  auto given_true = [&](CK_ATTRIBUTE_TYPE t) { return out.has(t) && out.get_bool_or(t, false); };
  auto default_false = [&](CK_ATTRIBUTE_TYPE t) {
    if (!out.has(t)) out.set_bool(t, false);
  };
  // One forbidden pair: when one of it is given true, the other defaults to false; when
  // neither is given, `loser` does.
  auto pair = [&](CK_ATTRIBUTE_TYPE a, CK_ATTRIBUTE_TYPE b, CK_ATTRIBUTE_TYPE loser) {
    if (out.has(a) && out.has(b)) return;
    if (given_true(a)) return default_false(b);
    if (given_true(b)) return default_false(a);
    if (!out.has(a) && !out.has(b)) default_false(loser);
  };
  if (cls == CKO_SECRET_KEY && h.wrap_xor_decrypt) {
    if (given_true(CKA_ENCRYPT) || given_true(CKA_DECRYPT)) {
      default_false(CKA_WRAP);
      default_false(CKA_UNWRAP);
    }
    if (given_true(CKA_WRAP) || given_true(CKA_UNWRAP)) {
      default_false(CKA_ENCRYPT);
      default_false(CKA_DECRYPT);
    }
    pair(CKA_WRAP, CKA_DECRYPT, CKA_WRAP);
    pair(CKA_UNWRAP, CKA_ENCRYPT, CKA_UNWRAP);
  }
  if (cls == CKO_PRIVATE_KEY && h.conflicting_usages) {
    if (out.get_ulong(CKA_KEY_TYPE) == CK_ULONG{CKK_EC_MONTGOMERY}) {  // it cannot sign
      default_false(CKA_SIGN);
      default_false(CKA_SIGN_RECOVER);
    }
    for (CK_ATTRIBUTE_TYPE other : {CKA_UNWRAP, CKA_DERIVE, CKA_DECRYPT}) {
      if (other != CKA_UNWRAP && !h.strict()) continue;  // as in forbidden_pair
      for (CK_ATTRIBUTE_TYPE sign : {CKA_SIGN, CKA_SIGN_RECOVER}) pair(sign, other, other);
    }
  }
  if (cls == CKO_PRIVATE_KEY && h.wrap_xor_decrypt) pair(CKA_UNWRAP, CKA_DECRYPT, CKA_UNWRAP);
  return out;
}

Status check_new_object(const Hardening& h, const AttrMap& a, KeyOrigin origin) {
  const CK_OBJECT_CLASS cls = a.get_ulong(CKA_CLASS).value_or(CKO_DATA);
  if (!is_key(cls)) return {};
  if (std::string pair = forbidden_pair(h, a); !pair.empty())
    return make_error(CKR_TEMPLATE_INCONSISTENT, "hardening: a key may not have " + pair);
  if (h.unwrapped_not_local && (origin == KeyOrigin::Unwrapped || origin == KeyOrigin::Derived) &&
      a.get_bool_or(CKA_TRUSTED, false))
    return make_error(CKR_ATTRIBUTE_READ_ONLY, "hardening: an unwrapped or derived key cannot be CKA_TRUSTED");
  if (h.strict()) FH_TRY(check_strict(a, origin));
  return {};
}

Status check_changed_object(const Hardening& h, const AttrMap& before, const AttrMap& after, bool copy) {
  const CK_OBJECT_CLASS cls = after.get_ulong(CKA_CLASS).value_or(CKO_DATA);
  if (!is_key(cls)) return {};
  if (h.sticky_attributes && cls != CKO_PUBLIC_KEY) {
    // Turning a usage on later is how the rules above are split over time: drop
    // CKA_DECRYPT, add CKA_WRAP, wrap, then swap back (Tookan's attacks, Bortolozzo et
    // al. 2010). Usages are chosen when the key is made and only ever taken away.
    for (CK_ATTRIBUTE_TYPE t : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP})
      if (!before.get_bool_or(t, false) && after.get_bool_or(t, false))
        return make_error(CKR_ATTRIBUTE_READ_ONLY, "hardening: " + attribute_name(t) + " can only become false" +
                                                       (copy ? " (also in a copy)" : ""));
  }
  // A stored key that has a forbidden pair already (from an older store) may still be
  // relabelled or have usages taken away: it stays unusable (check_key_use). A copy is a
  // new key and must obey.
  if (std::string pair = forbidden_pair(h, after); !pair.empty() && (copy || forbidden_pair(h, before).empty()))
    return make_error(CKR_TEMPLATE_INCONSISTENT, "hardening: a key may not have " + pair);
  return {};
}

Status check_key_use(const Hardening& h, const AttrMap& key) {
  if (std::string pair = forbidden_pair(h, key); !pair.empty())
    return make_error(CKR_KEY_FUNCTION_NOT_PERMITTED, "hardening: the key has " + pair + " and is not used");
  if (h.strict() && key.has(CKA_EC_PARAMS) && !mech::strict_curve(key.view(CKA_EC_PARAMS)))
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "the strict profile does not use keys on this curve");
  return {};
}

unsigned security_strength(const AttrMap& key, CK_ULONG bits) {
  const CK_KEY_TYPE kt = key.get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  switch (kt) {
    case CKK_DES: return 56;
    case CKK_DES2: return 80;
    case CKK_DES3: return 112;
    case CKK_AES:
    case CKK_CHACHA20:
    case CKK_GENERIC_SECRET: {
      // Secret keys count bytes; a generic secret (an HMAC or KDF key) gives at most 256.
      unsigned b = static_cast<unsigned>(bits) * 8;
      return b > 256 ? 256 : b;
    }
    case CKK_RSA:  // SP 800-57 Part 1 Table 2, integer-factorisation column
      return bits >= 15360 ? 256 : bits >= 7680 ? 192 : bits >= 3072 ? 128 : bits >= 2048 ? 112 : bits >= 1024 ? 80 : 0;
    case CKK_EC:  // half the field size: P-256 128, P-384 192, P-521 256
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY: {
      unsigned b = static_cast<unsigned>(bits) / 2;
      return b >= 255 ? 256 : b >= 224 ? 224 : b >= 192 ? 192 : b >= 127 ? 128 : b;
    }
    default: return 0;
  }
}

Status check_wrap(const Hardening& h, const AttrMap& wrapping, CK_ULONG wrapping_bits, const AttrMap& target,
                  CK_ULONG target_bits) {
  // A key that is not sensitive can be read in clear (C_GetAttributeValue): wrapping it
  // under any key gives nothing away, so both rules protect sensitive keys only.
  if (!target.get_bool_or(CKA_SENSITIVE, false)) return {};
  if (h.untrusted_unwrapped && !wrapping.get_bool_or(CKA_LOCAL, false) && !wrapping.get_bool_or(CKA_TRUSTED, false))
    return make_error(CKR_KEY_NOT_WRAPPABLE,
                      "hardening: a sensitive key is only wrapped by a key made on the token or marked CKA_TRUSTED");
  if (h.no_weaker_wrapping) {
    const unsigned w = security_strength(wrapping, wrapping_bits), t = security_strength(target, target_bits);
    if (w < t)
      return make_error(CKR_KEY_NOT_WRAPPABLE, "hardening: the wrapping key (" + std::to_string(w) +
                                                   " bits of security) is weaker than the key (" + std::to_string(t) +
                                                   ")");
  }
  return {};
}

const mech::Registry& registry_for(const Hardening& h) {
  return h.strict() ? mech::strict_registry() : mech::Registry::global();
}

}  // namespace ferrohsm
