#include "store/sqlite_store.h"

#include "base/sqlite_stmt.h"

#include <sqlite3.h>

namespace ferrohsm::store {

namespace {

// Kept changes; a reader further behind reloads everything.
constexpr int64_t kChangesKept = 10000;

TokenRow read_token(const Stmt& s) {
  TokenRow t;
  t.id = s.int64(0);
  t.slot_id = static_cast<CK_SLOT_ID>(s.int64(1));
  t.label = s.text(2);
  t.serial = s.text(3);
  t.so_wrap = s.blob(4);
  t.so_kdf = s.text(5);
  t.user_wrap = s.blob(6);
  t.user_kdf = s.text(7);
  t.so_failures = static_cast<uint32_t>(s.int64(8));
  t.user_failures = static_cast<uint32_t>(s.int64(9));
  return t;
}

constexpr const char* kTokenColumns =
    "SELECT id, slot_id, label, serial, so_wrap, so_kdf, user_wrap, user_kdf, so_failures, user_failures FROM tokens";

}  // namespace

Status SqliteStore::writable() const {
  if (read_only_) return make_error(CKR_TOKEN_WRITE_PROTECTED, "store: " + path_ + " is open read-only");
  return {};
}

Stmt SqliteStore::prepared(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return Stmt(db_, it->second);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st);
    return Stmt(db_, static_cast<sqlite3_stmt*>(nullptr));  // step() reports the prepare error
  }
  stmts_.emplace(sql, st);
  return Stmt(db_, st);
}

template <typename F>
Status SqliteStore::transaction(F&& body) {
  FH_TRY(writable());
  FH_TRY(prepared("BEGIN IMMEDIATE").run());
  Status st = body();
  if (!st.ok()) {
    (void)prepared("ROLLBACK").run();
    return st;
  }
  st = prepared("COMMIT").run();
  if (!st.ok()) (void)prepared("ROLLBACK").run();
  else local_commits_.fetch_add(1);
  return st;
}

Status SqliteStore::record_change(int64_t token_id, int64_t object_id, ChangeKind kind) {
  Stmt s = prepared("INSERT INTO changes(token_id, object_id, kind) VALUES (?, ?, ?)");
  FH_TRY(s.bind(1, token_id).bind(2, object_id).bind(3, static_cast<int64_t>(kind)).run());
  int64_t seq = sqlite3_last_insert_rowid(db_);
  if (seq % 1000 == 0) {
    Stmt prune = prepared("DELETE FROM changes WHERE seq <= ?");
    FH_TRY(prune.bind(1, seq - kChangesKept).run());
  }
  return {};
}

Result<std::vector<TokenRow>> SqliteStore::tokens() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared(std::string(kTokenColumns) + " ORDER BY slot_id");
  std::vector<TokenRow> out;
  for (;;) {
    FH_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_token(s));
    apply_failure_overlay(out.back());
  }
  return out;
}

Result<TokenRow> SqliteStore::token(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared(std::string(kTokenColumns) + " WHERE id = ?");
  s.bind(1, id);
  FH_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return make_error(CKR_TOKEN_NOT_PRESENT, "store: token was deleted");
  TokenRow t = read_token(s);
  apply_failure_overlay(t);
  return t;
}

void SqliteStore::apply_failure_overlay(TokenRow& t) const {
  if (auto it = failure_overlay_.find({t.id, true}); it != failure_overlay_.end()) t.so_failures = it->second;
  if (auto it = failure_overlay_.find({t.id, false}); it != failure_overlay_.end()) t.user_failures = it->second;
}

Result<CK_SLOT_ID> SqliteStore::next_slot_id() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("SELECT value FROM meta WHERE key = 'next_slot_id'");
  FH_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return make_error(CKR_DEVICE_ERROR, "store: meta.next_slot_id missing");
  return static_cast<CK_SLOT_ID>(s.int64(0));
}

