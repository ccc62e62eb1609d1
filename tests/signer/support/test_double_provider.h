// An in-memory, thread-safe KeyProvider for tests only (never linked into the daemon).
// Records every call in an ordered log; inject_failure() makes a method return
// ProviderUnavailable or RotationInProgress until clear_failure().
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer::testing {

enum class Method { kGenerate, kSign, kPublicKey, kRetire };

struct Call {
  Method method;
  std::string target;  // "scope|key_id" for generate, the handle otherwise
};

class TestDoubleProvider final : public KeyProvider {
 public:
  static constexpr std::string_view kHandlePrefix = "testdouble:";

  std::string_view name() const override { return "testdouble"; }
  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override;
  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override;
  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override;
  Status retire(const Context& ctx, const std::string& handle_id) override;

  // Only kProviderUnavailable and kRotationInProgress are accepted.
  void inject_failure(Method method, ErrorKind kind);
  void clear_failure(Method method);

  // Loads a known Ed25519 private seed under (scope, key_id), e.g. an RFC 8032 vector key.
  Result<GeneratedKey> import_key(const Scope& scope, const KeyId& key_id, std::span<const std::uint8_t, 32> seed);

  std::vector<Call> calls() const;
  std::size_t count(Method method) const;
  void clear_calls();

 private:
  struct Entry {
    ed25519::Pkey key;
    PublicKey pub{};
    bool retired = false;
  };
  Status enter(Method method, const std::string& target, const Context& ctx);  // log + injected failure

  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::map<Method, ErrorKind> failures_;
  std::map<std::string, Entry> keys_;
};

}  // namespace ferrohsm::signer::testing
