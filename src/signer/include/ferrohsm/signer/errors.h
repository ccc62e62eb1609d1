// The signer's domain errors and the result type that carries them.
// Translation to HTTP status or exit code happens once, at each edge.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferrohsm::signer {

enum class ErrorKind {
  kKeyNotFound,          // no such handle / key (or a handle this provider cannot address)
  kProviderUnavailable,  // the custodian cannot be reached or failed
  kKeyRetired,           // the key no longer signs (retiring or retired)
  kRotationInProgress,   // a rotation is already open for the scope
  kNoActiveKey,          // the scope has no active signing key
  kInvalidArgument,      // a malformed request value (scope, key id, digest, config …)
  kInvalidState,         // the operation does not fit the key's current state
  kDeadlineExceeded,     // the context's deadline passed
  kCancelled,            // the context was cancelled
  kNotBuilt,             // a provider this binary was compiled without
  kNotSupported,         // the custodian cannot do this at all (Azure Key Vault has no Ed25519 keys)
  kInternal,             // a bug or an unexpected library failure
};

// Stable snake_case name of a kind ("key_not_found" …), used in JSON and metrics.
std::string_view error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;  // never contains secrets

  static Error key_not_found(std::string msg) { return {ErrorKind::kKeyNotFound, std::move(msg)}; }
  static Error unavailable(std::string msg) { return {ErrorKind::kProviderUnavailable, std::move(msg)}; }
  static Error retired(std::string msg) { return {ErrorKind::kKeyRetired, std::move(msg)}; }
  static Error invalid(std::string msg) { return {ErrorKind::kInvalidArgument, std::move(msg)}; }
  static Error state(std::string msg) { return {ErrorKind::kInvalidState, std::move(msg)}; }
  static Error internal(std::string msg) { return {ErrorKind::kInternal, std::move(msg)}; }
  static Error not_supported(std::string msg) { return {ErrorKind::kNotSupported, std::move(msg)}; }
};

// A value or a domain error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace ferrohsm::signer
