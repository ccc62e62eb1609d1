// The object store port: what the core needs from durable storage, and what each store
// (SQLite for the embedded default, PostgreSQL for a cluster) implements. The core owns
// this contract; it sits in the base library because the stores may include nothing
// but base, and the core may include no store.
//
// A store keeps token rows (label, slot id, the PIN-wrapped token key and its KDF
// parameters, PIN failure counters) and object rows (indexed metadata, attributes — the
// sensitive ones sealed — and an integrity MAC). It never sees a PIN or an unsealed
// secret. Every change is durable when its call returns. Several processes, connections
// or servers may share one store: the change feed (data_version, changes_since) tells
// each what the others did.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ferrohsm::store {

struct TokenRow {
  int64_t id = 0;
  CK_SLOT_ID slot_id = 0;
  std::string label;   // up to 32 bytes, unpadded
  std::string serial;  // 16 hex characters
  Bytes so_wrap;       // token key sealed under the SO PIN's key
  std::string so_kdf;  // "pbkdf2-sha256:<iterations>:<salt hex>"
  Bytes user_wrap;     // empty until C_InitPIN
  std::string user_kdf;
  uint32_t so_failures = 0;
  uint32_t user_failures = 0;
};

// What update_token changes besides label, wraps and KDF parameters.
struct TokenUpdate {
  bool drop_objects = false;         // re-initialisation: every object of the token goes
  bool reset_so_failures = false;
  bool reset_user_failures = false;  // C_InitPIN unlocks the user
};

struct StoredAttr {
  CK_ATTRIBUTE_TYPE type = 0;
  Bytes value;  // sealed blob when `sealed`
  bool sealed = false;
};

// The columns lookups use; the same values are also among the attributes.
struct ObjectMeta {
  int64_t token_id = 0;
  CK_OBJECT_CLASS cls = 0;
  CK_ULONG key_type = CK_UNAVAILABLE_INFORMATION;
  Bytes label;
  Bytes ckid;
  bool is_private = false;
};

// An object's attributes as stored, and the MAC over them (empty: none yet).
struct SealedObject {
  std::vector<StoredAttr> attrs;
  Bytes mac;
};

struct ObjectRow {
  int64_t id = 0;
  ObjectMeta meta;
  std::vector<StoredAttr> attrs;
  Bytes mac;
};

// An indexed lookup: each set field must match.
struct ObjectQuery {
  int64_t token_id = 0;
  std::optional<CK_OBJECT_CLASS> cls;
  std::optional<CK_ULONG> key_type;
  std::optional<Bytes> label;
  std::optional<Bytes> ckid;
  bool include_private = false;
};

struct FoundObject {
  int64_t id = 0;
  bool is_private = false;
};

enum class ChangeKind { Insert = 1, Update = 2, Delete = 3, Token = 4 };

struct Change {
  int64_t seq = 0;
  int64_t token_id = 0;
  int64_t object_id = 0;  // 0 for token-level changes
  ChangeKind kind = ChangeKind::Update;
};

// How to reach a store (the [store] section of the configuration).
struct StoreSettings {
  std::string path;                 // SQLite: the database file
  uint32_t busy_timeout_ms = 5000;  // a write waits this long for another writer's lock
  bool read_only = false;           // open read-only: writes answer CKR_TOKEN_WRITE_PROTECTED
  std::string backend = "sqlite";   // "sqlite" or "postgres"
  // PostgreSQL: a "postgresql://…" URL or a libpq connection string, without a password;
  // the password comes from `password_file` (mode 0600 or stricter) or libpq's own
  // PGPASSFILE / ~/.pgpass.
  std::string url;
  std::string password_file;
  uint32_t pool_size = 8;  // PostgreSQL: at most this many pooled connections per store (and one listener)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Where the store is, for logs ("/var/lib/ferrohsm/ferrohsm.db", "postgresql://host/db").
  virtual std::string describe() const = 0;
  // True when writes answer CKR_TOKEN_WRITE_PROTECTED.
  virtual bool read_only() const = 0;

