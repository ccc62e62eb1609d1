#include "ferrohsm/signer/rotation_service.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>

#include "base/bytes.h"
#include "ferrohsm/signer/state_listener.h"

namespace ferrohsm::signer {

struct RotationService::KeyRecord {
  explicit KeyRecord(SigningKey k) : key(std::move(k)) {}
  SigningKey key;                 // state changes under ScopeState::mu
  std::shared_timed_mutex use;    // shared: a sign in flight; exclusive: close retiring it
};

struct RotationService::ScopeState {
  mutable std::mutex mu;          // guards the records' states and the vector
  std::timed_mutex rotation_mu;   // serializes generate/open/activate/close of the scope
  std::vector<std::shared_ptr<KeyRecord>> keys;

  std::shared_ptr<KeyRecord> find(const KeyId& id) const {
    for (const auto& k : keys)
      if (k->key.key_id == id) return k;
    return nullptr;
  }
  std::shared_ptr<KeyRecord> first_in(KeyState state) const {
    for (const auto& k : keys)
      if (k->key.state == state) return k;
    return nullptr;
  }
};

namespace {
std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes a scope's rotation lock, honouring the context's deadline.
Result<std::unique_lock<std::timed_mutex>> lock_rotation(std::timed_mutex& mu, const Context& ctx,
                                                         const Scope& scope) {
  std::unique_lock lock(mu, std::defer_lock);
  if (auto d = ctx.deadline()) {
    if (!lock.try_lock_until(*d))
      return Error{ErrorKind::kRotationInProgress,
                   "another rotation operation on scope " + scope.str() + " is still running"};
  } else {
    lock.lock();
  }
  return lock;
}

std::string no_active_message(const Scope& scope) {
  return "scope " + scope.str() + " has no active signing key; generate one, or open and activate a rotation";
}
}  // namespace

KeyId new_key_id() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "k%Y%m%dt%H%M%S-", &tm);
  std::uint8_t rnd[4] = {};
  RAND_bytes(rnd, sizeof rnd);
  return *KeyId::parse(std::string(stamp) + to_hex(rnd));
}

RotationService::RotationService(KeyProvider& provider, RotationStore& store)
    : provider_(provider), store_(store) {}

RotationService::~RotationService() = default;

Status RotationService::load() {
  auto all = store_.load_all();
  if (!all) return all.error();
  std::unique_lock lock(scopes_mu_);
  scopes_.clear();
  for (auto& k : *all) {
    auto& st = scopes_[k.scope.str()];
    if (!st) st = std::make_shared<ScopeState>();
    st->keys.push_back(std::make_shared<KeyRecord>(std::move(k)));
  }
  return {};
}

Status RotationService::refresh(const std::function<Result<std::vector<SigningKey>>()>& read) {
  std::unique_lock sync(sync_mu_);
  auto all = read();
  if (!all) return all.error();
  for (auto& k : *all) {
    auto st = scope_state(k.scope, true);
    std::lock_guard lock(st->mu);
    if (auto rec = st->find(k.key_id)) {
      if (rec->key.state != k.state) {
        spdlog::debug("signer state: key {} of scope {} is {} (was {})", k.key_id.str(), k.scope.str(),
                      key_state_name(k.state), key_state_name(rec->key.state));
        rec->key.state = k.state;
        rec->key.updated_at = k.updated_at;
      }
    } else {
      st->keys.push_back(std::make_shared<KeyRecord>(std::move(k)));
    }
  }
  return {};
}

std::shared_ptr<RotationService::ScopeState> RotationService::scope_state(const Scope& scope) const {
  std::shared_lock lock(scopes_mu_);
  auto it = scopes_.find(scope.str());
  return it == scopes_.end() ? nullptr : it->second;
}

std::shared_ptr<RotationService::ScopeState> RotationService::scope_state(const Scope& scope, bool create) {
  if (auto st = std::as_const(*this).scope_state(scope); st || !create) return st;
  std::unique_lock lock(scopes_mu_);
  auto& st = scopes_[scope.str()];
  if (!st) st = std::make_shared<ScopeState>();
  return st;
}

