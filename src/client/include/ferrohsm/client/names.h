// The client's error helpers. PKCS#11 names come from the one table in base/names.h.
#pragma once

#include "base/names.h"
#include <ferrohsm/client/result.h>

#include <optional>
#include <string>
#include <string_view>

namespace ferrohsm::client {

using ::ferrohsm::mechanism_from_name;  // the tables are base/names.h's
using ::ferrohsm::mechanism_name;
using ::ferrohsm::rv_name;

// An Error of kind `pkcs11` (or the kind the code implies, e.g. pin_incorrect) whose
// message is "<what>: CKR_…".
Error pkcs11_error(CK_RV rv, std::string_view what);

}  // namespace ferrohsm::client
