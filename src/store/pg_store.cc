#include "store/pg_store.h"

#include "base/log.h"
#include "store/pg_schema.h"
#include "store/pg_statements.h"

#include <algorithm>
#include <limits>

namespace ferrohsm::store {

namespace {

// Kept changes; a reader further behind reloads everything (as with SQLite).
constexpr int64_t kPgChangesKept = 10000;
// How long a call waits for a pooled connection before CKR_DEVICE_ERROR.
constexpr std::chrono::milliseconds kPoolWait{30'000};

TokenRow read_token(const PgResult& r, int i) {
  TokenRow t;
  t.id = r.int64(i, 0);
  t.slot_id = static_cast<CK_SLOT_ID>(r.int64(i, 1));
  t.label = r.text(i, 2);
  t.serial = r.text(i, 3);
  t.so_wrap = r.bytes(i, 4);
  t.so_kdf = r.text(i, 5);
  t.user_wrap = r.bytes(i, 6);
  t.user_kdf = r.text(i, 7);
  t.so_failures = static_cast<uint32_t>(r.int64(i, 8));
  t.user_failures = static_cast<uint32_t>(r.int64(i, 9));
  return t;
}

Error token_gone() { return make_error(CKR_TOKEN_NOT_PRESENT, "store: token was deleted"); }

// CK_ULONG values (classes, key types, attribute types) are stored as bigint, bit for bit.
int64_t as_bigint(CK_ULONG v) { return static_cast<int64_t>(v); }

// The channel every FerroHSM store on a database notifies and listens on (pg_statements.h,
// kFeedLock). Channels are per database: stores in other schemas of it wake the listener
// for nothing, which costs a change-log read, never a wrong answer.
constexpr const char* kChannel = "ferrohsm_changes";

Error write_protected(const std::string& where) {
  return make_error(CKR_TOKEN_WRITE_PROTECTED, "store: the PostgreSQL database at " + where +
                                                   " accepts no writes (a hot standby, or a read-only session)");
}

}  // namespace

Result<std::unique_ptr<PgStore>> PgStore::open(const StoreSettings& settings) {
  FH_ASSIGN_OR_RETURN(PgTarget target, parse_pg_target(settings.url, settings.password_file));
  std::unique_ptr<PgStore> s(new PgStore(std::move(target), settings.busy_timeout_ms));
  PgStore* self = s.get();
  s->pool_ = std::make_unique<PgPool>([self] { return self->connect(); }, settings.pool_size, kPoolWait);
  {
    FH_ASSIGN_OR_RETURN(PgPool::Lease c, s->pool_->take());
    // A standby cannot be migrated; one at the current schema serves read-only.
    Status migrated = pg_migrate(*c, s->describe());
    if (!migrated.ok())
      return migrated.rv() == CKR_TOKEN_WRITE_PROTECTED ? write_protected(s->describe()) : migrated.error();
  }
  s->listener_ = std::make_unique<PgListener>([self] { return self->connect_raw(); }, kChannel,
                                              [self] { self->tell_watchers(); });
  log().info("store: PostgreSQL {} (schema {}, up to {} connections{})", s->describe(), pg_schema_version(),
             settings.pool_size, s->read_only() ? ", read-only" : "");
  return s;
}

PgStore::~PgStore() { listener_.reset(); }  // its thread calls tell_watchers: it goes first

uint64_t PgStore::watch_changes(ChangeNotice notice) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  const uint64_t id = next_watch_++;
  watchers_.emplace(id, std::move(notice));
  return id;
}

void PgStore::unwatch_changes(uint64_t id) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  watchers_.erase(id);
}

void PgStore::tell_watchers() {
  std::lock_guard<std::mutex> lock(watch_mu_);
  for (auto& [id, notice] : watchers_) notice();
}

template <typename R>
R PgStore::noted_write(R r) {
  if (r.ok()) {
    if (read_only_.exchange(false, std::memory_order_acq_rel)) {
      log().info("store: PostgreSQL {} accepts writes again", describe());
      std::lock_guard<std::mutex> lock(overlay_mu_);
      failure_overlay_.clear();
      use_overlay_.clear();
    }
  } else if (r.rv() == CKR_TOKEN_WRITE_PROTECTED) {
    if (!read_only_.exchange(true, std::memory_order_acq_rel))
      log().warn("store: PostgreSQL {} refuses writes (a hot standby, or a read-only session): tokens are "
                 "write-protected",
                 describe());
    return write_protected(describe());
  }
  return r;
}