Result<int64_t> SqliteStore::create_token(TokenRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  FH_TRY(transaction([&]() -> Status {
    Stmt cur = prepared("SELECT value FROM meta WHERE key = 'next_slot_id'");
    FH_ASSIGN_OR_RETURN(bool r, cur.step());
    if (!r || static_cast<CK_SLOT_ID>(cur.int64(0)) != row.slot_id)
      return make_error(CKR_SLOT_ID_INVALID, "store: slot was taken by another process; list slots again");
    if (row.slot_id >= 0x7fffffffUL) return make_error(CKR_DEVICE_MEMORY, "store: no slot ids left");
    Stmt bump = prepared("UPDATE meta SET value = value + 1 WHERE key = 'next_slot_id'");
    FH_TRY(bump.run());
    Stmt ins = prepared(
             "INSERT INTO tokens(slot_id, label, serial, so_wrap, so_kdf, user_wrap, user_kdf) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, static_cast<int64_t>(row.slot_id)).bind(2, row.label).bind(3, row.serial);
    ins.bind(4, ByteView(row.so_wrap)).bind(5, row.so_kdf).bind(6, ByteView(row.user_wrap)).bind(7, row.user_kdf);
    FH_TRY(ins.run());
    id = sqlite3_last_insert_rowid(db_);
    return record_change(id, 0, ChangeKind::Token);
  }));
  row.id = id;
  return id;
}

Status SqliteStore::update_token(const TokenRow& row, const TokenUpdate& what) {
  std::lock_guard<std::mutex> lock(mu_);
  return transaction([&]() -> Status {
    if (what.drop_objects) {
      Stmt ids = prepared("SELECT id FROM objects WHERE token_id = ?");
      ids.bind(1, row.id);
      std::vector<int64_t> gone;
      for (;;) {
        FH_ASSIGN_OR_RETURN(bool r, ids.step());
        if (!r) break;
        gone.push_back(ids.int64(0));
      }
      Stmt del = prepared("DELETE FROM objects WHERE token_id = ?");
      FH_TRY(del.bind(1, row.id).run());
      for (int64_t o : gone) FH_TRY(record_change(row.id, o, ChangeKind::Delete));
    }
    Stmt up = prepared(
            "UPDATE tokens SET label = ?, so_wrap = ?, so_kdf = ?, user_wrap = ?, user_kdf = ?, "
            "so_failures = CASE WHEN ? THEN 0 ELSE so_failures END, "
            "user_failures = CASE WHEN ? THEN 0 ELSE user_failures END WHERE id = ?");
    up.bind(1, row.label).bind(2, ByteView(row.so_wrap)).bind(3, row.so_kdf).bind(4, ByteView(row.user_wrap));
    up.bind(5, row.user_kdf).bind(6, int64_t{what.reset_so_failures}).bind(7, int64_t{what.reset_user_failures});
    up.bind(8, row.id);
    FH_TRY(up.run());
    if (sqlite3_changes(db_) != 1) return make_error(CKR_TOKEN_NOT_PRESENT, "store: token was deleted");
    return record_change(row.id, 0, ChangeKind::Token);
  });
}

Result<uint32_t> SqliteStore::take_pin_attempt(int64_t token_id, bool so, uint32_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t taken = 0;
  if (read_only_) {
    // Nothing can be written: the count lives in this process (which could read the
    // file, and so try PINs offline, anyway).
    Stmt cur = prepared(so ? "SELECT so_failures FROM tokens WHERE id = ?" : "SELECT user_failures FROM tokens WHERE id = ?");
    cur.bind(1, token_id);
    FH_ASSIGN_OR_RETURN(bool r, cur.step());
    if (!r) return make_error(CKR_TOKEN_NOT_PRESENT, "store: token was deleted");
    auto [it, fresh] = failure_overlay_.try_emplace({token_id, so}, static_cast<uint32_t>(cur.int64(0)));
    if (it->second >= max) return make_error(CKR_PIN_LOCKED, std::string(so ? "SO" : "user") + " PIN is locked");
    return ++it->second;
  }
  FH_TRY(transaction([&]() -> Status {
    Stmt cur = prepared(so ? "SELECT so_failures FROM tokens WHERE id = ?" : "SELECT user_failures FROM tokens WHERE id = ?");
    cur.bind(1, token_id);
    FH_ASSIGN_OR_RETURN(bool r, cur.step());
    if (!r) return make_error(CKR_TOKEN_NOT_PRESENT, "store: token was deleted");
    int64_t failures = cur.int64(0);
    if (failures >= static_cast<int64_t>(max))
      return make_error(CKR_PIN_LOCKED, std::string(so ? "SO" : "user") + " PIN is locked");
    taken = static_cast<uint32_t>(failures + 1);
    Stmt up = prepared(so ? "UPDATE tokens SET so_failures = ? WHERE id = ?"
                          : "UPDATE tokens SET user_failures = ? WHERE id = ?");
    FH_TRY(up.bind(1, int64_t{taken}).bind(2, token_id).run());
    return record_change(token_id, 0, ChangeKind::Token);
  }));
  return taken;
}

Result<uint64_t> SqliteStore::take_key_use(const std::string& key, uint64_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  auto refused = [&] {
    return make_error(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key has been used " + std::to_string(max) + " times");
  };
  if (read_only_) {
    auto [it, fresh] = use_overlay_.try_emplace(key, 0);
    if (fresh) {
      Stmt cur = prepared("SELECT uses FROM key_uses WHERE key = ?");
      cur.bind(1, key);
      FH_ASSIGN_OR_RETURN(bool r, cur.step());
      if (r) it->second = static_cast<uint64_t>(cur.int64(0));
    }
    if (it->second >= max) return refused();
    return ++it->second;
  }
  uint64_t taken = 0;
  // One write transaction (BEGIN IMMEDIATE): the read and the increment cannot
  // interleave with another connection's, in this process or another.
  FH_TRY(transaction([&]() -> Status {
    Stmt cur = prepared("SELECT uses FROM key_uses WHERE key = ?");
    cur.bind(1, key);
    FH_ASSIGN_OR_RETURN(bool r, cur.step());
    const uint64_t uses = r ? static_cast<uint64_t>(cur.int64(0)) : 0;
    if (uses >= max) return refused();
    taken = uses + 1;
    Stmt up = prepared("INSERT INTO key_uses(key, uses) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET uses = excluded.uses");
    return up.bind(1, key).bind(2, static_cast<int64_t>(taken)).run();
  }));
  return taken;
}

Result<uint64_t> SqliteStore::key_uses(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = use_overlay_.find(key); it != use_overlay_.end()) return it->second;
  Stmt cur = prepared("SELECT uses FROM key_uses WHERE key = ?");
  cur.bind(1, key);
  FH_ASSIGN_OR_RETURN(bool r, cur.step());
  return r ? static_cast<uint64_t>(cur.int64(0)) : uint64_t{0};
}

Status SqliteStore::clear_pin_failures(int64_t token_id, bool so) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_only_) {
    failure_overlay_[{token_id, so}] = 0;
    return {};
  }
  return transaction([&]() -> Status {
    Stmt up = prepared(so ? "UPDATE tokens SET so_failures = 0 WHERE id = ? AND so_failures != 0"
                          : "UPDATE tokens SET user_failures = 0 WHERE id = ? AND user_failures != 0");
    FH_TRY(up.bind(1, token_id).run());
    if (sqlite3_changes(db_) == 0) return {};
    return record_change(token_id, 0, ChangeKind::Token);
  });
}

