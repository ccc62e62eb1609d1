#include "exit_codes.h"

#include <array>
#include <utility>

namespace ferrohsm::cli {
namespace {

// Every CK_RV the tool treats specially; all others are kExitPkcs11.
constexpr std::array<std::pair<CK_RV, int>, 18> kTable = {{
    {CKR_OK, kExitOk},
    {CKR_ARGUMENTS_BAD, kExitUsage},
    {CKR_PIN_INCORRECT, kExitPin},
    {CKR_PIN_INVALID, kExitPin},
    {CKR_PIN_LEN_RANGE, kExitPin},
    {CKR_PIN_EXPIRED, kExitPin},
    {CKR_PIN_LOCKED, kExitPin},
    {CKR_PIN_TOO_WEAK, kExitPin},
    {CKR_USER_PIN_NOT_INITIALIZED, kExitPin},
    {CKR_SLOT_ID_INVALID, kExitNotFound},
    {CKR_TOKEN_NOT_PRESENT, kExitNotFound},
    {CKR_TOKEN_NOT_RECOGNIZED, kExitNotFound},
    {CKR_OBJECT_HANDLE_INVALID, kExitNotFound},
    {CKR_KEY_HANDLE_INVALID, kExitNotFound},
    {CKR_GENERAL_ERROR, kExitPkcs11},
    {CKR_HOST_MEMORY, kExitInternal},
    {CKR_CANCEL, kExitUsage},
    {CKR_SIGNATURE_INVALID, kExitSignature},
}};

}  // namespace

int exit_code_for(CK_RV rv) {
  for (const auto& [code, exit] : kTable)
    if (code == rv) return exit;
  return kExitPkcs11;
}

}  // namespace ferrohsm::cli
