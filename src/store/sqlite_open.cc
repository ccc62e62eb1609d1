// Opening the store: the connection (read-write, or read-only when configured or when
// the file cannot be written), the busy handler, and the schema — read without any
// lock, and created or migrated under a write transaction only when it is not
// current. So a process starts while another holds a write transaction, and a
// read-only file opens at all.
#include "base/log.h"
#include "base/sqlite_stmt.h"
#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

namespace ferrohsm::store {
namespace fs = std::filesystem;

namespace {

// 2: objects carry an integrity MAC (issue 11, finding 3).
// 3: policy use counters (key_uses; core/policy.h, max_uses).
constexpr int kSchemaVersion = 3;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', 3), ('next_slot_id', 0);
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  slot_id INTEGER NOT NULL UNIQUE,
  label TEXT NOT NULL,
  serial TEXT NOT NULL UNIQUE,
  so_wrap BLOB NOT NULL, so_kdf TEXT NOT NULL,
  user_wrap BLOB NOT NULL DEFAULT x'', user_kdf TEXT NOT NULL DEFAULT '',
  so_failures INTEGER NOT NULL DEFAULT 0,
  user_failures INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  class INTEGER NOT NULL, key_type INTEGER NOT NULL,
  label BLOB NOT NULL, ckid BLOB NOT NULL, private INTEGER NOT NULL,
  mac BLOB);
CREATE INDEX IF NOT EXISTS objects_by_class ON objects(token_id, class, key_type);
CREATE INDEX IF NOT EXISTS objects_by_label ON objects(token_id, label);
CREATE INDEX IF NOT EXISTS objects_by_ckid ON objects(token_id, ckid);
CREATE TABLE IF NOT EXISTS attributes (
  object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  type INTEGER NOT NULL, value BLOB NOT NULL, sealed INTEGER NOT NULL,
  PRIMARY KEY (object_id, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  token_id INTEGER NOT NULL, object_id INTEGER NOT NULL, kind INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS key_uses (key TEXT PRIMARY KEY, uses INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Schema 1 → 2: objects written before have no MAC; each gets one at its token's next
// login (core/object_mac.h).
constexpr const char* kMigrate1To2 = R"sql(
ALTER TABLE objects ADD COLUMN mac BLOB;
UPDATE meta SET value = 2 WHERE key = 'schema_version';
)sql";

// Schema 2 → 3: the policy's use counters (max_uses); no key has been counted yet.
constexpr const char* kMigrate2To3 = R"sql(
CREATE TABLE IF NOT EXISTS key_uses (key TEXT PRIMARY KEY, uses INTEGER NOT NULL) WITHOUT ROWID;
UPDATE meta SET value = 3 WHERE key = 'schema_version';
)sql";

// The objects still without a MAC, found at each login without reading every object row
// (a token of 100,000 objects: 13 ms per login without it). Made for new and old stores.
constexpr const char* kUnmacedIndex =
    "CREATE INDEX IF NOT EXISTS objects_unmaced ON objects(token_id) WHERE mac IS NULL";

// Backoff while another connection holds the lock: short first, then 100 ms steps.
int backoff_ms(int count) {
  static constexpr int kSteps[] = {1, 2, 5, 10, 20, 50};
  return count < 6 ? kSteps[count] : 100;
}

// SQLite could not create the WAL index (-shm) of a read-only database.
bool wal_index_unavailable(int code) {
  return (code & 0xff) == SQLITE_CANTOPEN || code == SQLITE_READONLY_CANTINIT || code == SQLITE_READONLY_DIRECTORY;
}

// "file:" URI of `path` (RFC 3986 percent-encoding of all but unreserved characters and '/').
std::string file_uri(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, const OpenOptions& options) {
  std::unique_ptr<SqliteStore> s(new SqliteStore(path, options));
  if (!options.read_only) {
    std::error_code ec;
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec) return make_error(CKR_DEVICE_ERROR, "store: cannot create " + parent.string() + ": " + ec.message());
      ::chmod(parent.c_str(), 0700);
    }
  }
  Status st = s->connect(options.read_only, /*immutable=*/false);
  if (st.ok()) st = s->check_schema();
  if (!st.ok() && s->read_only_ && s->db_ != nullptr && wal_index_unavailable(sqlite3_extended_errcode(s->db_))) {
    // A read-only WAL database in a directory where its -shm cannot be created: SQLite
    // reads it only as immutable, which a read-only medium is.
    log().warn("store {}: its WAL index cannot be created beside it; reading it as immutable", path);
    FH_TRY(s->connect(true, /*immutable=*/true));
    st = s->check_schema();
  }
  FH_TRY(st);
  return s;
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
  sqlite3_close_v2(db_);
}

