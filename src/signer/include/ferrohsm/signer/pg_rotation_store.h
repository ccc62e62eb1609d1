// The PostgreSQL adapter of the rotation store: several signer replicas over one
// authoritative signing_key table.
//
// Its own schema (signer_schema_version, signing_key), applied at start under an
// advisory lock, refusing a database newer than this build. Every transition is one
// transaction that first takes the scope's advisory lock, then checks the scope's keys as
// the database holds them (a replica's cache may be behind), changes them, and sends
// NOTIFY ferrohsm_signer_state (delivered on commit) so the other replicas re-read.
// The constraints hold even without the lock: a unique index allows one active key per
// scope, a deferred exclusion constraint one open rotation (a pending or retiring key).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/pg_conn.h"
#include "base/pg_conninfo.h"
#include "base/pg_pool.h"
#include "ferrohsm/signer/rotation_store.h"

namespace ferrohsm::signer {

// The channel every transition notifies (payload: the scope).
inline constexpr const char* kStateChannel = "ferrohsm_signer_state";

struct PgStateSettings {
  std::string url;            // postgresql://… or a libpq connection string, without a password
  std::string password_file;  // "" → PGPASSFILE / ~/.pgpass
  int pool_size = 4;
};

// A connection of the listener's: libpq's handle (for its socket and notifications)
// and the wrapper that runs statements on it (which owns the handle).
struct PgListenConn {
  PGconn* raw = nullptr;
  std::unique_ptr<::ferrohsm::PgConn> conn;
};

class PgRotationStore final : public RotationStore {
 public:
  // Connects, applies the schema (refusing a newer one) and keeps a pool.
  static Result<std::unique_ptr<PgRotationStore>> open(const PgStateSettings& settings);
  ~PgRotationStore() override;

  Result<std::vector<SigningKey>> load_all() override;
  Status insert(const SigningKey& key) override;
  Status activate(const Scope& scope, const KeyId& key_id, std::int64_t now) override;
  Status retire(const Scope& scope, const KeyId& key_id, std::int64_t now) override;

  // A new connection outside the pool, logged in as the pool's are (the listener's).
  Result<PgListenConn> connect_listener();
  // Every key, read on `c`.
  static Result<std::vector<SigningKey>> load_all(::ferrohsm::PgConn& c);
  // The database, without a password ("postgresql://user@host:port/db").
  const std::string& describe() const { return target_.described; }

 private:
  explicit PgRotationStore(::ferrohsm::PgTarget target) : target_(std::move(target)) {}
  Result<std::unique_ptr<::ferrohsm::PgConn>> connect(const char* application, PGconn** raw);
  template <typename F>
  Status in_scope_transaction(const Scope& scope, const char* what, F&& body);

  ::ferrohsm::PgTarget target_;
  std::unique_ptr<::ferrohsm::PgPool> pool_;
};

// base's PostgreSQL target messages name the object store's keys ("store.url …"); the
// signer's are under [state].
std::string state_key_message(std::string message);

// The schema version this build writes.
int pg_state_schema_version();

}  // namespace ferrohsm::signer
