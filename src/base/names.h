// The one table of PKCS#11 names: return codes (CKR_*), mechanisms (CKM_*) and
// attribute types (CKA_*, with how each value is encoded). Every part prints and
// parses names through these; an unknown code prints as hex.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <optional>
#include <string>
#include <string_view>

namespace ferrohsm {

// "CKR_PIN_INCORRECT"; an unknown code as "CKR_0x…" (never nullptr).
const char* rv_name(CK_RV rv);
// The code of "CKR_PIN_INCORRECT" (exact spelling); nullopt for a name not in the table.
std::optional<CK_RV> rv_from_name(std::string_view name);

// "CKM_ECDSA_SHA256"; an unknown mechanism as "0x…".
std::string mechanism_name(CK_MECHANISM_TYPE type);
// Accepts "CKM_SHA256_RSA_PKCS", "SHA256_RSA_PKCS" and pkcs11-tool's "SHA256-RSA-PKCS",
// in any case.
std::optional<CK_MECHANISM_TYPE> mechanism_from_name(std::string_view name);

// "CKO_PRIVATE_KEY"; an unknown class as "CKO_0x…".
std::string object_class_name(CK_OBJECT_CLASS c);

enum class AttrKind { Unknown, Bool, Ulong, Bytes, Date, AttrArray, MechArray };

// How an attribute's value is encoded; Unknown for a type not in the table (which is
// CKR_ATTRIBUTE_TYPE_INVALID everywhere).
AttrKind attribute_kind(CK_ATTRIBUTE_TYPE t);
// "CKA_LABEL", or "attribute 0x…" for a type not in the table.
std::string attribute_name(CK_ATTRIBUTE_TYPE t);

}  // namespace ferrohsm