Status SqliteStore::connect(bool read_only, bool immutable) {
  for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
  stmts_.clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::string name = path_;
  if (immutable) {
    flags |= SQLITE_OPEN_URI;
    name = file_uri(path_) + "?immutable=1";
  }
  mode_t old = ::umask(077);  // the database file is the owner's alone
  int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
  ::umask(old);
  if (rc != SQLITE_OK) return sqlite_error(db_, "open " + path_);
  // SQLITE_OPEN_READWRITE falls back to read-only when the file cannot be written.
  read_only_ = read_only || sqlite3_db_readonly(db_, "main") == 1;
  if (read_only_ && !read_only)
    log().warn("store {}: the file cannot be written, so it is open read-only (writes answer "
               "CKR_TOKEN_WRITE_PROTECTED)", path_);
  sqlite3_busy_handler(db_, &SqliteStore::on_busy, this);
  FH_TRY(exec("PRAGMA synchronous=FULL"));
  FH_TRY(exec("PRAGMA foreign_keys=ON"));
  return {};
}

// SQLite calls this (mu_ held) while another connection holds a lock we need.
int SqliteStore::on_busy(void* self, int count) {
  auto* s = static_cast<SqliteStore*>(self);
  auto now = std::chrono::steady_clock::now();
  if (count == 0) {
    s->busy_since_ = now;
    s->busy_warned_ = false;
  }
  const long long waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - s->busy_since_).count();
  const long long limit = s->options_.busy_timeout_ms;
  if (waited >= limit) {
    log().warn("store {}: database is locked by another connection; gave up after {} ms (store.busy_timeout_ms)",
               s->path_, waited);
    return 0;
  }
  if (!s->busy_warned_ && waited >= std::min(1000LL, limit / 2)) {
    log().warn("store {}: database is locked by another connection; waiting up to {} ms", s->path_, limit);
    s->busy_warned_ = true;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(backoff_ms(count), limit - waited)));
  return 1;
}

Result<int> SqliteStore::schema_version() {
  Stmt has(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  FH_ASSIGN_OR_RETURN(bool r, has.step());
  if (!r || has.int64(0) == 0) return 0;
  Stmt q(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
  FH_ASSIGN_OR_RETURN(bool row, q.step());
  return row ? static_cast<int>(q.int64(0)) : 0;
}

Status SqliteStore::check_schema() {
  std::lock_guard<std::mutex> lock(mu_);
  FH_ASSIGN_OR_RETURN(int version, schema_version());
  if (version > kSchemaVersion)
    return make_error(CKR_DEVICE_ERROR, "store: " + path_ + " was written by a newer FerroHSM (schema " +
                                            std::to_string(version) + ")");
  if (version == kSchemaVersion) return {};  // the usual start: no lock taken
  if (read_only_)
    return make_error(CKR_DEVICE_ERROR, "store: " + path_ + (version == 0 ? " is empty" : " has an older schema") +
                                            " and is open read-only; open it read-write once to " +
                                            (version == 0 ? "create" : "upgrade") + " it");
  return migrate();
}

// A new or older database (mu_ held): WAL mode, then the schema in one write transaction.
Status SqliteStore::migrate() {
  bool wal = false;
  {
    Stmt mode(db_, "PRAGMA journal_mode");
    FH_ASSIGN_OR_RETURN(bool r, mode.step());
    wal = r && mode.text(0) == "wal";
  }
  if (!wal) FH_TRY(exec("PRAGMA journal_mode=WAL"));
  FH_TRY(exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    FH_ASSIGN_OR_RETURN(int version, schema_version());  // as of the lock: another process may have done it
    if (version == 0) FH_TRY(exec(kSchema));
    if (version == 1) {
      FH_TRY(exec(kMigrate1To2));
      log().info("store {}: schema 1 upgraded to 2 (each token's objects get their MAC at its next login)", path_);
      version = 2;
    }
    if (version == 2) {
      FH_TRY(exec(kMigrate2To3));
      log().info("store {}: schema 2 upgraded to 3 (policy use counters)", path_);
    }
    return exec(kUnmacedIndex);
  };
  Status st = body();
  if (!st.ok()) {
    (void)exec("ROLLBACK");
    return st;
  }
  return exec("COMMIT");
}

Status SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "error";
    sqlite3_free(err);
    return make_error(CKR_DEVICE_ERROR, std::string("store: ") + m);
  }
  return {};
}

}  // namespace ferrohsm::store
