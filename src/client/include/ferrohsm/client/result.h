// Errors are values in the client layer: every fallible call returns Result<T>, holding
// either a T or an Error. An Error says what kind of failure it is (the caller's
// decision), the CK_RV the module returned when there was one, and a message that
// names the CKR_* code, the slot and the worker — never a PIN or key byte.
#pragma once

#include "base/result.h"
#include "base/secret.h"

#include <string>

namespace ferrohsm::client {

enum class ErrorKind {
  pkcs11,              // the module returned an error no ladder step handles
  load,                // the library could not be loaded or has no function list
  config,              // bad configuration (refused at start)
  invalid_argument,    // bad input to a call
  unknown_slot,        // no slot server for this slot_ref / worker index
  key_not_found,       // key ref not configured or no object with its label
  no_pin,              // the PIN chain ended without a PIN
  pin_incorrect,       // CKR_PIN_INCORRECT / CKR_PIN_LEN_RANGE / CKR_PIN_LOCKED …
  reauth_required,     // login lost and the policy is `fail`: call login() first
  device_unavailable,  // re-initialisation gave up after its bounded backoff
  shut_down,           // the slot server was shut down
  io,                  // file or terminal input failed
  crypto,              // OpenSSL failed (import-p12)
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::pkcs11;
  CK_RV rv = CKR_OK;  // the module's code, CKR_OK when the error did not come from the module
  std::string message;
};

using ::ferrohsm::Secret;  // base/secret.h: PINs and passwords

// The tree's one result type with the client's error.
template <typename T>
using Result = ::ferrohsm::Result<T, Error>;
using Status = Result<void>;

}  // namespace ferrohsm::client