void PgStore::apply_overlay(TokenRow& t) {
  if (!read_only()) return;  // writable again (a new connection said so): the stored counts hold
  std::lock_guard<std::mutex> lock(overlay_mu_);
  if (auto it = failure_overlay_.find({t.id, true}); it != failure_overlay_.end()) t.so_failures = it->second;
  if (auto it = failure_overlay_.find({t.id, false}); it != failure_overlay_.end()) t.user_failures = it->second;
}

Result<std::unique_ptr<PgConn>> PgStore::connect() {
  FH_ASSIGN_OR_RETURN(PGconn * c, connect_raw());
  return std::make_unique<PgConn>(c, describe());
}

Result<PGconn*> PgStore::connect_raw() {
  // The base's defaults: TCP keepalives notice a peer that vanished without a word (a
  // host lost, a partition) within about 25 s, the listener too.
  auto opened = pg_connect(target_);
  if (!opened) return make_error(opened.error().rv, "store: " + opened.error().message);
  PGconn* c = *opened;
  // store.busy_timeout_ms, as with SQLite: a write waits this long for another server's
  // row lock, then answers CKR_DEVICE_ERROR (SQLSTATE 55P03). PostgreSQL's 0 would mean
  // "for ever", so 0 ms becomes 1. Then whether this session may write at all.
  const std::string setup = "SET lock_timeout = " + std::to_string(std::max<uint32_t>(lock_wait_ms_, 1)) +
                            "; SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::boolean";
  PGresult* r = PQexec(c, setup.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
    return make_error(CKR_DEVICE_ERROR, "store: PostgreSQL at " + describe() + " refused the session setup: " + why);
  }
  const bool ro = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (read_only_.exchange(ro, std::memory_order_acq_rel) != ro)
    log().info("store: PostgreSQL {} is {}", describe(), ro ? "read-only (a hot standby, or a read-only session)"
                                                            : "writable");
  return c;
}

template <typename F>
auto PgStore::with_conn(F&& body) -> decltype(body(std::declval<PgConn&>())) {
  auto lease = pool_->take();
  if (!lease.ok()) return lease.error();
  return body(**lease);
}

template <typename F>
Status PgStore::with_tx(F&& body) {
  return noted_write(
      with_conn([&](PgConn& c) -> Status { return pg_transaction(c, [&]() -> Status { return body(c); }); }));
}

Result<int64_t> PgStore::single(const PgStatement& st) {
  return with_conn([&](PgConn& c) -> Result<int64_t> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(st));
    return r.rows() ? r.int64(0, 0) : 0;
  });
}

// Sequence numbers are taken when a row is inserted but become visible at COMMIT, so
// two writers could show a reader change n+1 before change n, and a reader that moved
// its position to n+1 would never see n. The transaction-level advisory lock, taken
// before the first change row and held to COMMIT, orders the writers' last steps: a
// number is taken only after every smaller one was committed or rolled back. Every
// transaction writes its change rows last, after all its other row locks, so the lock
// never waits inside a cycle. The lock's statement also queues the transaction's NOTIFY
// (pg_statements.h), delivered at COMMIT in the same order, no extra round trip.
Status PgStore::record_change(PgConn& c, bool& feed_locked, int64_t token_id, int64_t object_id, ChangeKind kind) {
  if (!feed_locked) {
    FH_TRY(c.run(pg::kFeedLock));
    feed_locked = true;
  }
  FH_ASSIGN_OR_RETURN(PgResult r,
                      c.run(pg::kRecordChange, PgParams().add(token_id).add(object_id).add(int64_t{static_cast<int>(kind)})));
  const int64_t seq = r.int64(0, 0);
  if (seq % 1000 == 0) FH_TRY(c.run(pg::kPruneChanges, PgParams().add(seq - kPgChangesKept)));
  return {};
}

Result<std::vector<TokenRow>> PgStore::tokens() {
  return with_conn([&](PgConn& c) -> Result<std::vector<TokenRow>> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kTokens));
    std::vector<TokenRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(read_token(r, i));
      apply_overlay(out.back());
    }
    return out;
  });
}

