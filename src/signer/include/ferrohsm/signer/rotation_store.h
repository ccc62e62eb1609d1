// Persistence of signing keys and their states: the port, and its SQLite adapter (the
// single-process default). The PostgreSQL adapter, for several replicas on one
// database, is pg_rotation_store.h.
//
// Every transition is one transaction that checks the state it leaves, so the table
// never holds two active keys for a scope (a partial unique index enforces it too).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/signing_key.h"

struct sqlite3;

namespace ferrohsm::signer {

class RotationStore {
 public:
  // Opens (creating if needed) the SQLite database at `path`; ":memory:" works for tests.
  static Result<std::unique_ptr<RotationStore>> open(const std::string& path);
  RotationStore() = default;
  virtual ~RotationStore() = default;
  RotationStore(const RotationStore&) = delete;
  RotationStore& operator=(const RotationStore&) = delete;

  // Every key, ordered by scope and creation.
  virtual Result<std::vector<SigningKey>> load_all() = 0;
  // Inserts a new key; fails with kInvalidState if (scope, key_id) exists. A store shared
  // by several processes also checks the scope's other keys under its lock (its replicas'
  // caches may be behind): a pending key while the scope has a pending or retiring one is
  // kRotationInProgress, an active key while it has an active one kInvalidState.
  virtual Status insert(const SigningKey& key) = 0;
  // pending `key_id` → active; the scope's current active key (if any) → retiring.
  virtual Status activate(const Scope& scope, const KeyId& key_id, std::int64_t now) = 0;
  // retiring `key_id` → retired.
  virtual Status retire(const Scope& scope, const KeyId& key_id, std::int64_t now) = 0;
};

// The SQLite adapter: one process per database.
class SqliteRotationStore final : public RotationStore {
 public:
  static Result<std::unique_ptr<SqliteRotationStore>> open(const std::string& path);
  ~SqliteRotationStore() override;

  Result<std::vector<SigningKey>> load_all() override;
  Status insert(const SigningKey& key) override;
  Status activate(const Scope& scope, const KeyId& key_id, std::int64_t now) override;
  Status retire(const Scope& scope, const KeyId& key_id, std::int64_t now) override;

 private:
  explicit SqliteRotationStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace ferrohsm::signer
