#include "ferrohsm/signer/rotation_store.h"

#include <sqlite3.h>

#include <cstring>

namespace ferrohsm::signer {

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS signing_key (
  scope       TEXT NOT NULL,
  key_id      TEXT NOT NULL,
  provider    TEXT NOT NULL,
  handle_id   TEXT NOT NULL,
  public_key  BLOB NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending','active','retiring','retired')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (scope, key_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS signing_key_one_active ON signing_key(scope) WHERE state = 'active';
)sql";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

Error db_error(sqlite3* db, const std::string& what) {
  return Error::internal("signer state database: " + what + ": " + sqlite3_errmsg(db));
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string column_text(sqlite3_stmt* s, int i) {
  auto p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

// Runs an UPDATE … WHERE state = from; returns the number of rows changed.
Result<int> update_state(sqlite3* db, const Scope& scope, const KeyId* key_id, KeyState from,
                         KeyState to, std::int64_t now) {
  Stmt st;
  const char* sql = key_id
      ? "UPDATE signing_key SET state = ?1, updated_at = ?2 WHERE scope = ?3 AND state = ?4 AND key_id = ?5"
      : "UPDATE signing_key SET state = ?1, updated_at = ?2 WHERE scope = ?3 AND state = ?4";
  if (sqlite3_prepare_v2(db, sql, -1, &st.s, nullptr) != SQLITE_OK) return db_error(db, "prepare update");
  bind_text(st.s, 1, key_state_name(to));
  sqlite3_bind_int64(st.s, 2, now);
  bind_text(st.s, 3, scope.str());
  bind_text(st.s, 4, key_state_name(from));
  if (key_id) bind_text(st.s, 5, key_id->str());
  if (sqlite3_step(st.s) != SQLITE_DONE) return db_error(db, "update state");
  return sqlite3_changes(db);
}
}  // namespace

Result<std::unique_ptr<RotationStore>> RotationStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::invalid("cannot open signer state database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<RotationStore> store(new RotationStore(db));
  if (auto s = store->exec("PRAGMA journal_mode=WAL"); !s) return s.error();
  if (auto s = store->exec(kSchema); !s) return s.error();
  return store;
}

RotationStore::~RotationStore() { sqlite3_close(db_); }

Status RotationStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Error::internal("signer state database: " + msg);
  }
  return {};
}

Result<std::vector<SigningKey>> RotationStore::load_all() {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT scope, key_id, provider, handle_id, public_key, state, created_at, updated_at "
                         "FROM signing_key ORDER BY scope, rowid",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return db_error(db_, "prepare load");
  std::vector<SigningKey> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    auto scope = Scope::parse(column_text(st.s, 0));
    auto key_id = KeyId::parse(column_text(st.s, 1));
    auto state = parse_key_state(column_text(st.s, 5));
    const void* blob = sqlite3_column_blob(st.s, 4);
    int blob_len = sqlite3_column_bytes(st.s, 4);
    if (!scope || !key_id || !state || blob_len != 32)
      return Error::internal("signer state database holds a malformed signing_key row");
    SigningKey k{*scope, *key_id, column_text(st.s, 2), column_text(st.s, 3), {}, *state,
                 sqlite3_column_int64(st.s, 6), sqlite3_column_int64(st.s, 7)};
    std::memcpy(k.public_key.data(), blob, 32);
    out.push_back(std::move(k));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "load keys");
  return out;
}

Status RotationStore::insert(const SigningKey& key) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO signing_key (scope, key_id, provider, handle_id, public_key, state, "
                         "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return db_error(db_, "prepare insert");
  bind_text(st.s, 1, key.scope.str());
  bind_text(st.s, 2, key.key_id.str());
  bind_text(st.s, 3, key.provider);
  bind_text(st.s, 4, key.handle_id);
  sqlite3_bind_blob(st.s, 5, key.public_key.data(), 32, SQLITE_TRANSIENT);
  bind_text(st.s, 6, key_state_name(key.state));
  sqlite3_bind_int64(st.s, 7, key.created_at);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_CONSTRAINT)
    return Error::state("key " + key.key_id.str() + " already exists in scope " + key.scope.str());
  if (rc != SQLITE_DONE) return db_error(db_, "insert key");
  return {};
}

Status RotationStore::activate(const Scope& scope, const KeyId& key_id, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (auto s = exec("BEGIN IMMEDIATE"); !s) return s;
  auto demoted = update_state(db_, scope, nullptr, KeyState::kActive, KeyState::kRetiring, now);
  Result<int> promoted = demoted ? update_state(db_, scope, &key_id, KeyState::kPending, KeyState::kActive, now)
                                 : Result<int>(demoted.error());
  if (!promoted || *promoted != 1) {
    (void)exec("ROLLBACK");
    if (!promoted) return promoted.error();
    return Error::state("key " + key_id.str() + " is not pending in scope " + scope.str());
  }
  return exec("COMMIT");
}

Status RotationStore::retire(const Scope& scope, const KeyId& key_id, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto changed = update_state(db_, scope, &key_id, KeyState::kRetiring, KeyState::kRetired, now);
  if (!changed) return changed.error();
  if (*changed != 1) return Error::state("key " + key_id.str() + " is not retiring in scope " + scope.str());
  return {};
}

}  // namespace ferrohsm::signer