Status SqliteStore::replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) {
  std::lock_guard<std::mutex> lock(mu_);
  return transaction([&]() -> Status {
    Stmt up = prepared(so ? "UPDATE tokens SET so_wrap = ? WHERE id = ? AND so_wrap = ?"
                          : "UPDATE tokens SET user_wrap = ? WHERE id = ? AND user_wrap = ?");
    FH_TRY(up.bind(1, new_wrap).bind(2, token_id).bind(3, old_wrap).run());
    if (sqlite3_changes(db_) == 0) return {};
    return record_change(token_id, 0, ChangeKind::Token);
  });
}

Status SqliteStore::delete_token(int64_t token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return transaction([&]() -> Status {
    Stmt del = prepared("DELETE FROM tokens WHERE id = ?");
    FH_TRY(del.bind(1, token_id).run());
    if (sqlite3_changes(db_) != 1) return make_error(CKR_TOKEN_NOT_PRESENT, "store: no such token");
    return record_change(token_id, 0, ChangeKind::Token);
  });
}

Status SqliteStore::insert_attrs(int64_t id, const std::vector<StoredAttr>& attrs) {
  Stmt ins = prepared("INSERT INTO attributes(object_id, type, value, sealed) VALUES (?, ?, ?, ?)");
  for (const StoredAttr& a : attrs) {
    ins.reset();
    ins.bind(1, id).bind(2, static_cast<int64_t>(a.type)).bind(3, ByteView(a.value)).bind(4, a.sealed ? 1 : 0);
    FH_TRY(ins.run());
  }
  return {};
}