Result<TokenRow> PgStore::token(int64_t id) {
  return with_conn([&](PgConn& c) -> Result<TokenRow> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kToken, PgParams().add(id)));
    if (r.rows() == 0) return token_gone();
    TokenRow t = read_token(r, 0);
    apply_overlay(t);
    return t;
  });
}

Result<CK_SLOT_ID> PgStore::next_slot_id() {
  FH_ASSIGN_OR_RETURN(int64_t v, single(pg::kNextSlot));
  return static_cast<CK_SLOT_ID>(v);
}

Result<int64_t> PgStore::create_token(TokenRow& row) {
  if (row.slot_id >= 0x7fffffffUL) return make_error(CKR_DEVICE_MEMORY, "store: no slot ids left");
  int64_t id = 0;
  FH_TRY(with_tx([&](PgConn& c) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult taken, c.run(pg::kTakeSlot, PgParams().add(static_cast<int64_t>(row.slot_id))));
    if (taken.rows() == 0)
      return make_error(CKR_SLOT_ID_INVALID, "store: slot was taken by another process; list slots again");
    PgParams p;
    p.add(static_cast<int64_t>(row.slot_id)).add(row.label).add(row.serial).add(ByteView(row.so_wrap));
    p.add(row.so_kdf).add(ByteView(row.user_wrap)).add(row.user_kdf);
    FH_ASSIGN_OR_RETURN(PgResult ins, c.run(pg::kInsertToken, p));
    id = ins.int64(0, 0);
    bool locked = false;
    return record_change(c, locked, id, 0, ChangeKind::Token);
  }));
  row.id = id;
  return id;
}

Status PgStore::update_token(const TokenRow& row, const TokenUpdate& what) {
  return with_tx([&](PgConn& c) -> Status {
    PgParams p;
    p.add(row.label).add(ByteView(row.so_wrap)).add(row.so_kdf).add(ByteView(row.user_wrap)).add(row.user_kdf);
    p.add(what.reset_so_failures).add(what.reset_user_failures).add(row.id);
    FH_ASSIGN_OR_RETURN(PgResult up, c.run(pg::kUpdateToken, p));
    if (up.rows() != 1) return token_gone();
    std::vector<int64_t> gone;
    if (what.drop_objects) {
      FH_ASSIGN_OR_RETURN(PgResult del, c.run(pg::kDropObjects, PgParams().add(row.id)));
      for (int i = 0; i < del.rows(); ++i) gone.push_back(del.int64(i, 0));
    }
    bool locked = false;
    for (int64_t o : gone) FH_TRY(record_change(c, locked, row.id, o, ChangeKind::Delete));
    return record_change(c, locked, row.id, 0, ChangeKind::Token);
  });
}

Result<uint32_t> PgStore::take_pin_attempt(int64_t token_id, bool so, uint32_t max) {
  uint32_t taken = 0;
  Status st = with_tx([&](PgConn& c) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(so ? pg::kTakeSoAttempt : pg::kTakeUserAttempt,
                                          PgParams().add(token_id).add(int64_t{max})));
    if (r.rows() == 0) {
      FH_ASSIGN_OR_RETURN(PgResult exists, c.run(pg::kTokenExists, PgParams().add(token_id)));
      if (exists.rows() == 0) return token_gone();
      return make_error(CKR_PIN_LOCKED, std::string(so ? "SO" : "user") + " PIN is locked");
    }
    taken = static_cast<uint32_t>(r.int64(0, 0));
    bool locked = false;
    return record_change(c, locked, token_id, 0, ChangeKind::Token);
  });
  if (st.ok()) return taken;
  if (st.rv() != CKR_TOKEN_WRITE_PROTECTED) return st.error();
  // Nothing can be written: the count lives in this process, over the stored one (as
  // with a read-only SQLite file). Servers on a standby do not share it.
  FH_ASSIGN_OR_RETURN(TokenRow t, token(token_id));
  std::lock_guard<std::mutex> lock(overlay_mu_);
  uint32_t& n = failure_overlay_.try_emplace({token_id, so}, so ? t.so_failures : t.user_failures).first->second;
  if (n >= max) return make_error(CKR_PIN_LOCKED, std::string(so ? "SO" : "user") + " PIN is locked");
  return ++n;
}

