// The keystore's hardening rules ([hardening] in ferrohsm.toml, docs/HARDENING.md):
// named rules, each on by default and each switchable, that stop the known PKCS#11
// API-level attacks (Clulow 2003; the Caml Crush filter's patches) beyond what the
// specification itself requires, and the `strict` profile (FIPS-style: only approved
// algorithms and sizes). Every check here answers the spec's code for the call it is
// made in; the caller says which call that is.
#pragma once

#include "core/attributes.h"
#include "core/mech/registry.h"

namespace ferrohsm {

struct Hardening {
  enum class Profile { Default, Strict };
  Profile profile = Profile::Default;
  // A secret key may not both wrap and decrypt, nor both unwrap and encrypt; a private
  // key may not both decrypt and unwrap.
  bool wrap_xor_decrypt = true;
  // CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP of a secret or private key only go
  // from true to false after creation (C_SetAttributeValue, C_CopyObject). The spec's
  // own one-way attributes (CKA_SENSITIVE, CKA_EXTRACTABLE …) hold whatever this says.
  bool sticky_attributes = true;
  // C_WrapKey refuses a wrapping key weaker (in security bits) than the key it wraps.
  bool no_weaker_wrapping = true;
  // An unwrapped or derived key can never be CKA_TRUSTED (not even for the SO).
  bool unwrapped_not_local = true;
  // A key made outside the token (CKA_LOCAL false: imported, unwrapped, derived) may
  // wrap a sensitive key only if the SO marked it CKA_TRUSTED.
  bool untrusted_unwrapped = true;
  // A private key may not sign and also unwrap or derive (and, under the strict profile,
  // decrypt: SP 800-57 §5.2, one key, one purpose).
  bool conflicting_usages = true;

  bool strict() const { return profile == Profile::Strict; }
};

// How a new key's attributes came to be: the rules differ by origin.
enum class KeyOrigin { Created, Generated, Copied, Unwrapped, Derived };

// The keystore's defaults give a key every usage the template leaves out (a token's
// choice, PKCS#11 3.0 §4.9). With the combination rules on, a usage the template does
// not name defaults to false where it would complete a forbidden pair: a secret key
// made for wrapping does not encrypt or decrypt and one made for encryption does not
// wrap or unwrap (with no usage named: it encrypts and decrypts); a private key made
// for signing does not unwrap or derive (nor, strict, decrypt), and the reverse (with
// none named: it signs, except a Montgomery key, which only derives), and one that
// decrypts does not unwrap. Returns the template with those defaults made explicit, for the object layer
// to complete. Only keys are touched; `cls` is the class the call makes.
AttrMap harden_defaults(const Hardening& h, CK_OBJECT_CLASS cls, AttrMap tmpl);

// A new object's complete attributes (after the object layer filled them in), before it
// is stored: the usage-combination rules (CKR_TEMPLATE_INCONSISTENT), CKA_TRUSTED on an
// unwrapped or derived key (CKR_ATTRIBUTE_READ_ONLY) and, under the strict profile,
// approved key sizes (generated: CKR_KEY_SIZE_RANGE; otherwise CKR_TEMPLATE_INCONSISTENT)
// and curves (CKR_CURVE_NOT_SUPPORTED).
Status check_new_object(const Hardening& h, const AttrMap& attrs, KeyOrigin origin);

// C_SetAttributeValue (`copy` false) or C_CopyObject (`copy` true): `before` is the
// object as stored, `after` what the call would make of it. Sticky usages answer
// CKR_ATTRIBUTE_READ_ONLY; a forbidden combination CKR_TEMPLATE_INCONSISTENT.
Status check_changed_object(const Hardening& h, const AttrMap& before, const AttrMap& after, bool copy);

// Every use of a stored key (each *Init, wrap, unwrap, derive): a key that breaks the
// combination rules — one from an older store, say — is refused
// (CKR_KEY_FUNCTION_NOT_PERMITTED), whichever of its usages is asked for; under the
// strict profile a key on an unapproved curve is refused (CKR_KEY_TYPE_INCONSISTENT).
Status check_key_use(const Hardening& h, const AttrMap& key);

// C_WrapKey, after the spec's own checks: no_weaker_wrapping and untrusted_unwrapped,
// for a sensitive key (one that is not can be read anyway), both answered with CKR_KEY_NOT_WRAPPABLE ("the token can only wrap a given key with
// certain … keys"). `wrapping_bits` and `target_bits` are mech::Key::bits.
Status check_wrap(const Hardening& h, const AttrMap& wrapping, CK_ULONG wrapping_bits, const AttrMap& target,
                  CK_ULONG target_bits);

// The security strength of a key in bits (SP 800-57 Part 1 rev 5, Table 2): AES-128
// 128, 3DES 112, 2-key 3DES 80, DES 56, RSA-2048 112, RSA-3072 128, P-256 128 …
// `bits` is mech::Key::bits (bytes for secret keys).
unsigned security_strength(const AttrMap& key, CK_ULONG bits);

// The mechanisms the keystore offers under this configuration: the whole registry, or
// the strict profile's (mech/strict_profile.cc).
const mech::Registry& registry_for(const Hardening& h);

}  // namespace ferrohsm

namespace ferrohsm::mech {
// The strict profile's registry: the approved mechanisms of Registry::global(), with
// ulMinKeySize raised and unapproved uses (SHA-1 signing, 3DES encryption,
// unauthenticated wrapping) taken off the entries that keep their other uses.
const Registry& strict_registry();
// Whether a key on this curve (CKA_EC_PARAMS) is approved under the strict profile.
bool strict_curve(ByteView ec_params);
// The smallest approved RSA modulus under the strict profile.
inline constexpr CK_ULONG kStrictRsaMinBits = 2048;
}  // namespace ferrohsm::mech
