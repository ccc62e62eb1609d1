// Opening the store next to another connection's write transaction, and read-only.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace ferrohsm::store {
namespace {

using Clock = std::chrono::steady_clock;

long long MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

class SqliteOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fh-open-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "s.db").string();
    auto s = SqliteStore::open(path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    TokenRow r;
    r.slot_id = *(*s)->next_slot_id();
    r.label = "t";
    r.serial = "serial";
    r.so_wrap = {1};
    r.so_kdf = "k";
    ASSERT_TRUE((*s)->create_token(r).ok());
    token_ = r.id;
    ObjectMeta m;
    m.token_id = token_;
    m.cls = CKO_DATA;
    m.label = {'x'};
    auto id = (*s)->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
    ASSERT_TRUE(id.ok());
    object_ = *id;
  }
  void TearDown() override {
    if (held_ != nullptr) {
      sqlite3_exec(held_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(held_);
    }
    std::filesystem::remove_all(dir_);
  }
  // Another connection takes the write lock and keeps it until TearDown.
  void HoldWriteLock() {
    ASSERT_EQ(sqlite3_open(path_.c_str(), &held_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(held_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ObjectMeta Meta() const {
    ObjectMeta m;
    m.token_id = token_;
    m.cls = CKO_DATA;
    return m;
  }

  std::filesystem::path dir_;
  std::string path_;
  int64_t token_ = 0;
  int64_t object_ = 0;
  sqlite3* held_ = nullptr;
};

TEST_F(SqliteOpenTest, OpensAndReadsWhileAnotherConnectionWrites) {
  HoldWriteLock();
  auto start = Clock::now();
  auto s = SqliteStore::open(path_, OpenOptions{.busy_timeout_ms = 300});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_LT(MsSince(start), 250) << "a current schema is checked without the write lock";
  EXPECT_FALSE((*s)->read_only());
  EXPECT_EQ((*s)->tokens()->size(), 1u);
  EXPECT_TRUE((*s)->load_object(object_).ok());
  ObjectQuery q;
  q.token_id = token_;
  EXPECT_EQ((*s)->find(q)->size(), 1u);
  // A write waits the busy timeout, then says what happened.
  start = Clock::now();
  auto id = (*s)->insert_object(Meta(), [](int64_t) { return Result<SealedObject>(SealedObject{}); });
  long long waited = MsSince(start);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.rv(), CKR_DEVICE_ERROR);
  EXPECT_NE(id.error().message.find("database is locked"), std::string::npos) << id.error().message;
  EXPECT_GE(waited, 280);
  EXPECT_LT(waited, 3000);
  EXPECT_EQ((*s)->take_pin_attempt(token_, false, 3).rv(), CKR_DEVICE_ERROR) << "no PIN is tried uncounted";
}

TEST_F(SqliteOpenTest, ReadOnlyRefusesWritesAndCountsPinAttemptsInMemory) {
  auto s = SqliteStore::open(path_, OpenOptions{.read_only = true});
  ASSERT_TRUE(s.ok()) << s.error().message;
  SqliteStore& ro = **s;
  EXPECT_TRUE(ro.read_only());
  EXPECT_TRUE(ro.load_object(object_).ok());
  EXPECT_EQ(ro.insert_object(Meta(), [](int64_t) { return Result<SealedObject>(SealedObject{}); }).rv(),
            CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(ro.delete_object(object_).rv(), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(ro.update_object(object_, Meta(), SealedObject{}).rv(), CKR_TOKEN_WRITE_PROTECTED);
  TokenRow t = *ro.token(token_);
  EXPECT_EQ(ro.update_token(t).rv(), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(ro.delete_token(token_).rv(), CKR_TOKEN_WRITE_PROTECTED);
  t.slot_id = *ro.next_slot_id();
  t.serial = "other";
  EXPECT_EQ(ro.create_token(t).rv(), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(*ro.take_pin_attempt(token_, false, 2), 1u);
  EXPECT_EQ(*ro.take_pin_attempt(token_, false, 2), 2u);
  EXPECT_EQ(ro.take_pin_attempt(token_, false, 2).rv(), CKR_PIN_LOCKED);
  EXPECT_EQ(ro.token(token_)->user_failures, 2u) << "the flags see the in-memory count";
  EXPECT_EQ(ro.tokens()->at(0).user_failures, 2u);
  ASSERT_TRUE(ro.clear_pin_failures(token_, false).ok());
  EXPECT_EQ(ro.token(token_)->user_failures, 0u);
  // The file itself was not touched.
  auto rw = SqliteStore::open(path_);
  EXPECT_EQ((*rw)->token(token_)->user_failures, 0u);
  EXPECT_EQ(*(*rw)->count_objects(token_), 1);
}

TEST_F(SqliteOpenTest, ReadOnlyCannotCreateOrUpgrade) {
  auto missing = SqliteStore::open((dir_ / "missing.db").string(), OpenOptions{.read_only = true});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.rv(), CKR_DEVICE_ERROR);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.db"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = 1 WHERE key = 'schema_version'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto old = SqliteStore::open(path_, OpenOptions{.read_only = true});
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("read-write once"), std::string::npos) << old.error().message;
}

TEST_F(SqliteOpenTest, ASchema2StoreGetsTheUseCountersAndKeepsItsObjects) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE key_uses; UPDATE meta SET value = 2 WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto ro = SqliteStore::open(path_, OpenOptions{.read_only = true});
  ASSERT_FALSE(ro.ok()) << "a read-only open cannot upgrade";
  auto s = SqliteStore::open(path_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE((*s)->load_object(object_).ok());
  EXPECT_EQ(*(*s)->take_key_use("k", 2), 1u);
  EXPECT_EQ(*(*s)->key_uses("k"), 1u);
}

TEST_F(SqliteOpenTest, AReadOnlyStoreCountsUsesInThisProcess) {
  {
    auto rw = SqliteStore::open(path_);
    ASSERT_TRUE(rw.ok());
    ASSERT_EQ(*(*rw)->take_key_use("k", 5), 1u);
  }
  auto ro = SqliteStore::open(path_, OpenOptions{.read_only = true});
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(*(*ro)->take_key_use("k", 3), 2u) << "it starts from the stored count";
  EXPECT_EQ(*(*ro)->take_key_use("k", 3), 3u);
  EXPECT_EQ((*ro)->take_key_use("k", 3).rv(), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(*(*ro)->key_uses("k"), 3u);
}

// The file mode path (not the read_only option): run as a user who may not write. Root
// ignores file modes, so as root the check runs in a child that becomes `nobody`.
int OpenAsReader(const std::string& path, int64_t object) {
  auto s = SqliteStore::open(path);
  if (!s.ok()) return 10;
  if (!(*s)->read_only()) return 11;
  if (!(*s)->load_object(object).ok() || (*s)->tokens()->size() != 1) return 12;
  ObjectMeta m;
  m.token_id = 1;
  m.cls = CKO_DATA;
  if ((*s)->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); }).rv() !=
      CKR_TOKEN_WRITE_PROTECTED)
    return 13;
  return 0;
}

int RunAsReader(const std::string& path, int64_t object) {
  if (::geteuid() != 0) return OpenAsReader(path, object);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(20);
    ::_exit(OpenAsReader(path, object));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 30;
}

TEST_F(SqliteOpenTest, AFileThatCannotBeWrittenOpensReadOnly) {
  namespace fs = std::filesystem;
  // Closed cleanly above, so no -wal/-shm remain; the directory stays writable (the WAL
  // index can be made beside the file).
  fs::permissions(path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir_, fs::perms::all);
  EXPECT_EQ(RunAsReader(path_, object_), 0);
  // A read-only directory too: no WAL index can be made, so the file is read as immutable.
  for (const char* extra : {"-wal", "-shm"}) fs::remove(path_ + extra);
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(RunAsReader(path_, object_), 0);
  fs::permissions(dir_, fs::perms::owner_all);
}

}  // namespace
}  // namespace ferrohsm::store