Status PgStore::clear_pin_failures(int64_t token_id, bool so) {
  if (read_only()) {
    std::lock_guard<std::mutex> lock(overlay_mu_);
    failure_overlay_[{token_id, so}] = 0;
    return {};
  }
  return with_tx([&](PgConn& c) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(so ? pg::kClearSo : pg::kClearUser, PgParams().add(token_id)));
    if (r.rows() == 0) return {};
    bool locked = false;
    return record_change(c, locked, token_id, 0, ChangeKind::Token);
  });
}

Status PgStore::replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) {
  return with_tx([&](PgConn& c) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(so ? pg::kReplaceSoWrap : pg::kReplaceUserWrap,
                                          PgParams().add(new_wrap).add(token_id).add(old_wrap)));
    if (r.rows() == 0) return {};
    bool locked = false;
    return record_change(c, locked, token_id, 0, ChangeKind::Token);
  });
}

Status PgStore::delete_token(int64_t token_id) {
  return with_tx([&](PgConn& c) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kDeleteToken, PgParams().add(token_id)));
    if (r.rows() != 1) return make_error(CKR_TOKEN_NOT_PRESENT, "store: no such token");
    bool locked = false;
    return record_change(c, locked, token_id, 0, ChangeKind::Token);
  });
}

Status PgStore::insert_attrs(PgConn& c, int64_t id, const std::vector<StoredAttr>& attrs) {
  if (attrs.empty()) return {};
  std::vector<int64_t> types;
  std::vector<ByteView> values;
  std::vector<bool> sealed;
  for (const StoredAttr& a : attrs) {
    types.push_back(as_bigint(a.type));
    values.emplace_back(a.value);
    sealed.push_back(a.sealed);
  }
  FH_TRY(c.run(pg::kInsertAttrs, PgParams().add(id).add_array(types).add_array(values).add_array(sealed)));
  return {};
}

// Group commit of creations and destructions. The change log's feed lock is held from a
// transaction's first change row to its COMMIT (record_change), so commits that write
// change rows happen one at a time across every server, each with its own WAL flush: one
// write per fdatasync at best (docs/PERFORMANCE.md, "PostgreSQL cluster"). So the writes
// of this process's concurrent callers share one transaction: the first caller becomes
// the leader and runs every queued write, then their change rows — still the
// transaction's last writes — and one COMMIT. Every caller returns after the COMMIT that
// holds its write: each is still durable when its call returns.
Result<int64_t> PgStore::insert_one(PgConn& c, const ObjectMeta& m, const Sealer& seal) {
  PgParams p;
  p.add(m.token_id).add(as_bigint(m.cls)).add(as_bigint(m.key_type)).add(ByteView(m.label)).add(ByteView(m.ckid));
  p.add(m.is_private);
  FH_ASSIGN_OR_RETURN(PgResult ins, c.run(pg::kInsertObject, p));
  const int64_t id = ins.int64(0, 0);
  FH_ASSIGN_OR_RETURN(SealedObject sealed, seal(id));
  FH_TRY(insert_attrs(c, id, sealed.attrs));
  if (!sealed.mac.empty()) FH_TRY(c.run(pg::kSetMac, PgParams().add(ByteView(sealed.mac)).add(id)));
  return id;
}

void PgStore::write_batch(std::vector<GroupedWrite*>& batch) {
  // Together first; should any write fail, each one again in a transaction of its own,
  // so that one failure is that caller's alone (a savepoint per write would cost two
  // more round trips each, and writes rarely fail here: the core checks the template
  // before the store sees it).
  auto run = [&](std::vector<GroupedWrite*>& writes) -> Status {
    return with_tx([&](PgConn& c) -> Status {
      std::vector<LoggedChange> changes;
      changes.reserve(writes.size());
      for (GroupedWrite* w : writes) FH_TRY((*w->body)(c, changes));
      bool locked = false;
      for (const LoggedChange& ch : changes) FH_TRY(record_change(c, locked, ch.token_id, ch.object_id, ch.kind));
      return {};
    });
  };
  Status st = run(batch);
  if (st.ok() || batch.size() == 1) {
    for (GroupedWrite* w : batch) w->status = st;
    return;
  }
  for (GroupedWrite* w : batch) {
    std::vector<GroupedWrite*> alone{w};
    w->status = run(alone);
  }
}

Status PgStore::grouped(const WriteBody& body) {
  GroupedWrite w{&body, {}};
  writes_.submit(w, [this](std::vector<GroupedWrite*>& batch) { write_batch(batch); });
  return w.status;
}

