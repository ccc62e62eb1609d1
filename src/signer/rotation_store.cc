#include "ferrohsm/signer/rotation_store.h"

#include <sqlite3.h>

#include <algorithm>

#include "base/sqlite_stmt.h"

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

// The one edge where base's SQLite errors (a CK_RV and SQLite's message) become the
// signer's: an internal error naming the step.
Error db_error(const ::ferrohsm::Error& e, const std::string& what) {
  return Error::internal("signer state database: " + what + ": " + e.message);
}

std::string state_text(KeyState state) { return std::string(key_state_name(state)); }

// Runs an UPDATE … WHERE state = from; returns the number of rows changed.
Result<int> update_state(sqlite3* db, const Scope& scope, const KeyId* key_id, KeyState from,
                         KeyState to, std::int64_t now) {
  Stmt st(db, key_id ? "UPDATE signing_key SET state = ?1, updated_at = ?2 WHERE scope = ?3 AND state = ?4 AND key_id = ?5"
                     : "UPDATE signing_key SET state = ?1, updated_at = ?2 WHERE scope = ?3 AND state = ?4");
  st.bind(1, state_text(to)).bind(2, now).bind(3, scope.str()).bind(4, state_text(from));
  if (key_id) st.bind(5, key_id->str());
  if (auto done = st.run(); !done) return db_error(done.error(), "update state");
  return sqlite3_changes(db);
}
}  // namespace

Result<std::unique_ptr<RotationStore>> RotationStore::open(const std::string& path) {
  auto s = SqliteRotationStore::open(path);
  if (!s) return s.error();
  return std::unique_ptr<RotationStore>(std::move(*s));
}

Result<std::unique_ptr<SqliteRotationStore>> SqliteRotationStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::invalid("cannot open signer state database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteRotationStore> store(new SqliteRotationStore(db));
  if (auto s = store->exec("PRAGMA journal_mode=WAL"); !s) return s.error();
  if (auto s = store->exec(kSchema); !s) return s.error();
  return store;
}

SqliteRotationStore::~SqliteRotationStore() { sqlite3_close(db_); }

Status SqliteRotationStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Error::internal("signer state database: " + msg);
  }
  return {};
}

Result<std::vector<SigningKey>> SqliteRotationStore::load_all() {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT scope, key_id, provider, handle_id, public_key, state, created_at, updated_at "
          "FROM signing_key ORDER BY scope, rowid");
  std::vector<SigningKey> out;
  for (;;) {
    auto row = st.step();
    if (!row) return db_error(row.error(), "load keys");
    if (!*row) break;
    auto scope = Scope::parse(st.text(0));
    auto key_id = KeyId::parse(st.text(1));
    auto state = parse_key_state(st.text(5));
    Bytes public_key = st.blob(4);
    if (!scope || !key_id || !state || public_key.size() != 32)
      return Error::internal("signer state database holds a malformed signing_key row");
    SigningKey k{*scope, *key_id, st.text(2), st.text(3), {}, *state, st.int64(6), st.int64(7)};
    std::copy(public_key.begin(), public_key.end(), k.public_key.begin());
    out.push_back(std::move(k));
  }
  return out;
}

Status SqliteRotationStore::insert(const SigningKey& key) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "INSERT INTO signing_key (scope, key_id, provider, handle_id, public_key, state, "
          "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
  st.bind(1, key.scope.str()).bind(2, key.key_id.str()).bind(3, key.provider).bind(4, key.handle_id);
  st.bind(5, ByteView(key.public_key)).bind(6, state_text(key.state)).bind(7, key.created_at);
  if (auto done = st.run(); !done) {
    if ((sqlite3_errcode(db_) & 0xff) == SQLITE_CONSTRAINT)
      return Error::state("key " + key.key_id.str() + " already exists in scope " + key.scope.str());
    return db_error(done.error(), "insert key");
  }
  return {};
}

Status SqliteRotationStore::activate(const Scope& scope, const KeyId& key_id, std::int64_t now) {
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

Status SqliteRotationStore::retire(const Scope& scope, const KeyId& key_id, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto changed = update_state(db_, scope, &key_id, KeyState::kRetiring, KeyState::kRetired, now);
  if (!changed) return changed.error();
  if (*changed != 1) return Error::state("key " + key_id.str() + " is not retiring in scope " + scope.str());
  return {};
}

}  // namespace ferrohsm::signer
