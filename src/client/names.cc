// The code → name tables for CK_RV and CK_MECHANISM_TYPE, and the error kind names.
#include <ferrohsm/client/names.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

namespace ferrohsm::client {
namespace {

#define FHC_NAME(x) std::pair<CK_ULONG, const char*>{x, #x}

constexpr std::array kRvNames = {
    FHC_NAME(CKR_OK), FHC_NAME(CKR_CANCEL), FHC_NAME(CKR_HOST_MEMORY), FHC_NAME(CKR_SLOT_ID_INVALID),
    FHC_NAME(CKR_GENERAL_ERROR), FHC_NAME(CKR_FUNCTION_FAILED), FHC_NAME(CKR_ARGUMENTS_BAD),
    FHC_NAME(CKR_NO_EVENT), FHC_NAME(CKR_NEED_TO_CREATE_THREADS), FHC_NAME(CKR_CANT_LOCK),
    FHC_NAME(CKR_ATTRIBUTE_READ_ONLY), FHC_NAME(CKR_ATTRIBUTE_SENSITIVE), FHC_NAME(CKR_ATTRIBUTE_TYPE_INVALID),
    FHC_NAME(CKR_ATTRIBUTE_VALUE_INVALID), FHC_NAME(CKR_ACTION_PROHIBITED), FHC_NAME(CKR_DATA_INVALID),
    FHC_NAME(CKR_DATA_LEN_RANGE), FHC_NAME(CKR_DEVICE_ERROR), FHC_NAME(CKR_DEVICE_MEMORY),
    FHC_NAME(CKR_DEVICE_REMOVED), FHC_NAME(CKR_ENCRYPTED_DATA_INVALID), FHC_NAME(CKR_ENCRYPTED_DATA_LEN_RANGE),
    FHC_NAME(CKR_FUNCTION_CANCELED), FHC_NAME(CKR_FUNCTION_NOT_PARALLEL), FHC_NAME(CKR_FUNCTION_NOT_SUPPORTED),
    FHC_NAME(CKR_KEY_HANDLE_INVALID), FHC_NAME(CKR_KEY_SIZE_RANGE), FHC_NAME(CKR_KEY_TYPE_INCONSISTENT),
    FHC_NAME(CKR_KEY_NOT_NEEDED), FHC_NAME(CKR_KEY_CHANGED), FHC_NAME(CKR_KEY_NEEDED),
    FHC_NAME(CKR_KEY_INDIGESTIBLE), FHC_NAME(CKR_KEY_FUNCTION_NOT_PERMITTED), FHC_NAME(CKR_KEY_NOT_WRAPPABLE),
    FHC_NAME(CKR_KEY_UNEXTRACTABLE), FHC_NAME(CKR_MECHANISM_INVALID), FHC_NAME(CKR_MECHANISM_PARAM_INVALID),
    FHC_NAME(CKR_OBJECT_HANDLE_INVALID), FHC_NAME(CKR_OPERATION_ACTIVE), FHC_NAME(CKR_OPERATION_NOT_INITIALIZED),
    FHC_NAME(CKR_PIN_INCORRECT), FHC_NAME(CKR_PIN_INVALID), FHC_NAME(CKR_PIN_LEN_RANGE),
    FHC_NAME(CKR_PIN_EXPIRED), FHC_NAME(CKR_PIN_LOCKED), FHC_NAME(CKR_SESSION_CLOSED),
    FHC_NAME(CKR_SESSION_COUNT), FHC_NAME(CKR_SESSION_HANDLE_INVALID),
    FHC_NAME(CKR_SESSION_PARALLEL_NOT_SUPPORTED), FHC_NAME(CKR_SESSION_READ_ONLY), FHC_NAME(CKR_SESSION_EXISTS),
    FHC_NAME(CKR_SESSION_READ_ONLY_EXISTS), FHC_NAME(CKR_SESSION_READ_WRITE_SO_EXISTS),
    FHC_NAME(CKR_SIGNATURE_INVALID), FHC_NAME(CKR_SIGNATURE_LEN_RANGE), FHC_NAME(CKR_TEMPLATE_INCOMPLETE),
    FHC_NAME(CKR_TEMPLATE_INCONSISTENT), FHC_NAME(CKR_TOKEN_NOT_PRESENT), FHC_NAME(CKR_TOKEN_NOT_RECOGNIZED),
    FHC_NAME(CKR_TOKEN_WRITE_PROTECTED), FHC_NAME(CKR_USER_ALREADY_LOGGED_IN), FHC_NAME(CKR_USER_NOT_LOGGED_IN),
    FHC_NAME(CKR_USER_PIN_NOT_INITIALIZED), FHC_NAME(CKR_USER_TYPE_INVALID),
    FHC_NAME(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), FHC_NAME(CKR_USER_TOO_MANY_TYPES),
    FHC_NAME(CKR_DOMAIN_PARAMS_INVALID), FHC_NAME(CKR_CURVE_NOT_SUPPORTED), FHC_NAME(CKR_BUFFER_TOO_SMALL),
    FHC_NAME(CKR_SAVED_STATE_INVALID), FHC_NAME(CKR_INFORMATION_SENSITIVE), FHC_NAME(CKR_STATE_UNSAVEABLE),
    FHC_NAME(CKR_CRYPTOKI_NOT_INITIALIZED), FHC_NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    FHC_NAME(CKR_MUTEX_BAD), FHC_NAME(CKR_MUTEX_NOT_LOCKED), FHC_NAME(CKR_FUNCTION_REJECTED),
    FHC_NAME(CKR_OPERATION_CANCEL_FAILED),
};

constexpr std::array kMechanismNames = {
    FHC_NAME(CKM_RSA_PKCS), FHC_NAME(CKM_RSA_X_509), FHC_NAME(CKM_RSA_PKCS_PSS),
    FHC_NAME(CKM_SHA1_RSA_PKCS), FHC_NAME(CKM_SHA224_RSA_PKCS), FHC_NAME(CKM_SHA256_RSA_PKCS),
    FHC_NAME(CKM_SHA384_RSA_PKCS), FHC_NAME(CKM_SHA512_RSA_PKCS), FHC_NAME(CKM_SHA256_RSA_PKCS_PSS),
    FHC_NAME(CKM_SHA384_RSA_PKCS_PSS), FHC_NAME(CKM_SHA512_RSA_PKCS_PSS), FHC_NAME(CKM_ECDSA),
    FHC_NAME(CKM_ECDSA_SHA1), FHC_NAME(CKM_ECDSA_SHA224), FHC_NAME(CKM_ECDSA_SHA256),
    FHC_NAME(CKM_ECDSA_SHA384), FHC_NAME(CKM_ECDSA_SHA512), FHC_NAME(CKM_EDDSA),
    FHC_NAME(CKM_SHA256_HMAC), FHC_NAME(CKM_SHA384_HMAC), FHC_NAME(CKM_SHA512_HMAC),
};

#undef FHC_NAME

constexpr std::array<std::pair<ErrorKind, const char*>, 13> kKindNames = {{
    {ErrorKind::pkcs11, "pkcs11"}, {ErrorKind::load, "load"}, {ErrorKind::config, "config"},
    {ErrorKind::invalid_argument, "invalid_argument"}, {ErrorKind::unknown_slot, "unknown_slot"},
    {ErrorKind::key_not_found, "key_not_found"}, {ErrorKind::no_pin, "no_pin"},
    {ErrorKind::pin_incorrect, "pin_incorrect"}, {ErrorKind::reauth_required, "reauth_required"},
    {ErrorKind::device_unavailable, "device_unavailable"}, {ErrorKind::shut_down, "shut_down"},
    {ErrorKind::io, "io"}, {ErrorKind::crypto, "crypto"},
}};

template <typename Table>
std::string lookup(const Table& table, CK_ULONG code) {
  for (const auto& [value, name] : table) {
    if (value == code) return name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(code));
  return buf;
}

bool is_pin_error(CK_RV rv) {
  return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED ||
         rv == CKR_PIN_LOCKED;
}

}  // namespace

std::string rv_name(CK_RV rv) { return lookup(kRvNames, rv); }
std::string mechanism_name(CK_MECHANISM_TYPE mechanism) { return lookup(kMechanismNames, mechanism); }

std::optional<CK_MECHANISM_TYPE> mechanism_from_name(std::string_view name) {
  std::string wanted;
  for (char c : name) wanted.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (wanted.rfind("CKM_", 0) != 0) wanted = "CKM_" + wanted;
  for (const auto& [value, n] : kMechanismNames) {
    if (wanted == n) return value;
  }
  return std::nullopt;
}

const char* error_kind_name(ErrorKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

Error pkcs11_error(CK_RV rv, std::string_view what) {
  ErrorKind kind = is_pin_error(rv) ? ErrorKind::pin_incorrect : ErrorKind::pkcs11;
  return Error{kind, rv, std::string(what) + ": " + rv_name(rv)};
}

}  // namespace ferrohsm::client
