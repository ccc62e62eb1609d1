// One table of every attribute type FerroHSM knows: its name (for messages and
// logs) and how its value is encoded. An attribute not in it is
// CKR_ATTRIBUTE_TYPE_INVALID everywhere.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <string>

namespace ferrohsm {

enum class AttrKind { Unknown, Bool, Ulong, Bytes, Date, AttrArray, MechArray };

AttrKind attribute_kind(CK_ATTRIBUTE_TYPE t);
// "CKA_LABEL", or "0x…" for a type not in the table.
std::string attribute_name(CK_ATTRIBUTE_TYPE t);

}  // namespace ferrohsm
