// The embedded store: one SQLite database in WAL mode. Every change is one
// transaction, durable when the call returns (synchronous=FULL). Several processes
// may share the file: each sees the others' changes through the `changes` log,
// which a reader consults only when SQLite's data_version says the file moved.
//
// Opening takes no write lock when the schema is current, so a process starts while
// another holds a write transaction; a file that cannot be written opens read-only
// (as does any with OpenOptions::read_only): every write then answers
// CKR_TOKEN_WRITE_PROTECTED, and PIN failure counts are kept in this process. A
// write waits for another connection's lock at most `busy_timeout_ms`, with a
// warning in the log, then answers CKR_DEVICE_ERROR ("database is locked"). Reads
// never wait for writers (WAL).
#pragma once

#include "base/group_commit.h"
#include "base/object_store.h"
#include "base/result.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace ferrohsm {
class Stmt;  // base/sqlite_stmt.h
}

namespace ferrohsm::store {

struct OpenOptions {
  uint32_t busy_timeout_ms = 5000;  // how long a write waits for another connection's lock
  bool read_only = false;           // open read-only even when the file could be written
};

class SqliteStore final : public ObjectStore {
 public:
  // Opens (creating parent folders and the schema when needed and writable).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, const OpenOptions& options = {});
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const { return path_; }
  // True when open read-only (configured, or the file cannot be written).
  bool read_only() const override { return read_only_; }
  std::string describe() const override { return path_; }

  // Tokens.
  Result<std::vector<TokenRow>> tokens() override;
  Result<TokenRow> token(int64_t id) override;
  // The slot id the next token will take (the free slot's id).
  Result<CK_SLOT_ID> next_slot_id() override;
  // Creates a token at the free slot id (passed as `row.slot_id`, checked against the
  // current value so that two processes cannot both take it). Returns the new id.
  Result<int64_t> create_token(TokenRow& row) override;
  // Replaces label, wraps and KDF parameters, in one transaction with what `what`
  // asks. The failure counters are otherwise changed only by take_pin_attempt and
  // clear_pin_failures, so a PIN change never undoes a concurrent attempt's count.
  Status update_token(const TokenRow& row, const TokenUpdate& what = {}) override;
  // Counts a PIN attempt before the PIN is checked, in one write transaction: refuses
  // with CKR_PIN_LOCKED when `max` attempts have already failed, otherwise adds one and
  // returns the new count. A correct PIN then calls clear_pin_failures. So concurrent
  // callers, in any process, are never together granted more than `max` wrong guesses.
  Result<uint32_t> take_pin_attempt(int64_t token_id, bool so, uint32_t max) override;
  Status clear_pin_failures(int64_t token_id, bool so) override;
  // Replaces one role's wrapped token key if it is still `old_wrap` (a re-wrap that
  // must not undo a concurrent C_SetPIN); does nothing otherwise.
  Status replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) override;
  Status delete_token(int64_t token_id) override;

  // Objects. `seal` is called inside the transaction with the new object's id so
  // that sealed values and the MAC can be bound to it. Concurrent inserts and deletes
  // share one commit (group commit); each returns only once its change is durable.
  Result<std::vector<int64_t>> insert_objects(std::span<const NewObject> objects) override;
  Status update_object(int64_t id, const ObjectMeta& meta, const SealedObject& sealed) override;
  Status delete_object(int64_t id) override;
  Result<ObjectRow> load_object(int64_t id) override;
  Result<std::vector<FoundObject>> find(const ObjectQuery& q) override;
  Result<int64_t> count_objects(int64_t token_id) override;
  // Gives each object of the token that has no MAC the one `mac_of` computes (an empty
  // result leaves it without), reading and writing in one transaction so that no
  // concurrent change is MAC'd unseen. Takes no write lock when every object has a
  // MAC. Returns how many objects got one.
  Result<size_t> mac_unmaced_objects(int64_t token_id, const Macer& mac_of) override;

  // Policy use counters, in table key_uses (schema 3). A read-only store counts in this
  // process (as it does PIN failures).
  Result<uint64_t> take_key_use(const std::string& key, uint64_t max) override;
  Result<uint64_t> key_uses(const std::string& key) override;

  // Cross-process change tracking.
  Result<int64_t> data_version() override;   // changes when another connection committed
  Result<int64_t> last_change_seq() override;
  Result<std::vector<Change>> changes_since(int64_t seq) override;
  Result<int64_t> oldest_change_seq() override;

 private:
  SqliteStore(std::string path, const OpenOptions& options) : path_(std::move(path)), options_(options) {}
  // sqlite_open.cc: the connection, the busy handler and the schema.
  Status connect(bool read_only, bool immutable);
  Status check_schema();
  Result<int> schema_version();  // 0 for an empty database
  Status migrate();
  static int on_busy(void* self, int count);
  Status exec(const char* sql);
  Status writable() const;  // CKR_TOKEN_WRITE_PROTECTED when open read-only
  void apply_failure_overlay(TokenRow& t) const;  // read-only: counts kept in memory (mu_ held)
  Status record_change(int64_t token_id, int64_t object_id, ChangeKind kind);
  Status insert_attrs(int64_t id, const std::vector<StoredAttr>& attrs);
  Result<ObjectRow> load_row(int64_t id);  // mu_ held
  // One change queued for group commit; `body` runs inside the shared transaction.
  struct WriteRequest {
    const std::function<Status()>* body = nullptr;
    Status status;
  };
  // Runs `body` in a transaction shared with concurrent callers; returns once committed.
  Status grouped(const std::function<Status()>& body);
  void commit_batch(std::vector<WriteRequest*>& batch);
  // The connection's cached statement for `sql`, prepared on first use (mu_ held).
  Stmt prepared(const std::string& sql);
  template <typename F>
  Status transaction(F&& body);

  std::string path_;
  OpenOptions options_;
  bool read_only_ = false;
  sqlite3* db_ = nullptr;
  std::mutex mu_;  // one connection; calls serialise on it (only cache misses reach here)
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
  std::atomic<int64_t> local_commits_{0};  // this connection's commits (see data_version)  // prepared once per connection, under mu_
  // The busy handler's wait in progress (SQLite calls it with mu_ held).
  std::chrono::steady_clock::time_point busy_since_;
  bool busy_warned_ = false;
  // Read-only stores: PIN failure counts by (token id, SO), kept in this process (mu_).
  std::map<std::pair<int64_t, bool>, uint32_t> failure_overlay_;
  // Read-only stores: policy use counts by key, kept in this process (mu_).
  std::map<std::string, uint64_t> use_overlay_;
  // Group commit of insert_object / delete_object: callers queue; one leader at a time
  // writes the queue.
  GroupCommit<WriteRequest> group_;
};

}  // namespace ferrohsm::store