Result<std::vector<int64_t>> PgStore::insert_objects(std::span<const NewObject> objects) {
  std::vector<int64_t> ids;
  FH_TRY(grouped([&](PgConn& c, std::vector<LoggedChange>& changes) -> Status {
    ids.clear();  // a batch that failed runs each write again alone
    for (const NewObject& o : objects) {
      FH_ASSIGN_OR_RETURN(int64_t id, insert_one(c, *o.meta, *o.seal));
      ids.push_back(id);
      changes.push_back(LoggedChange{o.meta->token_id, id, ChangeKind::Insert});
    }
    return {};
  }));
  return ids;
}

Status PgStore::update_object(int64_t id, const ObjectMeta& m, const SealedObject& sealed) {
  return with_tx([&](PgConn& c) -> Status {
    PgParams p;
    p.add(as_bigint(m.cls)).add(as_bigint(m.key_type)).add(ByteView(m.label)).add(ByteView(m.ckid)).add(m.is_private);
    if (sealed.mac.empty()) p.add_null();  // no MAC yet
    else p.add(ByteView(sealed.mac));
    p.add(id);
    FH_ASSIGN_OR_RETURN(PgResult up, c.run(pg::kUpdateObject, p));
    if (up.rows() != 1) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: object was deleted");
    FH_TRY(c.run(pg::kDeleteAttrs, PgParams().add(id)));
    FH_TRY(insert_attrs(c, id, sealed.attrs));
    bool locked = false;
    return record_change(c, locked, m.token_id, id, ChangeKind::Update);
  });
}

Status PgStore::delete_object(int64_t id) {
  return grouped([&](PgConn& c, std::vector<LoggedChange>& changes) -> Status {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kDeleteObject, PgParams().add(id)));
    if (r.rows() != 1) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: object was already deleted");
    changes.push_back(LoggedChange{r.int64(0, 0), id, ChangeKind::Delete});
    return {};
  });
}

Result<ObjectRow> PgStore::load_row(PgConn& c, int64_t id) {
  FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kLoadObject, PgParams().add(id)));
  if (r.rows() == 0) return make_error(CKR_OBJECT_HANDLE_INVALID, "store: no such object");
  ObjectRow row;
  row.id = id;
  row.meta.token_id = r.int64(0, 0);
  row.meta.cls = static_cast<CK_OBJECT_CLASS>(r.int64(0, 1));
  row.meta.key_type = static_cast<CK_ULONG>(r.int64(0, 2));
  row.meta.label = r.bytes(0, 3);
  row.meta.ckid = r.bytes(0, 4);
  row.meta.is_private = r.boolean(0, 5);
  row.mac = r.bytes(0, 6);
  for (int i = 0; i < r.rows(); ++i)
    if (!r.null(i, 7))
      row.attrs.push_back(StoredAttr{static_cast<CK_ATTRIBUTE_TYPE>(r.int64(i, 7)), r.bytes(i, 8), r.boolean(i, 9)});
  return row;
}

Result<ObjectRow> PgStore::load_object(int64_t id) {
  return with_conn([&](PgConn& c) { return load_row(c, id); });
}

Result<size_t> PgStore::mac_unmaced_objects(int64_t token_id, const Macer& mac_of) {
  FH_ASSIGN_OR_RETURN(int64_t any, with_conn([&](PgConn& c) -> Result<int64_t> {
                        FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kUnmaced, PgParams().add(token_id)));
                        return r.rows();
                      }));
  if (any == 0) return size_t{0};  // the usual case: nothing locked
  size_t done = 0;
  FH_TRY(with_tx([&](PgConn& c) -> Status {
    done = 0;
    // The rows as of their locks: another server's concurrent MAC'ing waits, then finds them done.
    FH_ASSIGN_OR_RETURN(PgResult ids, c.run(pg::kLockUnmaced, PgParams().add(token_id)));
    for (int i = 0; i < ids.rows(); ++i) {
      const int64_t id = ids.int64(i, 0);
      FH_ASSIGN_OR_RETURN(ObjectRow row, load_row(c, id));
      FH_ASSIGN_OR_RETURN(Bytes mac, mac_of(row));
      if (mac.empty()) continue;
      FH_ASSIGN_OR_RETURN(PgResult up, c.run(pg::kSetMacIfNone, PgParams().add(ByteView(mac)).add(id)));
      done += static_cast<size_t>(up.affected());
    }
    return {};
  }));
  return done;
}

