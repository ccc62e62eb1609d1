#include "store/pg_schema.h"

#include "base/log.h"

#include <iterator>

namespace ferrohsm::store {
namespace {

// The key of the advisory lock held while migrating ("FHSMschm"): advisory locks are
// per database, so only FerroHSMs on the same database wait on each other.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(5064646657224133997)";

// Migration N takes a database at schema N-1 to schema N. Append only: a released
// migration is never edited, since databases out there already ran it.
constexpr const char* kMigrations[] = {
    // 1: what the SQLite store holds at its schema 3 (tokens, objects with their MAC,
    // attributes, the change log, policy use counters), in PostgreSQL's types. Ids come
    // from identity columns; slot ids from a compare-and-set counter in meta (a sequence
    // cannot be read without being taken, and the free slot is shown before it is taken).
    R"sql(
CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO meta(key, value) VALUES ('schema_version', 0), ('next_slot_id', 0);
CREATE TABLE tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slot_id bigint NOT NULL UNIQUE,
  label text NOT NULL,
  serial text NOT NULL UNIQUE,
  so_wrap bytea NOT NULL, so_kdf text NOT NULL,
  user_wrap bytea NOT NULL DEFAULT '', user_kdf text NOT NULL DEFAULT '',
  so_failures bigint NOT NULL DEFAULT 0 CHECK (so_failures >= 0),
  user_failures bigint NOT NULL DEFAULT 0 CHECK (user_failures >= 0));
CREATE TABLE objects (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_id bigint NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  class bigint NOT NULL, key_type bigint NOT NULL,
  label bytea NOT NULL, ckid bytea NOT NULL, private boolean NOT NULL,
  mac bytea);
CREATE INDEX objects_by_class ON objects(token_id, class, key_type);
CREATE INDEX objects_by_label ON objects(token_id, label);
CREATE INDEX objects_by_ckid ON objects(token_id, ckid);
CREATE INDEX objects_unmaced ON objects(token_id) WHERE mac IS NULL;
CREATE TABLE attributes (
  object_id bigint NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  type bigint NOT NULL, value bytea NOT NULL, sealed boolean NOT NULL,
  PRIMARY KEY (object_id, type));
CREATE TABLE changes (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  token_id bigint NOT NULL, object_id bigint NOT NULL, kind smallint NOT NULL,
  at timestamptz NOT NULL DEFAULT now());
CREATE TABLE key_uses (key text PRIMARY KEY, uses bigint NOT NULL CHECK (uses >= 0));
)sql",
};

constexpr int kVersion = static_cast<int>(std::size(kMigrations));

// The version the database holds: 0 when it has no FerroHSM schema yet.
Result<int> read_version(PgConn& c) {
  // The catalog itself, read with this statement's snapshot: to_regclass would answer
  // from this backend's catalog cache, which may still hold "no such table" after the
  // lock was waited for while another server created it.
  FH_ASSIGN_OR_RETURN(PgResult has, c.run({"schema_has_meta",
                                           "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
                                           "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                           "WHERE c.relname = 'meta' AND n.nspname = current_schema())"}));
  if (has.rows() != 1 || !has.boolean(0, 0)) return 0;
  FH_ASSIGN_OR_RETURN(PgResult v, c.run({"schema_version", "SELECT value FROM meta WHERE key = 'schema_version'"}));
  return v.rows() == 1 ? static_cast<int>(v.int64(0, 0)) : 0;
}

Status refuse_newer(int found, const std::string& where) {
  return make_error(CKR_DEVICE_ERROR, "store: the PostgreSQL database " + where + " has FerroHSM schema " +
                                          std::to_string(found) + ", newer than this FerroHSM's schema " +
                                          std::to_string(kVersion) + "; run the newer FerroHSM (or a newer build)");
}

}  // namespace

int pg_schema_version() { return kVersion; }

Status pg_migrate(PgConn& c, const std::string& where) {
  FH_ASSIGN_OR_RETURN(int version, read_version(c));
  if (version > kVersion) return refuse_newer(version, where);
  if (version == kVersion) return {};  // the usual start: no lock taken
  return pg_transaction(c, [&]() -> Status {
    FH_TRY(c.exec(kMigrationLock));
    FH_ASSIGN_OR_RETURN(int now, read_version(c));  // as of the lock: another server may have done it
    if (now > kVersion) return refuse_newer(now, where);
    for (int v = now + 1; v <= kVersion; ++v) {
      FH_TRY(c.exec(kMigrations[v - 1]));
      FH_TRY(c.exec("UPDATE meta SET value = " + std::to_string(v) + " WHERE key = 'schema_version'"));
      log().info("store {}: PostgreSQL schema {} applied", where, v);
    }
    return {};
  });
}

}  // namespace ferrohsm::store
