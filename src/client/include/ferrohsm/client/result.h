// Errors are values in the client layer: every fallible call returns Result<T>, holding
// either a T or an Error. An Error says what kind of failure it is (the caller's
// decision), the CK_RV the module returned when there was one, and a message that
// names the CKR_* code, the slot and the worker — never a PIN or key byte.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <string>
#include <utility>
#include <variant>

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

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  CK_RV rv() const { return ok() ? CKR_OK : error().rv; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  CK_RV rv() const { return ok_ ? CKR_OK : err_.rv; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ferrohsm::client

#define FHC_CONCAT_(a, b) a##b
#define FHC_CONCAT(a, b) FHC_CONCAT_(a, b)

// Returns the error of a Result-valued expression from the enclosing function.
#define FHC_TRY(expr)                                                   \
  do {                                                                  \
    auto&& fhc_try_r_ = (expr);                                         \
    if (!fhc_try_r_.ok()) return ::ferrohsm::client::Error(fhc_try_r_.error()); \
  } while (0)

// Declares `lhs` from the value of a Result, or returns its error.
#define FHC_ASSIGN_OR_RETURN(lhs, expr) FHC_ASSIGN_OR_RETURN_(FHC_CONCAT(fhc_r_, __LINE__), lhs, expr)
#define FHC_ASSIGN_OR_RETURN_(tmp, lhs, expr)                    \
  auto tmp = (expr);                                             \
  if (!tmp.ok()) return ::ferrohsm::client::Error(tmp.error());  \
  lhs = std::move(tmp).value()
