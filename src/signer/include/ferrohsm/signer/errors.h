// The signer's domain errors and the result type that carries them.
// Translation to HTTP status or exit code happens once, at each edge.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

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
  kStateUnavailable,     // the shared key-state database cannot be reached, or was not heard from lately
  kInternal,             // a bug or an unexpected library failure
};

// Stable snake_case name of a kind ("key_not_found" …), used in JSON and metrics.
std::string_view error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;  // never contains secrets

  static Error key_not_found(std::string msg) { return {ErrorKind::kKeyNotFound, std::move(msg)}; }
  static Error unavailable(std::string msg) { return {ErrorKind::kProviderUnavailable, std::move(msg)}; }
  static Error retired(std::string msg) { return {ErrorKind::kKeyRetired, std::move(msg)}; }
  static Error invalid(std::string msg) { return {ErrorKind::kInvalidArgument, std::move(msg)}; }
  static Error state(std::string msg) { return {ErrorKind::kInvalidState, std::move(msg)}; }
  static Error internal(std::string msg) { return {ErrorKind::kInternal, std::move(msg)}; }
  static Error not_supported(std::string msg) { return {ErrorKind::kNotSupported, std::move(msg)}; }
  static Error state_unavailable(std::string msg) { return {ErrorKind::kStateUnavailable, std::move(msg)}; }
};

// The tree's one result type (base/result.h) with the signer's domain error; FH_TRY and
// FH_ASSIGN_OR_RETURN pass a signer::Error on as it is.
template <class T>
using Result = ::ferrohsm::Result<T, Error>;
using Status = Result<void>;

}  // namespace ferrohsm::signer