Result<SigningKey> RotationService::create_key(const Context& ctx, const Scope& scope,
                                               std::optional<KeyId> key_id, KeyState initial) {
  auto st = scope_state(scope, true);
  auto rotation = lock_rotation(st->rotation_mu, ctx, scope);
  if (!rotation) return rotation.error();
  {
    std::lock_guard lock(st->mu);
    if (auto open = st->first_in(KeyState::kPending) ? st->first_in(KeyState::kPending)
                                                     : st->first_in(KeyState::kRetiring))
      return Error{ErrorKind::kRotationInProgress,
                   "scope " + scope.str() + " has an open rotation (key " + open->key.key_id.str() + " is " +
                       std::string(key_state_name(open->key.state)) + "); activate or close it first"};
    if (initial == KeyState::kActive && st->first_in(KeyState::kActive))
      return Error::state("scope " + scope.str() +
                          " already has an active key; rotate it with rotation open/activate/close");
    if (key_id && st->find(*key_id))
      return Error::state("key " + key_id->str() + " already exists in scope " + scope.str());
  }
  KeyId id = key_id ? *key_id : new_key_id();
  auto generated = provider_.generate(ctx, scope, id);
  if (!generated) return generated.error();
  std::int64_t now = now_seconds();
  auto rec = std::make_shared<KeyRecord>(SigningKey{scope, id, std::string(provider_.name()), generated->handle_id,
                                                    generated->public_key, initial, now, now});
  std::shared_lock sync(sync_mu_);
  if (auto s = store_.insert(rec->key); !s) return s.error();
  std::lock_guard lock(st->mu);
  st->keys.push_back(rec);
  return rec->key;
}

Result<SigningKey> RotationService::generate(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id) {
  return create_key(ctx, scope, std::move(key_id), KeyState::kActive);
}

Result<SigningKey> RotationService::open(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id) {
  return create_key(ctx, scope, std::move(key_id), KeyState::kPending);
}

Result<SigningKey> RotationService::activate(const Context& ctx, const Scope& scope,
                                             std::optional<KeyId> key_id) {
  if (auto s = ctx.check(); !s) return s.error();
  auto st = scope_state(scope, false);
  if (!st) return Error::state("scope " + scope.str() + " has no pending key; open a rotation first");
  auto rotation = lock_rotation(st->rotation_mu, ctx, scope);
  if (!rotation) return rotation.error();
  std::shared_ptr<KeyRecord> pending;
  {
    std::lock_guard lock(st->mu);
    pending = st->first_in(KeyState::kPending);
    if (!pending) return Error::state("scope " + scope.str() + " has no pending key; open a rotation first");
    if (key_id && pending->key.key_id != *key_id)
      return Error::state("key " + key_id->str() + " is not the pending key of scope " + scope.str() +
                          " (that is " + pending->key.key_id.str() + ")");
  }
  std::int64_t now = now_seconds();
  std::shared_lock sync(sync_mu_);
  if (auto s = store_.activate(scope, pending->key.key_id, now); !s) return s.error();
  std::lock_guard lock(st->mu);
  if (auto old = st->first_in(KeyState::kActive)) {
    old->key.state = KeyState::kRetiring;
    old->key.updated_at = now;
  }
  pending->key.state = KeyState::kActive;
  pending->key.updated_at = now;
  return pending->key;
}