// Group commit: the first caller becomes the leader and runs every queued write in
// one transaction (each in its own savepoint, so one failure undoes only itself),
// then commits once; the callers that queued meanwhile share that one fsync. Every
// caller returns only after the COMMIT that holds its change, so each change is
// still durable when its call returns.
void SqliteStore::commit_batch(std::vector<WriteRequest*>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  Status st = writable();
  if (st.ok()) st = prepared("BEGIN IMMEDIATE").run();
  if (!st.ok()) {
    for (WriteRequest* r : batch) r->status = st;
    return;
  }
  bool any = false;
  for (WriteRequest* r : batch) {
    r->status = prepared("SAVEPOINT one_write").run();
    if (r->status.ok()) r->status = (*r->body)();
    if (r->status.ok()) {
      r->status = prepared("RELEASE one_write").run();
    } else {
      (void)prepared("ROLLBACK TO one_write").run();
      (void)prepared("RELEASE one_write").run();
    }
    any |= r->status.ok();
  }
  st = any ? prepared("COMMIT").run() : prepared("ROLLBACK").run();
  if (st.ok() && any) local_commits_.fetch_add(1);
  if (!st.ok()) {
    (void)prepared("ROLLBACK").run();
    for (WriteRequest* r : batch)
      if (r->status.ok()) r->status = st;
  }
}

Status SqliteStore::grouped(const std::function<Status()>& body) {
  WriteRequest req;
  req.body = &body;
  group_.submit(req, [this](std::vector<WriteRequest*>& batch) { commit_batch(batch); });
  return req.status;
}

Result<std::vector<int64_t>> SqliteStore::insert_objects(std::span<const NewObject> objects) {
  std::vector<int64_t> ids;
  FH_TRY(grouped([&]() -> Status {
    for (const NewObject& o : objects) {
      const ObjectMeta& m = *o.meta;
      Stmt ins = prepared("INSERT INTO objects(token_id, class, key_type, label, ckid, private) VALUES (?, ?, ?, ?, ?, ?)");
      ins.bind(1, m.token_id).bind(2, static_cast<int64_t>(m.cls)).bind(3, static_cast<int64_t>(m.key_type));
      ins.bind(4, ByteView(m.label)).bind(5, ByteView(m.ckid)).bind(6, m.is_private ? 1 : 0);
      FH_TRY(ins.run());
      const int64_t id = sqlite3_last_insert_rowid(db_);
      FH_ASSIGN_OR_RETURN(SealedObject sealed, (*o.seal)(id));
      FH_TRY(insert_attrs(id, sealed.attrs));
      if (!sealed.mac.empty()) {
        Stmt mac = prepared("UPDATE objects SET mac = ? WHERE id = ?");
        FH_TRY(mac.bind(1, ByteView(sealed.mac)).bind(2, id).run());
      }
      FH_TRY(record_change(m.token_id, id, ChangeKind::Insert));
      ids.push_back(id);
    }
    return {};
  }));
  return ids;
}

