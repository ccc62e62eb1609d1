// The rotation lifecycle above the KeyProvider port.
//
//   open      generate a pending key (one open rotation per scope)
//   activate  pending → active; the previous active key → retiring
//   close     retiring → retired, and the provider's retire()
//   generate  a scope's first key, straight to active (no other active or pending key)
//
// Every sign() goes through a guard that checks the key's state before the provider
// is consulted, and returns the key id that made the signature. A sign holds a lease
// on its key; close() waits for those leases before it retires the key, so concurrent
// signing during rotation never fails and never uses a retired key.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/key_provider.h"
#include "ferrohsm/signer/rotation_store.h"
#include "ferrohsm/signer/signing_key.h"

namespace ferrohsm::signer {

struct SignResult {
  Scope scope;
  KeyId key_id;
  Signature signature{};
};

// Number of keys per state, indexed by KeyState.
using KeyStateCounts = std::array<std::size_t, 4>;

class RotationService {
 public:
  RotationService(KeyProvider& provider, RotationStore& store);
  ~RotationService();

  // Loads the keys the store holds. Call once before serving.
  Status load();

  Result<SigningKey> generate(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id = {});
  Result<SigningKey> open(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id = {});
  Result<SigningKey> activate(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id = {});
  Result<SigningKey> close(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id = {});

  // Signs with the scope's active key, or with `key_id` when given (it must be active).
  Result<SignResult> sign(const Context& ctx, const Scope& scope, const Digest& digest,
                          std::optional<KeyId> key_id = {});

  // Keys of one scope, or of every scope, ordered by scope and creation.
  std::vector<SigningKey> keys(const std::optional<Scope>& scope = {}) const;
  KeyStateCounts state_counts() const;

 private:
  struct KeyRecord;
  struct ScopeState;
  std::shared_ptr<ScopeState> scope_state(const Scope& scope, bool create);
  std::shared_ptr<ScopeState> scope_state(const Scope& scope) const;
  Result<SigningKey> create_key(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id,
                                KeyState initial);

  KeyProvider& provider_;
  RotationStore& store_;
  mutable std::shared_mutex scopes_mu_;
  std::map<std::string, std::shared_ptr<ScopeState>> scopes_;
};

// A fresh key id: "k" + UTC yyyymmdd "t" hhmmss + "-" + 8 random hex digits.
KeyId new_key_id();

}  // namespace ferrohsm::signer
