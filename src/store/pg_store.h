// The cluster store: the ObjectStore port on PostgreSQL, shared by every FerroHSM
// server (or embedded library) pointed at the same database. Every change is one
// transaction, committed before its call returns; concurrency is the database's:
// ids from identity columns, the free slot id by compare-and-set, unique slot ids and
// serials, PIN-failure and key-use counters raised by one UPDATE whose WHERE holds the
// limit (pg_statements.h), and a change log whose sequence numbers become visible in
// order, for the caches of the other servers (data_version, changes_since).
// PostgreSQL sees only what the core hands the port: sealed values and metadata.
#pragma once

#include "base/object_store.h"
#include "base/pg_conninfo.h"
#include "base/pg_pool.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ferrohsm::store {

class PgStore final : public ObjectStore {
 public:
  // Connects (pool of `settings.pool_size`) and applies the schema migrations.
  static Result<std::unique_ptr<PgStore>> open(const StoreSettings& settings);

  std::string describe() const override { return target_.described; }
  bool read_only() const override { return false; }

  Result<std::vector<TokenRow>> tokens() override;
  Result<TokenRow> token(int64_t id) override;
  Result<CK_SLOT_ID> next_slot_id() override;
  Result<int64_t> create_token(TokenRow& row) override;
  Status update_token(const TokenRow& row, const TokenUpdate& what = {}) override;
  Result<uint32_t> take_pin_attempt(int64_t token_id, bool so, uint32_t max) override;
  Status clear_pin_failures(int64_t token_id, bool so) override;
  Status replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) override;
  Status delete_token(int64_t token_id) override;

  Result<int64_t> insert_object(const ObjectMeta& meta, const Sealer& seal) override;
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

  size_t open_connections() const { return pool_->open_connections(); }

 private:
  PgStore(PgTarget target, uint32_t lock_wait_ms) : target_(std::move(target)), lock_wait_ms_(lock_wait_ms) {}
  Result<std::unique_ptr<PgConn>> connect();
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

  // Group commit of insert_object (pg_store.cc): a creation waiting here is committed
  // by the leader, in one transaction with the others queued meanwhile.
  struct InsertRequest {
    const ObjectMeta* meta;
    const Sealer* seal;
    int64_t id = 0;
    Status status;
    bool done = false;
  };
  void insert_batch(std::vector<InsertRequest*>& batch);
  Status insert_one(PgConn& c, InsertRequest& r);

  std::mutex queue_mu_;  // guards queue_ and leader_active_
  std::condition_variable queue_cv_;
  std::vector<InsertRequest*> queue_;
  bool leader_active_ = false;

  PgTarget target_;
  uint32_t lock_wait_ms_;  // store.busy_timeout_ms: how long a statement waits for a row lock
  std::unique_ptr<PgPool> pool_;
};

}  // namespace ferrohsm::store
