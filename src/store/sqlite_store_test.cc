#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

namespace ferrohsm::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fh-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "sub" / "s.db").string();
    auto s = SqliteStore::open(path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t make_token(const std::string& label) {
    TokenRow r;
    r.slot_id = *store_->next_slot_id();
    r.label = label;
    r.serial = "serial-" + label;
    r.so_wrap = {1, 2, 3};
    r.so_kdf = "k";
    auto id = store_->create_token(r);
    EXPECT_TRUE(id.ok());
    return *id;
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, SlotIdsCountUpAndAreNeverReused) {
  EXPECT_EQ(*store_->next_slot_id(), 0u);
  int64_t a = make_token("a");
  make_token("b");
  EXPECT_EQ(*store_->next_slot_id(), 2u);
  ASSERT_TRUE(store_->delete_token(a).ok());
  EXPECT_EQ(*store_->next_slot_id(), 2u);
  auto toks = store_->tokens();
  ASSERT_EQ(toks->size(), 1u);
  EXPECT_EQ((*toks)[0].slot_id, 1u);
  // A stale free-slot id (another process took it) is refused.
  TokenRow r;
  r.slot_id = 0;
  r.label = "c";
  r.serial = "s-c";
  r.so_wrap = {1};
  r.so_kdf = "k";
  EXPECT_EQ(store_->create_token(r).rv(), CKR_SLOT_ID_INVALID);
}

TEST_F(SqliteStoreTest, ObjectsAreFoundByIndexedColumns) {
  int64_t t = make_token("a");
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_SECRET_KEY;
  m.key_type = CKK_AES;
  m.label = {'k', '1'};
  m.ckid = {1};
  auto id = store_->insert_object(m, [](int64_t) {
    return Result<SealedObject>(SealedObject{{{CKA_VALUE, {9, 9}, true}, {CKA_LABEL, {'k', '1'}, false}}, {}});
  });
  ASSERT_TRUE(id.ok());
  m.label = {'k', '2'};
  m.is_private = true;
  auto id2 = store_->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
  ASSERT_TRUE(id2.ok());
  ObjectQuery q;
  q.token_id = t;
  q.label = Bytes{'k', '1'};
  ASSERT_EQ(store_->find(q)->size(), 1u);
  EXPECT_EQ((*store_->find(q))[0].id, *id);
  q.label.reset();
  q.cls = CKO_SECRET_KEY;
  EXPECT_EQ(store_->find(q)->size(), 1u);  // the private one needs include_private
  q.include_private = true;
  EXPECT_EQ(store_->find(q)->size(), 2u);
  auto row = store_->load_object(*id);
  ASSERT_TRUE(row.ok());
  ASSERT_EQ(row->attrs.size(), 2u);
  EXPECT_TRUE(row->attrs[0].sealed || row->attrs[1].sealed);
  ASSERT_TRUE(store_->delete_object(*id).ok());
  EXPECT_EQ(store_->load_object(*id).rv(), CKR_OBJECT_HANDLE_INVALID);
  EXPECT_EQ(store_->delete_object(*id).rv(), CKR_OBJECT_HANDLE_INVALID);
}

TEST_F(SqliteStoreTest, AFailedSealerLeavesNothingBehind) {
  int64_t t = make_token("a");
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_DATA;
  auto id = store_->insert_object(m, [](int64_t) -> Result<SealedObject> {
    return make_error(CKR_USER_NOT_LOGGED_IN, "no key");
  });
  EXPECT_EQ(id.rv(), CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(*store_->count_objects(t), 0);
}

TEST_F(SqliteStoreTest, AnotherConnectionSeesChangesThroughTheLog) {
  int64_t t = make_token("a");
  auto other = SqliteStore::open(path_);
  ASSERT_TRUE(other.ok());
  int64_t dv = *(*other)->data_version();
  int64_t seq = *(*other)->last_change_seq();
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_DATA;
  auto id = store_->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
  ASSERT_TRUE(id.ok());
  EXPECT_NE(*(*other)->data_version(), dv);
  auto changes = (*other)->changes_since(seq);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].object_id, *id);
  EXPECT_EQ((*changes)[0].kind, ChangeKind::Insert);
}