Status SqliteStore::update_object(int64_t id, const ObjectMeta& m, const SealedObject& sealed) {
  std::lock_guard<std::mutex> lock(mu_);
  return transaction([&]() -> Status {
    Stmt up = prepared(
        "UPDATE objects SET class = ?, key_type = ?, label = ?, ckid = ?, private = ?, mac = ? WHERE id = ?");
    up.bind(1, static_cast<int64_t>(m.cls)).bind(2, static_cast<int64_t>(m.key_type)).bind(3, ByteView(m.label));
    up.bind(4, ByteView(m.ckid)).bind(5, m.is_private ? 1 : 0).bind(7, id);
    if (!sealed.mac.empty()) up.bind(6, ByteView(sealed.mac));  // else NULL: no MAC yet
    FH_TRY(up.run());
    if (sqlite3_changes(db_) != 1) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: object was deleted");
    Stmt del = prepared("DELETE FROM attributes WHERE object_id = ?");
    FH_TRY(del.bind(1, id).run());
    FH_TRY(insert_attrs(id, sealed.attrs));
    return record_change(m.token_id, id, ChangeKind::Update);
  });
}

Status SqliteStore::delete_object(int64_t id) {
  return grouped([&]() -> Status {
    Stmt tok = prepared("SELECT token_id FROM objects WHERE id = ?");
    tok.bind(1, id);
    FH_ASSIGN_OR_RETURN(bool r, tok.step());
    if (!r) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: object was already deleted");
    int64_t token_id = tok.int64(0);
    Stmt del = prepared("DELETE FROM objects WHERE id = ?");
    FH_TRY(del.bind(1, id).run());
    return record_change(token_id, id, ChangeKind::Delete);
  });
}

Result<ObjectRow> SqliteStore::load_object(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return load_row(id);
}

Result<ObjectRow> SqliteStore::load_row(int64_t id) {
  Stmt o = prepared("SELECT token_id, class, key_type, label, ckid, private, mac FROM objects WHERE id = ?");
  o.bind(1, id);
  FH_ASSIGN_OR_RETURN(bool r, o.step());
  if (!r) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: no such object");
  ObjectRow row;
  row.id = id;
  row.meta.token_id = o.int64(0);
  row.meta.cls = static_cast<CK_OBJECT_CLASS>(o.int64(1));
  row.meta.key_type = static_cast<CK_ULONG>(o.int64(2));
  row.meta.label = o.blob(3);
  row.meta.ckid = o.blob(4);
  row.meta.is_private = o.int64(5) != 0;
  row.mac = o.blob(6);
  Stmt a = prepared("SELECT type, value, sealed FROM attributes WHERE object_id = ?");
  a.bind(1, id);
  for (;;) {
    FH_ASSIGN_OR_RETURN(bool more, a.step());
    if (!more) break;
    row.attrs.push_back(StoredAttr{static_cast<CK_ATTRIBUTE_TYPE>(a.int64(0)), a.blob(1), a.int64(2) != 0});
  }
  return row;
}

