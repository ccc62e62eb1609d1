// The client's error kind names, and its errors from PKCS#11 codes (names from base/names.h).
#include <ferrohsm/client/names.h>

#include <array>
#include <utility>

namespace ferrohsm::client {
namespace {

constexpr std::array<std::pair<ErrorKind, const char*>, 13> kKindNames = {{
    {ErrorKind::pkcs11, "pkcs11"}, {ErrorKind::load, "load"}, {ErrorKind::config, "config"},
    {ErrorKind::invalid_argument, "invalid_argument"}, {ErrorKind::unknown_slot, "unknown_slot"},
    {ErrorKind::key_not_found, "key_not_found"}, {ErrorKind::no_pin, "no_pin"},
    {ErrorKind::pin_incorrect, "pin_incorrect"}, {ErrorKind::reauth_required, "reauth_required"},
    {ErrorKind::device_unavailable, "device_unavailable"}, {ErrorKind::shut_down, "shut_down"},
    {ErrorKind::io, "io"}, {ErrorKind::crypto, "crypto"},
}};

bool is_pin_error(CK_RV rv) {
  return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED ||
         rv == CKR_PIN_LOCKED;
}

}  // namespace

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
