// SQLite persistence of signing keys and their states (the embedded default).
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
  // Opens (creating if needed) the database at `path`; ":memory:" works for tests.
  static Result<std::unique_ptr<RotationStore>> open(const std::string& path);
  ~RotationStore();
  RotationStore(const RotationStore&) = delete;
  RotationStore& operator=(const RotationStore&) = delete;

  Result<std::vector<SigningKey>> load_all();
  // Inserts a new key; fails with kInvalidState if (scope, key_id) exists.
  Status insert(const SigningKey& key);
  // pending `key_id` → active; the scope's current active key (if any) → retiring.
  Status activate(const Scope& scope, const KeyId& key_id, std::int64_t now);
  // retiring `key_id` → retired.
  Status retire(const Scope& scope, const KeyId& key_id, std::int64_t now);

 private:
  explicit RotationStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace ferrohsm::signer