TEST_F(SqliteStoreTest, PinAttemptsAreTakenUpToTheLimitAndClearedOnSuccess) {
  int64_t t = make_token("a");
  auto other = SqliteStore::open(path_);  // a second connection counts against the same row
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*store_->take_pin_attempt(t, false, 3), 1u);
  EXPECT_EQ(*(*other)->take_pin_attempt(t, false, 3), 2u);
  EXPECT_EQ(*store_->take_pin_attempt(t, false, 3), 3u);
  EXPECT_EQ(store_->take_pin_attempt(t, false, 3).rv(), CKR_PIN_LOCKED);
  EXPECT_EQ((*other)->take_pin_attempt(t, false, 3).rv(), CKR_PIN_LOCKED);
  EXPECT_EQ(store_->token(t)->user_failures, 3u);
  EXPECT_EQ(store_->token(t)->so_failures, 0u) << "the SO count is its own";
  // A PIN change does not touch the counts unless asked to.
  TokenRow row = *store_->token(t);
  row.user_failures = 0;
  row.label = "renamed";
  ASSERT_TRUE(store_->update_token(row).ok());
  EXPECT_EQ(store_->token(t)->user_failures, 3u);
  ASSERT_TRUE(store_->update_token(row, TokenUpdate{.reset_user_failures = true}).ok());
  EXPECT_EQ(store_->token(t)->user_failures, 0u);
  EXPECT_EQ(*store_->take_pin_attempt(t, true, 3), 1u);
  ASSERT_TRUE(store_->clear_pin_failures(t, true).ok());
  EXPECT_EQ(store_->token(t)->so_failures, 0u);
  EXPECT_EQ(store_->take_pin_attempt(t + 100, true, 3).rv(), CKR_TOKEN_NOT_PRESENT);
}

TEST_F(SqliteStoreTest, ObjectsWithoutAMacAreGivenTheOneAskedFor) {
  int64_t t = make_token("a");
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_DATA;
  auto with_mac = store_->insert_object(m, [](int64_t) {
    return Result<SealedObject>(SealedObject{{{CKA_LABEL, {'a'}, false}}, Bytes(32, 7)});
  });
  auto without = store_->insert_object(m, [](int64_t) {
    return Result<SealedObject>(SealedObject{{{CKA_LABEL, {'b'}, false}}, {}});
  });
  auto refused = store_->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
  ASSERT_TRUE(with_mac.ok() && without.ok() && refused.ok());
  EXPECT_EQ(store_->load_object(*with_mac)->mac, Bytes(32, 7));
  EXPECT_TRUE(store_->load_object(*without)->mac.empty());
  std::vector<int64_t> seen;
  auto n = store_->mac_unmaced_objects(t, [&](const ObjectRow& r) -> Result<Bytes> {
    seen.push_back(r.id);
    if (r.id == *refused) return Bytes{};  // left without
    EXPECT_EQ(r.attrs.size(), 1u);
    return Bytes(32, 9);
  });
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(seen, (std::vector<int64_t>{*without, *refused}));
  EXPECT_EQ(store_->load_object(*without)->mac, Bytes(32, 9));
  EXPECT_TRUE(store_->load_object(*refused)->mac.empty());
  EXPECT_EQ(store_->load_object(*with_mac)->mac, Bytes(32, 7)) << "a MAC is never replaced";
  // An update without a MAC clears the old one (it no longer matches the rows).
  ASSERT_TRUE(store_->update_object(*with_mac, m, SealedObject{{{CKA_LABEL, {'c'}, false}}, {}}).ok());
  EXPECT_TRUE(store_->load_object(*with_mac)->mac.empty());
}

TEST_F(SqliteStoreTest, SchemaOneIsUpgradedAndKeepsItsRows) {
  store_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  std::string old = (dir_ / "v1.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old.c_str(), &db), SQLITE_OK);
  // Schema 1 as FerroHSM wrote it before object MACs.
  const char* v1 = R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta(key, value) VALUES ('schema_version', 1), ('next_slot_id', 1);
    CREATE TABLE tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, slot_id INTEGER NOT NULL UNIQUE,
      label TEXT NOT NULL, serial TEXT NOT NULL UNIQUE, so_wrap BLOB NOT NULL, so_kdf TEXT NOT NULL,
      user_wrap BLOB NOT NULL DEFAULT x'', user_kdf TEXT NOT NULL DEFAULT '',
      so_failures INTEGER NOT NULL DEFAULT 0, user_failures INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE objects (id INTEGER PRIMARY KEY AUTOINCREMENT,
      token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
      class INTEGER NOT NULL, key_type INTEGER NOT NULL,
      label BLOB NOT NULL, ckid BLOB NOT NULL, private INTEGER NOT NULL);
    CREATE TABLE attributes (object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
      type INTEGER NOT NULL, value BLOB NOT NULL, sealed INTEGER NOT NULL,
      PRIMARY KEY (object_id, type)) WITHOUT ROWID;
    CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
      token_id INTEGER NOT NULL, object_id INTEGER NOT NULL, kind INTEGER NOT NULL);
    INSERT INTO tokens(slot_id, label, serial, so_wrap, so_kdf) VALUES (0, 't', 's', x'01', 'k');
    INSERT INTO objects(token_id, class, key_type, label, ckid, private) VALUES (1, 0, -1, x'6c', x'', 0);
    INSERT INTO attributes VALUES (1, 3, x'6c', 0);
  )sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto s = SqliteStore::open(old);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto row = (*s)->load_object(1);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_TRUE(row->mac.empty()) << "an object from before MACs has none until its token's next login";
  ASSERT_EQ(row->attrs.size(), 1u);
  EXPECT_EQ((*s)->tokens()->size(), 1u);
  s->reset();
  ASSERT_EQ(sqlite3_open(old.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 3) << "1 → 2 → 3 in one open";
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ferrohsm::store
