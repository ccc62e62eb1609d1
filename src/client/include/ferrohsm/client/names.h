// Names for PKCS#11 codes, for messages and telemetry: rv_name(CKR_PIN_INCORRECT) is
// "CKR_PIN_INCORRECT"; an unknown code prints as hex. One table per mapping.
#pragma once

#include <ferrohsm/client/result.h>

#include <optional>
#include <string>
#include <string_view>

namespace ferrohsm::client {

std::string rv_name(CK_RV rv);
std::string mechanism_name(CK_MECHANISM_TYPE mechanism);
// "CKM_SHA256_RSA_PKCS" or "SHA256-RSA-PKCS" (pkcs11-tool's spelling) → the code.
std::optional<CK_MECHANISM_TYPE> mechanism_from_name(std::string_view name);

// An Error of kind `pkcs11` (or the kind the code implies, e.g. pin_incorrect) whose
// message is "<what>: CKR_…".
Error pkcs11_error(CK_RV rv, std::string_view what);

}  // namespace ferrohsm::client
