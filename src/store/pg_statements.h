// The PostgreSQL store's statements, each prepared once per connection under its name.
// The atomic ones carry their limit in the WHERE clause, so the row lock PostgreSQL
// takes for the UPDATE, and the re-check of the WHERE against the newest row version
// that READ COMMITTED does after waiting for it, make the check and the increment one
// step for every connection of every server.
#pragma once

#include "base/pg_conn.h"

namespace ferrohsm::store::pg {

#define FH_PG_TOKEN_COLUMNS \
  "SELECT id, slot_id, label, serial, so_wrap, so_kdf, user_wrap, user_kdf, so_failures, user_failures FROM tokens"

inline const PgStatement kTokens{"tokens", FH_PG_TOKEN_COLUMNS " ORDER BY slot_id"};
inline const PgStatement kToken{"token", FH_PG_TOKEN_COLUMNS " WHERE id = $1"};
inline const PgStatement kTokenExists{"token_exists", "SELECT 1 FROM tokens WHERE id = $1"};
inline const PgStatement kNextSlot{"next_slot", "SELECT value FROM meta WHERE key = 'next_slot_id'"};
// Takes the free slot id only if it is still $1: of two servers that read the same
// one, the second finds the row changed and takes nothing.
inline const PgStatement kTakeSlot{
    "take_slot", "UPDATE meta SET value = value + 1 WHERE key = 'next_slot_id' AND value = $1 RETURNING value"};
inline const PgStatement kInsertToken{
    "insert_token",
    "INSERT INTO tokens(slot_id, label, serial, so_wrap, so_kdf, user_wrap, user_kdf) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"};
inline const PgStatement kUpdateToken{
    "update_token",
    "UPDATE tokens SET label = $1, so_wrap = $2, so_kdf = $3, user_wrap = $4, user_kdf = $5, "
    "so_failures = CASE WHEN $6::boolean THEN 0 ELSE so_failures END, "
    "user_failures = CASE WHEN $7::boolean THEN 0 ELSE user_failures END WHERE id = $8 RETURNING id"};
inline const PgStatement kDropObjects{"drop_objects", "DELETE FROM objects WHERE token_id = $1 RETURNING id"};
// One more failure, only while fewer than $2 have failed.
inline const PgStatement kTakeSoAttempt{
    "take_so_attempt",
    "UPDATE tokens SET so_failures = so_failures + 1 WHERE id = $1 AND so_failures < $2 RETURNING so_failures"};
inline const PgStatement kTakeUserAttempt{
    "take_user_attempt",
    "UPDATE tokens SET user_failures = user_failures + 1 WHERE id = $1 AND user_failures < $2 "
    "RETURNING user_failures"};
inline const PgStatement kClearSo{
    "clear_so", "UPDATE tokens SET so_failures = 0 WHERE id = $1 AND so_failures <> 0 RETURNING id"};
inline const PgStatement kClearUser{
    "clear_user", "UPDATE tokens SET user_failures = 0 WHERE id = $1 AND user_failures <> 0 RETURNING id"};
inline const PgStatement kReplaceSoWrap{
    "replace_so_wrap", "UPDATE tokens SET so_wrap = $1 WHERE id = $2 AND so_wrap = $3 RETURNING id"};
inline const PgStatement kReplaceUserWrap{
    "replace_user_wrap", "UPDATE tokens SET user_wrap = $1 WHERE id = $2 AND user_wrap = $3 RETURNING id"};
inline const PgStatement kDeleteToken{"delete_token", "DELETE FROM tokens WHERE id = $1 RETURNING id"};

inline const PgStatement kInsertObject{
    "insert_object",
    "INSERT INTO objects(token_id, class, key_type, label, ckid, private) VALUES ($1, $2, $3, $4, $5, $6) "
    "RETURNING id"};
inline const PgStatement kSetMac{"set_mac", "UPDATE objects SET mac = $1 WHERE id = $2"};
inline const PgStatement kSetMacIfNone{"set_mac_if_none", "UPDATE objects SET mac = $1 WHERE id = $2 AND mac IS NULL"};
// All of one object's attributes in one statement (arrays of equal length).
inline const PgStatement kInsertAttrs{
    "insert_attrs",
    "INSERT INTO attributes(object_id, type, value, sealed) "
    "SELECT $1, t, v, s FROM unnest($2::bigint[], $3::bytea[], $4::boolean[]) AS a(t, v, s)"};
inline const PgStatement kUpdateObject{
    "update_object",
    "UPDATE objects SET class = $1, key_type = $2, label = $3, ckid = $4, private = $5, mac = $6 WHERE id = $7 "
    "RETURNING id"};
inline const PgStatement kDeleteAttrs{"delete_attrs", "DELETE FROM attributes WHERE object_id = $1"};
inline const PgStatement kDeleteObject{"delete_object", "DELETE FROM objects WHERE id = $1 RETURNING token_id"};
// The row and its attributes in one statement: one snapshot, so never half of an update.
inline const PgStatement kLoadObject{
    "load_object",
    "SELECT o.token_id, o.class, o.key_type, o.label, o.ckid, o.private, o.mac, a.type, a.value, a.sealed "
    "FROM objects o LEFT JOIN attributes a ON a.object_id = o.id WHERE o.id = $1 ORDER BY a.type"};
inline const PgStatement kUnmaced{
    "unmaced", "SELECT id FROM objects WHERE token_id = $1 AND mac IS NULL ORDER BY id"};
inline const PgStatement kLockUnmaced{
    "lock_unmaced", "SELECT id FROM objects WHERE token_id = $1 AND mac IS NULL ORDER BY id FOR UPDATE"};
inline const PgStatement kCountObjects{"count_objects", "SELECT count(*) FROM objects WHERE token_id = $1"};

// One more use, only while fewer than $2 were counted; a key never used starts at 1.
inline const PgStatement kTakeKeyUse{
    "take_key_use",
    "INSERT INTO key_uses AS k(key, uses) VALUES ($1, 1) "
    "ON CONFLICT (key) DO UPDATE SET uses = k.uses + 1 WHERE k.uses < $2 RETURNING uses"};
inline const PgStatement kKeyUses{"key_uses", "SELECT uses FROM key_uses WHERE key = $1"};

// The change log. The writer of a change holds kFeedLock from its first change row to
// its COMMIT, so sequence numbers become visible in the order they were given: a reader
// that saw change n has seen every change below n (see pg_store.cc, record_change). The
// same statement queues the transaction's one NOTIFY, which PostgreSQL delivers to the
// listeners of every server at COMMIT (never for a rollback), in commit order.
inline const PgStatement kFeedLock{
    "feed_lock", "SELECT pg_advisory_xact_lock(5064646657224131430), pg_notify('ferrohsm_changes', '')"};
inline const PgStatement kRecordChange{
    "record_change", "INSERT INTO changes(token_id, object_id, kind) VALUES ($1, $2, $3) RETURNING seq"};
inline const PgStatement kPruneChanges{"prune_changes", "DELETE FROM changes WHERE seq <= $1"};
inline const PgStatement kLastChange{"last_change", "SELECT coalesce(max(seq), 0) FROM changes"};
inline const PgStatement kOldestChange{"oldest_change", "SELECT coalesce(min(seq), 0) FROM changes"};
inline const PgStatement kChangesSince{
    "changes_since", "SELECT seq, token_id, object_id, kind FROM changes WHERE seq > $1 ORDER BY seq"};

#undef FH_PG_TOKEN_COLUMNS

}  // namespace ferrohsm::store::pg
