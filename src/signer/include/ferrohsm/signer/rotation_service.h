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
//
// Several replicas on one shared store (PostgreSQL): each keeps this cache, and its
// StateListener calls refresh() whenever any replica commits a transition; the store
// itself checks every transition against the authoritative rows. With a StateFreshness
// set, the guard also refuses to sign while the shared state is not confirmed.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
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
  // Reads every key with `read` and makes the cache match it: keys another replica
  // created are added, states another replica changed are taken. No local transition
  // runs between the read and the update, so a read older than a local change never
  // undoes it.
  Status refresh(const std::function<Result<std::vector<SigningKey>>()>& read);
  // The guard refuses to sign while `freshness` says the shared state is unconfirmed
  // (nullptr, the default: a store of this process only, always current).
  void set_freshness(const class StateFreshness* freshness) { freshness_ = freshness; }
  // Ok unless the shared state is unconfirmed (then the sign guard's refusal).
  Status state_status() const;

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
  const class StateFreshness* freshness_ = nullptr;
  // Shared: a transition's store write and cache update; exclusive: refresh().
  std::shared_mutex sync_mu_;
  mutable std::shared_mutex scopes_mu_;
  std::map<std::string, std::shared_ptr<ScopeState>> scopes_;
};

// A fresh key id: "k" + UTC yyyymmdd "t" hhmmss + "-" + 8 random hex digits.
KeyId new_key_id();

}  // namespace ferrohsm::signer