Result<std::vector<FoundObject>> PgStore::find(const ObjectQuery& q) {
  // One prepared statement per combination of set fields (at most 32), named by it.
  const unsigned mask = (q.cls ? 1u : 0u) | (q.key_type ? 2u : 0u) | (q.label ? 4u : 0u) | (q.ckid ? 8u : 0u) |
                        (q.include_private ? 16u : 0u);
  PgStatement st{"find_" + std::to_string(mask), "SELECT id, private FROM objects WHERE token_id = $1"};
  PgParams p;
  p.add(q.token_id);
  int n = 1;
  auto where = [&](const char* column) { st.sql += std::string(" AND ") + column + " = $" + std::to_string(++n); };
  if (q.cls) where("class"), p.add(as_bigint(*q.cls));
  if (q.key_type) where("key_type"), p.add(as_bigint(*q.key_type));
  if (q.label) where("label"), p.add(ByteView(*q.label));
  if (q.ckid) where("ckid"), p.add(ByteView(*q.ckid));
  if (!q.include_private) st.sql += " AND NOT private";
  st.sql += " ORDER BY id";
  return with_conn([&](PgConn& c) -> Result<std::vector<FoundObject>> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(st, p));
    std::vector<FoundObject> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(FoundObject{r.int64(i, 0), r.boolean(i, 1)});
    return out;
  });
}

Result<int64_t> PgStore::count_objects(int64_t token_id) {
  return with_conn([&](PgConn& c) -> Result<int64_t> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kCountObjects, PgParams().add(token_id)));
    return r.int64(0, 0);
  });
}

Result<uint64_t> PgStore::take_key_use(const std::string& key, uint64_t max) {
  auto refused = [&] {
    return make_error(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key has been used " + std::to_string(max) + " times");
  };
  if (max == 0) return refused();  // the statement's first use would be the 1 it must not grant
  const auto limit = static_cast<int64_t>(std::min<uint64_t>(max, std::numeric_limits<int64_t>::max()));
  // One statement, so one transaction: the insert of a first use, or the increment
  // while below the limit, under the row's lock.
  auto took = noted_write(with_conn([&](PgConn& c) -> Result<int64_t> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kTakeKeyUse, PgParams().add(key).add(limit)));
    return r.rows() ? r.int64(0, 0) : int64_t{-1};
  }));
  if (!took.ok() && took.rv() == CKR_TOKEN_WRITE_PROTECTED) {
    // Read-only: counted in this process, over the stored count.
    FH_ASSIGN_OR_RETURN(uint64_t stored, key_uses(key));
    std::lock_guard<std::mutex> lock(overlay_mu_);
    uint64_t& n = use_overlay_.try_emplace(key, stored).first->second;
    if (n >= max) return refused();
    return ++n;
  }
  FH_ASSIGN_OR_RETURN(int64_t uses, std::move(took));
  if (uses < 0) return refused();
  return static_cast<uint64_t>(uses);
}

Result<uint64_t> PgStore::key_uses(const std::string& key) {
  if (read_only()) {
    std::lock_guard<std::mutex> lock(overlay_mu_);
    if (auto it = use_overlay_.find(key); it != use_overlay_.end()) return it->second;
  }
  return with_conn([&](PgConn& c) -> Result<uint64_t> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kKeyUses, PgParams().add(key)));
    return r.rows() ? static_cast<uint64_t>(r.int64(0, 0)) : uint64_t{0};
  });
}

Result<int64_t> PgStore::data_version() { return single(pg::kLastChange); }
Result<int64_t> PgStore::last_change_seq() { return single(pg::kLastChange); }
Result<int64_t> PgStore::oldest_change_seq() { return single(pg::kOldestChange); }

Result<std::vector<Change>> PgStore::changes_since(int64_t seq) {
  return with_conn([&](PgConn& c) -> Result<std::vector<Change>> {
    FH_ASSIGN_OR_RETURN(PgResult r, c.run(pg::kChangesSince, PgParams().add(seq)));
    std::vector<Change> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(Change{r.int64(i, 0), r.int64(i, 1), r.int64(i, 2), static_cast<ChangeKind>(r.int64(i, 3))});
    return out;
  });
}

}  // namespace ferrohsm::store
