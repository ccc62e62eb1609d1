// The attribute rules of the PKCS#11 object model, as data: for each object class
// (and key or certificate type) the attributes it may have, with the flags of the
// specification's footnotes — required on create, never on create, required or
// never on generate, sensitive, modifiable, may only become true/false, SO-only —
// and the default. object_policy.cc applies them; nothing else decides.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <vector>

namespace ferrohsm {

enum RuleFlag : unsigned {
  kReqCreate = 1u << 0,   // footnote 1: must be given to C_CreateObject
  kReadOnly = 1u << 1,    // footnote 2 (never given by the caller): set by the token
  kReqGen = 1u << 2,      // footnote 3: must be given when generated
  kNoGen = 1u << 3,       // footnote 4: must not be given when generated (key material)
  kSensitive = 1u << 4,   // footnote 7: not revealed when sensitive or unextractable
  kModifiable = 1u << 5,  // footnote 8: C_SetAttributeValue / C_CopyObject may change it
  kSoOnly = 1u << 6,      // footnote 10: only the SO may set it to true
  kOnlyToTrue = 1u << 7,  // footnote 11
  kOnlyToFalse = 1u << 8, // footnote 12
  kCopyMay = 1u << 9,     // C_CopyObject may change it (CKA_TOKEN, CKA_PRIVATE …)
};

enum class Default { None, False, True, Empty, Zero, Unavailable };

struct AttrRule {
  CK_ATTRIBUTE_TYPE type;
  unsigned flags;
  Default dflt;
};

// The rules for an object of `cls` with `subtype` (CKA_KEY_TYPE for keys,
// CKA_CERTIFICATE_TYPE for certificates, ignored for data); nullptr when FerroHSM
// does not support that kind of object.
const std::vector<AttrRule>* rules_for(CK_OBJECT_CLASS cls, CK_ULONG subtype);

const AttrRule* find_rule(const std::vector<AttrRule>& rules, CK_ATTRIBUTE_TYPE t);

}  // namespace ferrohsm