Result<SigningKey> RotationService::close(const Context& ctx, const Scope& scope, std::optional<KeyId> key_id) {
  if (auto s = ctx.check(); !s) return s.error();
  auto st = scope_state(scope, false);
  if (!st) return Error::state("scope " + scope.str() + " has no retiring key; nothing to close");
  auto rotation = lock_rotation(st->rotation_mu, ctx, scope);
  if (!rotation) return rotation.error();
  std::shared_ptr<KeyRecord> retiring;
  {
    std::lock_guard lock(st->mu);
    retiring = st->first_in(KeyState::kRetiring);
    if (!retiring) return Error::state("scope " + scope.str() + " has no retiring key; nothing to close");
    if (key_id && retiring->key.key_id != *key_id)
      return Error::state("key " + key_id->str() + " is not the retiring key of scope " + scope.str() +
                          " (that is " + retiring->key.key_id.str() + ")");
  }
  // Wait for signs still in flight on this key. No new ones start: it is not active.
  std::unique_lock use(retiring->use, std::defer_lock);
  if (auto d = ctx.deadline()) {
    if (!use.try_lock_until(*d))
      return Error{ErrorKind::kDeadlineExceeded, "signatures in flight on the retiring key did not finish in time"};
  } else {
    use.lock();
  }
  if (auto s = provider_.retire(ctx, retiring->key.handle_id); !s) {
    if (s.error().kind != ErrorKind::kKeyNotFound) return s.error();
    spdlog::warn("rotation close: provider '{}' no longer knows key {} of scope {}; marking it retired",
                 provider_.name(), retiring->key.key_id.str(), scope.str());
  }
  // Release the key before taking the sync and scope locks (sign takes the scope lock
  // and then a lease; refresh the sync lock and then the scope lock). No sign can lease
  // it meanwhile: only active keys are leased, and no state moves back to active.
  use.unlock();
  std::int64_t now = now_seconds();
  std::shared_lock sync(sync_mu_);
  if (auto s = store_.retire(scope, retiring->key.key_id, now); !s) return s.error();
  std::lock_guard lock(st->mu);
  retiring->key.state = KeyState::kRetired;
  retiring->key.updated_at = now;
  return retiring->key;
}

Result<SignResult> RotationService::sign(const Context& ctx, const Scope& scope, const Digest& digest,
                                         std::optional<KeyId> key_id) {
  if (auto s = ctx.check(); !s) return s.error();
  // A shared state not confirmed lately may hide a retirement made by another replica:
  // no signature until it is read again (fail closed).
  if (auto s = state_status(); !s) return s.error();
  auto st = scope_state(scope);
  if (!st) return Error{ErrorKind::kNoActiveKey, no_active_message(scope)};
  std::shared_ptr<KeyRecord> rec;
  std::shared_lock<std::shared_timed_mutex> lease;
  {
    // The guard: the key's state decides before the provider is consulted.
    std::lock_guard lock(st->mu);
    if (key_id) {
      rec = st->find(*key_id);
      if (!rec) return Error::key_not_found("scope " + scope.str() + " has no key " + key_id->str());
      switch (rec->key.state) {
        case KeyState::kActive: break;
        case KeyState::kPending:
          return Error::state("key " + key_id->str() + " is pending; activate it before signing with it");
        case KeyState::kRetiring:
          return Error::retired("key " + key_id->str() + " is retiring: it still verifies but no longer signs");
        case KeyState::kRetired: return Error::retired("key " + key_id->str() + " is retired");
      }
    } else {
      rec = st->first_in(KeyState::kActive);
      if (!rec) return Error{ErrorKind::kNoActiveKey, no_active_message(scope)};
    }
    if (rec->key.provider != provider_.name())
      return Error::state("key " + rec->key.key_id.str() + " is held by provider '" + rec->key.provider +
                          "' but this signer runs '" + std::string(provider_.name()) + "'");
    lease = std::shared_lock(rec->use);
  }
  auto sig = provider_.sign(ctx, rec->key.handle_id, digest);
  if (!sig) return sig.error();
  return SignResult{scope, rec->key.key_id, *sig};
}

Status RotationService::state_status() const { return freshness_ ? freshness_->check() : Status{}; }

std::vector<SigningKey> RotationService::keys(const std::optional<Scope>& scope) const {
  std::vector<std::shared_ptr<ScopeState>> states;
  {
    std::shared_lock lock(scopes_mu_);
    for (const auto& [name, st] : scopes_)
      if (!scope || scope->str() == name) states.push_back(st);
  }
  std::vector<SigningKey> out;
  for (const auto& st : states) {
    std::lock_guard lock(st->mu);
    for (const auto& k : st->keys) out.push_back(k->key);
  }
  return out;
}

KeyStateCounts RotationService::state_counts() const {
  KeyStateCounts counts{};
  for (const auto& k : keys()) counts[static_cast<std::size_t>(k.state)]++;
  return counts;
}

}  // namespace ferrohsm::signer
