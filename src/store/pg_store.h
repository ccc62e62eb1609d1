// The cluster store: the ObjectStore port on PostgreSQL, shared by every FerroHSM
// server (or embedded library) pointed at the same database. Every change is one
// transaction, committed before its call returns; concurrency is the database's:
// ids from identity columns, the free slot id by compare-and-set, unique slot ids and
// serials, PIN-failure and key-use counters raised by one UPDATE whose WHERE holds the
// limit (pg_statements.h), and a change log whose sequence numbers become visible in
// order, for the caches of the other servers (data_version, changes_since), announced
// by a NOTIFY in the same transaction that a listener (pg_listener.h) hears and passes
// to the watchers (watch_changes). A database that refuses writes (a hot standby, or
// default_transaction_read_only) makes the store read-only: writes answer
// CKR_TOKEN_WRITE_PROTECTED and PIN failure and key use counts live in this process.
// PostgreSQL sees only what the core hands the port: sealed values and metadata.
#pragma once

#include "base/group_commit.h"
#include "base/object_store.h"
#include "base/pg_conninfo.h"
#include "base/pg_pool.h"
#include "store/pg_listener.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ferrohsm::store {

class PgStore final : public ObjectStore {
 public:
  // Connects (pool of `settings.pool_size`) and applies the schema migrations.
  static Result<std::unique_ptr<PgStore>> open(const StoreSettings& settings);

  ~PgStore() override;

  std::string describe() const override { return target_.described; }
  // As last seen: at each new connection (pg_is_in_recovery(), transaction_read_only)
  // and at each write (refused with SQLSTATE 25006, or done).
  bool read_only() const override { return read_only_.load(std::memory_order_acquire); }

  Result<std::vector<TokenRow>> tokens() override;
  Result<TokenRow> token(int64_t id) override;
  Result<CK_SLOT_ID> next_slot_id() override;
  Result<int64_t> create_token(TokenRow& row) override;
  Status update_token(const TokenRow& row, const TokenUpdate& what = {}) override;
  Result<uint32_t> take_pin_attempt(int64_t token_id, bool so, uint32_t max) override;
  Status clear_pin_failures(int64_t token_id, bool so) override;
  Status replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) override;
  Status delete_token(int64_t token_id) override;

  Result<std::vector<int64_t>> insert_objects(std::span<const NewObject> objects) override;
  Status update_object(int64_t id, const ObjectMeta& meta, const SealedObject& sealed) override;
  Status delete_object(int64_t id) override;
  Result<ObjectRow> load_object(int64_t id) override;
  Result<std::vector<FoundObject>> find(const ObjectQuery& q) override;
  Result<int64_t> count_objects(int64_t token_id) override;
  Result<size_t> mac_unmaced_objects(int64_t token_id, const Macer& mac_of) override;

  Result<uint64_t> take_key_use(const std::string& key, uint64_t max) override;
  Result<uint64_t> key_uses(const std::string& key) override;

  // data_version is the newest visible change's number: with the ordered log it moves
  // exactly when a change was committed by anyone.
  Result<int64_t> data_version() override;
  Result<int64_t> last_change_seq() override;
  Result<std::vector<Change>> changes_since(int64_t seq) override;
  Result<int64_t> oldest_change_seq() override;

  uint64_t watch_changes(ChangeNotice notice) override;
  void unwatch_changes(uint64_t id) override;
  bool hearing_changes() const override { return listening(); }

  size_t open_connections() const { return pool_->open_connections(); }
  // True while the listener hears this database's change notices.
  bool listening() const { return listener_ && listener_->listening(); }

 private:
  PgStore(PgTarget target, uint32_t lock_wait_ms) : target_(std::move(target)), lock_wait_ms_(lock_wait_ms) {}
  // A new connection, set up (lock_timeout) and its read-only state noted.
  Result<PGconn*> connect_raw();
  Result<std::unique_ptr<PgConn>> connect();
  void tell_watchers();
  // A write's outcome: a refusal by a read-only database marks the store read-only, a
  // write done marks it writable again (and the in-process counts are dropped).
  template <typename R>
  R noted_write(R r);
  // Runs `body` with a pooled connection; in one transaction for with_tx.
  template <typename F>
  auto with_conn(F&& body) -> decltype(body(std::declval<PgConn&>()));
  template <typename F>
  Status with_tx(F&& body);
  // Appends to the change log (taking the feed lock at the transaction's first change);
  // a transaction's changes come after all its other writes.
  Status record_change(PgConn& c, bool& feed_locked, int64_t token_id, int64_t object_id, ChangeKind kind);
  Status insert_attrs(PgConn& c, int64_t id, const std::vector<StoredAttr>& attrs);
  Result<ObjectRow> load_row(PgConn& c, int64_t id);
  Result<int64_t> single(const PgStatement& st);

  // Group commit of creations and destructions (pg_store.cc): a write waiting here is
  // committed by the leader, in one transaction with the others queued meanwhile. Its
  // body does the write and appends the changes to log; it may run twice (alone, after
  // a batch that failed), so it keeps no state across runs.
  struct LoggedChange {
    int64_t token_id;
    int64_t object_id;
    ChangeKind kind;
  };
  using WriteBody = std::function<Status(PgConn&, std::vector<LoggedChange>&)>;
  struct GroupedWrite {
    const WriteBody* body;
    Status status;
  };
  Status grouped(const WriteBody& body);
  void write_batch(std::vector<GroupedWrite*>& batch);
  Result<int64_t> insert_one(PgConn& c, const ObjectMeta& m, const Sealer& seal);

  GroupCommit<GroupedWrite> writes_;

  PgTarget target_;
  uint32_t lock_wait_ms_;  // store.busy_timeout_ms: how long a statement waits for a row lock
  std::unique_ptr<PgPool> pool_;
  std::atomic<bool> read_only_{false};

  // Read-only: PIN failures and key uses counted here, over the stored values.
  std::mutex overlay_mu_;
  std::map<std::pair<int64_t, bool>, uint32_t> failure_overlay_;
  std::map<std::string, uint64_t> use_overlay_;
  void apply_overlay(TokenRow& t);

  std::mutex watch_mu_;  // held while notices run, so unwatch waits for a running one
  std::map<uint64_t, ChangeNotice> watchers_;
  uint64_t next_watch_ = 1;
  std::unique_ptr<PgListener> listener_;  // last: stopped first
};

}  // namespace ferrohsm::store