Result<size_t> SqliteStore::mac_unmaced_objects(int64_t token_id, const Macer& mac_of) {
  std::lock_guard<std::mutex> lock(mu_);
  auto unmaced = [&]() -> Result<std::vector<int64_t>> {
    Stmt s = prepared("SELECT id FROM objects WHERE token_id = ? AND mac IS NULL");
    s.bind(1, token_id);
    std::vector<int64_t> ids;
    for (;;) {
      FH_ASSIGN_OR_RETURN(bool r, s.step());
      if (!r) break;
      ids.push_back(s.int64(0));
    }
    return ids;
  };
  FH_ASSIGN_OR_RETURN(std::vector<int64_t> first, unmaced());
  if (first.empty()) return size_t{0};  // the usual case: no write lock
  size_t done = 0;
  FH_TRY(transaction([&]() -> Status {
    FH_ASSIGN_OR_RETURN(std::vector<int64_t> ids, unmaced());  // as of the write lock
    for (int64_t id : ids) {
      FH_ASSIGN_OR_RETURN(ObjectRow row, load_row(id));
      FH_ASSIGN_OR_RETURN(Bytes mac, mac_of(row));
      if (mac.empty()) continue;
      Stmt up = prepared("UPDATE objects SET mac = ? WHERE id = ? AND mac IS NULL");
      FH_TRY(up.bind(1, ByteView(mac)).bind(2, id).run());
      ++done;
    }
    return {};
  }));
  return done;
}

Result<std::vector<FoundObject>> SqliteStore::find(const ObjectQuery& q) {
  std::string sql = "SELECT id, private FROM objects WHERE token_id = ?";
  if (q.cls) sql += " AND class = ?";
  if (q.key_type) sql += " AND key_type = ?";
  if (q.label) sql += " AND label = ?";
  if (q.ckid) sql += " AND ckid = ?";
  if (!q.include_private) sql += " AND private = 0";
  sql += " ORDER BY id";
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared(sql);
  int i = 1;
  s.bind(i++, q.token_id);
  if (q.cls) s.bind(i++, static_cast<int64_t>(*q.cls));
  if (q.key_type) s.bind(i++, static_cast<int64_t>(*q.key_type));
  if (q.label) s.bind(i++, ByteView(*q.label));
  if (q.ckid) s.bind(i++, ByteView(*q.ckid));
  std::vector<FoundObject> out;
  for (;;) {
    FH_ASSIGN_OR_RETURN(bool r, s.step());
    if (!r) break;
    out.push_back(FoundObject{s.int64(0), s.int64(1) != 0});
  }
  return out;
}

Result<int64_t> SqliteStore::count_objects(int64_t token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("SELECT count(*) FROM objects WHERE token_id = ?");
  s.bind(1, token_id);
  FH_ASSIGN_OR_RETURN(bool r, s.step());
  return r ? s.int64(0) : 0;
}

// SQLite's data_version moves when another connection committed; this connection's own
// commits (other applications of this process, in a server) move the local count.
Result<int64_t> SqliteStore::data_version() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("PRAGMA data_version");
  FH_ASSIGN_OR_RETURN(bool r, s.step());
  const int64_t theirs = r ? s.int64(0) : 0;
  return static_cast<int64_t>(static_cast<uint64_t>(theirs) << 32 | (local_commits_.load() & 0xffffffffu));
}

Result<int64_t> SqliteStore::last_change_seq() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("SELECT coalesce(max(seq), 0) FROM changes");
  FH_ASSIGN_OR_RETURN(bool r, s.step());
  return r ? s.int64(0) : 0;
}

Result<int64_t> SqliteStore::oldest_change_seq() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("SELECT coalesce(min(seq), 0) FROM changes");
  FH_ASSIGN_OR_RETURN(bool r, s.step());
  return r ? s.int64(0) : 0;
}

Result<std::vector<Change>> SqliteStore::changes_since(int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s = prepared("SELECT seq, token_id, object_id, kind FROM changes WHERE seq > ? ORDER BY seq");
  s.bind(1, seq);
  std::vector<Change> out;
  for (;;) {
    FH_ASSIGN_OR_RETURN(bool r, s.step());
    if (!r) break;
    out.push_back(Change{s.int64(0), s.int64(1), s.int64(2), static_cast<ChangeKind>(s.int64(3))});
  }
  return out;
}

}  // namespace ferrohsm::store