  // --- tokens ----------------------------------------------------------------------------
  virtual Result<std::vector<TokenRow>> tokens() = 0;
  virtual Result<TokenRow> token(int64_t id) = 0;  // CKR_TOKEN_NOT_PRESENT when gone
  // The slot id the next token will take (the free slot's id).
  virtual Result<CK_SLOT_ID> next_slot_id() = 0;
  // Creates a token at the free slot id (`row.slot_id`, checked against the current value
  // so that two writers cannot both take it). Returns the new id.
  virtual Result<int64_t> create_token(TokenRow& row) = 0;
  // Replaces label, wraps and KDF parameters, in one transaction with what `what` asks.
  // The failure counters change otherwise only by take_pin_attempt/clear_pin_failures.
  virtual Status update_token(const TokenRow& row, const TokenUpdate& what = {}) = 0;
  // Counts a PIN attempt before the PIN is checked, atomically: CKR_PIN_LOCKED when `max`
  // attempts have already failed, else one more and the new count. Concurrent callers,
  // anywhere, are never together granted more than `max` wrong guesses.
  virtual Result<uint32_t> take_pin_attempt(int64_t token_id, bool so, uint32_t max) = 0;
  virtual Status clear_pin_failures(int64_t token_id, bool so) = 0;
  // Replaces one role's wrapped token key if it is still `old_wrap`; nothing otherwise.
  virtual Status replace_wrap(int64_t token_id, bool so, ByteView old_wrap, ByteView new_wrap) = 0;
  virtual Status delete_token(int64_t token_id) = 0;

  // --- objects -----------------------------------------------------------------------------
  // `seal` runs inside the transaction with the new object's id, so that sealed values and
  // the MAC can be bound to it. Returns once the object is durable.
  using Sealer = std::function<Result<SealedObject>(int64_t object_id)>;
  struct NewObject {
    const ObjectMeta* meta;
    const Sealer* seal;
  };
  // Several objects in one transaction (a generated key pair): all of them or none, one
  // durable commit. Their ids, in order.
  virtual Result<std::vector<int64_t>> insert_objects(std::span<const NewObject> objects) = 0;
  Result<int64_t> insert_object(const ObjectMeta& meta, const Sealer& seal) {
    const NewObject one{&meta, &seal};
    FH_ASSIGN_OR_RETURN(std::vector<int64_t> ids, insert_objects(std::span<const NewObject>(&one, 1)));
    return ids.at(0);
  }
  virtual Status update_object(int64_t id, const ObjectMeta& meta, const SealedObject& sealed) = 0;
  virtual Status delete_object(int64_t id) = 0;
  virtual Result<ObjectRow> load_object(int64_t id) = 0;  // CKR_OBJECT_HANDLE_INVALID when gone
  virtual Result<std::vector<FoundObject>> find(const ObjectQuery& q) = 0;
  virtual Result<int64_t> count_objects(int64_t token_id) = 0;
  // Gives each object of the token without a MAC the one `mac_of` computes (empty: leave
  // it), in one transaction. Returns how many got one.
  using Macer = std::function<Result<Bytes>(const ObjectRow&)>;
  virtual Result<size_t> mac_unmaced_objects(int64_t token_id, const Macer& mac_of) = 0;

  // --- policy use counters (core/policy.h: max_uses) ----------------------------------------
  // Counts one use of the key `key` (the caller's name for it: the token's serial and the
  // key's CKA_UNIQUE_ID) against `max`, atomically: CKR_KEY_FUNCTION_NOT_PERMITTED when
  // `max` uses were already counted, else one more and the new count. Concurrent callers,
  // anywhere on the store, are never together granted more than `max` uses.
  virtual Result<uint64_t> take_key_use(const std::string& key, uint64_t max) = 0;
  // The uses counted so far (0 for a key never counted).
  virtual Result<uint64_t> key_uses(const std::string& key) = 0;

  // --- the change feed ----------------------------------------------------------------------
  // A number that moves whenever anything was committed (by anyone); cheap to read.
  virtual Result<int64_t> data_version() = 0;
  virtual Result<int64_t> last_change_seq() = 0;
  virtual Result<std::vector<Change>> changes_since(int64_t seq) = 0;
  // The oldest change still kept (older ones are pruned): a reader behind it starts afresh.
  virtual Result<int64_t> oldest_change_seq() = 0;

  // --- change notices -----------------------------------------------------------------------
  // A store that hears of commits as they happen (PostgreSQL's LISTEN/NOTIFY) calls every
  // watcher's `notice` when changes may have arrived — also after it lost and regained its
  // way of hearing, since it may have missed some. The notice runs on the store's own
  // thread: it must be quick and must not call the store; the watcher reads the change
  // feed itself, later. A store that cannot push (SQLite: other processes' commits are
  // found by data_version at a find) keeps these defaults: watch answers 0, nothing is
  // ever called. unwatch returns once no call of that notice is running.
  using ChangeNotice = std::function<void()>;
  virtual uint64_t watch_changes(ChangeNotice /*notice*/) { return 0; }
  virtual void unwatch_changes(uint64_t /*id*/) {}
  // True while notices are sure to come (the store hears the database): a watcher with no
  // notice pending may trust what it cached. False otherwise, and while reconnecting.
  virtual bool hearing_changes() const { return false; }
};

}  // namespace ferrohsm::store
