// Errors are values: every fallible call returns Result<T, E>, which holds either a
// T or an error. The one result type of the tree; parts differ only in their error:
// the provider side (core, store, module, server) uses Error — the PKCS#11 return code
// and a message for the log, since PKCS#11 names every failure a token can have and
// the other edges (CLI exit code, HTTP status) map from it in one table each; the
// client layer adds a kind (client::Error), the signer has its domain sentinels
// (signer::Error).
#pragma once

#include <ferrohsm/cryptoki.h>

#include <string>
#include <utility>
#include <variant>

namespace ferrohsm {

struct Error {
  CK_RV rv = CKR_GENERAL_ERROR;
  std::string message;  // for logs and the CLI; never holds a PIN or key byte
};

inline Error make_error(CK_RV rv, std::string message = {}) { return Error{rv, std::move(message)}; }

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  using error_type = E;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E e) : v_(std::in_place_index<1>, std::move(e)) {}          // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const { return std::get<1>(v_); }
  // The PKCS#11 code, for errors that carry one.
  CK_RV rv() const
    requires requires(const E& e) { e.rv; }
  {
    return ok() ? CKR_OK : error().rv;
  }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  using error_type = E;
  Result() = default;
  Result(E e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return err_; }
  CK_RV rv() const
    requires requires(const E& e) { e.rv; }
  {
    return ok_ ? CKR_OK : err_.rv;
  }

 private:
  E err_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ferrohsm

#define FH_CONCAT_(a, b) a##b
#define FH_CONCAT(a, b) FH_CONCAT_(a, b)

// Returns the error of a Result-valued expression from the enclosing function (whose
// result must have the same error type).
#define FH_TRY(expr)                                     \
  do {                                                   \
    auto&& fh_try_r_ = (expr);                           \
    if (!fh_try_r_.ok()) return fh_try_r_.error();       \
  } while (0)

// Declares `lhs` from the value of a Result, or returns its error.
#define FH_ASSIGN_OR_RETURN(lhs, expr) FH_ASSIGN_OR_RETURN_(FH_CONCAT(fh_r_, __LINE__), lhs, expr)
#define FH_ASSIGN_OR_RETURN_(tmp, lhs, expr) \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return tmp.error();         \
  lhs = std::move(tmp).value()
