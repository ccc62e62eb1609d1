// Applying the attribute rules: completing a caller's template into a whole object
// on create, generate and copy, checking C_SetAttributeValue, and deciding what
// C_GetAttributeValue may reveal. Every spec code about templates comes from here.
#pragma once

#include "core/attributes.h"
#include "core/mech/registry.h"

namespace ferrohsm {


// C_CreateObject: checks the template against the class rules, applies defaults,
// validates key material (through the mechanism layer) and adds the attributes the
// token sets (CKA_LOCAL, CKA_KEY_GEN_MECHANISM, CKA_ALWAYS_SENSITIVE …). `so` is
// true when the SO is logged in (CKA_TRUSTED). CKA_UNIQUE_ID is added by the caller.
Result<AttrMap> complete_created(const AttrMap& tmpl, bool so);

// C_GenerateKey / C_GenerateKeyPair: one half at a time. `material` is what the
// mechanism produced (class and key type included). `derived_included`: the material
// already holds what follows from it (CKA_PUBLIC_KEY_INFO, CKA_EC_POINT,
// CKA_MODULUS_BITS: mech::GeneratedKeyPair), so the key is not rebuilt to derive it.
// Both maps are taken (their values move into the object's, none is copied).
Result<AttrMap> complete_generated(CK_OBJECT_CLASS cls, AttrMap tmpl, AttrMap material, CK_MECHANISM_TYPE mechanism,
                                   bool so, bool derived_included = false);

// Checks a caller's generation template before any key is made: class/key type
// consistent with the mechanism, no key material, no read-only attribute.
Status check_generate_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type, const AttrMap& tmpl, bool so);

// C_UnwrapKey and C_DeriveKey: a secret key from `value` (the unwrapped or derived
// bytes) and the caller's template (CKA_CLASS must be CKO_SECRET_KEY if given;
// CKA_KEY_TYPE required). For a derived key `base` is the base key's attributes:
// CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE follow it; an unwrapped key has
// both false. CKA_LOCAL is false and CKA_KEY_GEN_MECHANISM unavailable for both.
Result<AttrMap> complete_secret_from_value(const AttrMap& tmpl, ByteView value, const AttrMap* base, bool so);

// C_SetAttributeValue: returns the object's new attributes.
Result<AttrMap> apply_set(const AttrMap& current, const AttrMap& changes, bool so);

// C_CopyObject: returns the copy's attributes (CKA_UNIQUE_ID removed, the caller adds a new one).
Result<AttrMap> apply_copy(const AttrMap& current, const AttrMap& changes, bool so);

enum class Reveal { Ok, Sensitive, Invalid };
Reveal can_reveal(const AttrMap& object, CK_ATTRIBUTE_TYPE t);

// Whether the store must seal this attribute's value: key material that is
// sensitive by rule, and the CKA_VALUE of private data objects.
bool must_seal(const AttrMap& object, CK_ATTRIBUTE_TYPE t);

CK_OBJECT_CLASS object_class(const AttrMap& a);
CK_ULONG object_subtype(const AttrMap& a);  // key type, certificate type, or 0

}  // namespace ferrohsm
