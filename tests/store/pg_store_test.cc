// What the PostgreSQL store adds to the contract: counters that hold across processes,
// a change feed that a reader follows without gaps while writers race, migrations that
// two servers may start at once, a database from a newer FerroHSM refused, a lost
// connection answered and then recovered, and the password kept out of every message.
#include "pg_env.h"
#include "store/open_store.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

namespace ferrohsm::store {
namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = pgtest::schema_name(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(pgtest::server().sql("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"), "");
    settings_ = pgtest::settings_for(schema_);
  }
  std::shared_ptr<ObjectStore> Open(StoreSettings s) {
    auto r = open_store(s);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : nullptr;
  }
  std::shared_ptr<ObjectStore> Open() { return Open(settings_); }
  int64_t MakeToken(ObjectStore& st, const std::string& label) { return pgtest::make_token(st, label); }

  std::string schema_;
  StoreSettings settings_;
};

// In each of `procs` forked processes and this one, `threads` threads each make
// `tries` attempts; returns how many were granted in all (each child reports its own
// count through a pipe; a child that fails to report counts as a failure).
template <typename Attempt>
int RaceAcrossProcesses(int procs, int threads, int tries, const StoreSettings& settings, Attempt attempt) {
  auto run_here = [&](ObjectStore& st) {
    std::atomic<int> granted{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([&] {
        for (int k = 0; k < tries; ++k)
          if (attempt(st)) ++granted;
      });
    for (auto& t : ts) t.join();
    return granted.load();
  };
  std::vector<std::pair<pid_t, int>> children;
  for (int p = 0; p < procs; ++p) {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      // A store of its own: the parent's connections are never touched here.
      auto st = open_store(settings);
      int granted = st.ok() ? run_here(**st) : -1000;
      (void)!::write(fds[1], &granted, sizeof granted);
      _exit(0);  // no destructors: nothing of the parent's is closed from here
    }
    ::close(fds[1]);
    children.emplace_back(pid, fds[0]);
  }
  auto st = open_store(settings);
  int total = st.ok() ? run_here(**st) : -1000;
  for (auto [pid, fd] : children) {
    int granted = -1000;
    if (::read(fd, &granted, sizeof granted) != sizeof granted) granted = -1000;
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    total += granted;
  }
  return total;
}

TEST_F(PgStoreTest, ThreadsInThreeProcessesNeverGetMoreWrongPinsThanTheLockoutAllows) {
  auto store = Open();
  const int64_t t = MakeToken(*store, "race");
  constexpr uint32_t kMax = 25;
  // 3 processes × 4 threads × 8 attempts = 96 against a limit of 25.
  const int granted = RaceAcrossProcesses(2, 4, 8, settings_, [&](ObjectStore& st) {
    return st.take_pin_attempt(t, false, kMax).ok();
  });
  EXPECT_EQ(granted, static_cast<int>(kMax));
  EXPECT_EQ(store->token(t)->user_failures, kMax);
  EXPECT_EQ(store->take_pin_attempt(t, false, kMax).rv(), CKR_PIN_LOCKED);
}

TEST_F(PgStoreTest, ThreadsInThreeProcessesNeverUseAKeyMoreThanItsMax) {
  constexpr uint64_t kMax = 31;
  const int granted = RaceAcrossProcesses(2, 4, 8, settings_, [&](ObjectStore& st) {
    return st.take_key_use("serial/race-key", kMax).ok();
  });
  EXPECT_EQ(granted, static_cast<int>(kMax));
  EXPECT_EQ(*Open()->key_uses("serial/race-key"), kMax);
  EXPECT_EQ(Open()->take_key_use("serial/race-key", 0).rv(), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

TEST_F(PgStoreTest, AReaderFollowingTheFeedWhileWritersRaceMissesNoChange) {
  auto store = Open();
  const int64_t t = MakeToken(*store, "feed");
  auto reader = Open();
  int64_t pos = *reader->last_change_seq();
  std::set<int64_t> seen;
  std::atomic<bool> writing{true};
  std::vector<int64_t> made[4];
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int k = 0; k < 40; ++k) {
        ObjectMeta m;
        m.token_id = t;
        m.cls = CKO_DATA;
        auto id = store->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
        if (id.ok()) made[w].push_back(*id);
      }
    });
  // The reader moves its position to the last change it saw, as Token::sync does; a
  // change committed later with a smaller number would be lost for good.
  std::thread follow([&] {
    while (writing.load()) {
      auto changes = reader->changes_since(pos);
      if (!changes.ok()) continue;
      for (const Change& c : *changes) {
        pos = c.seq;
        if (c.kind == ChangeKind::Insert) seen.insert(c.object_id);
      }
    }
  });
  for (auto& th : writers) th.join();
  writing = false;
  follow.join();
  auto rest = reader->changes_since(pos);
  ASSERT_TRUE(rest.ok());
  for (const Change& c : *rest)
    if (c.kind == ChangeKind::Insert) seen.insert(c.object_id);
  size_t total = 0;
  for (auto& ids : made) {
    total += ids.size();
    for (int64_t id : ids) EXPECT_TRUE(seen.count(id)) << "object " << id << " never reached the reader";
  }
  EXPECT_EQ(total, 160u);
}

// Concurrent creations share one transaction (group commit, pg_store.cc); a creation
// that fails there is its caller's failure alone: the others of its batch are
// committed, each once, with their change rows, and the failed one leaves nothing.
TEST_F(PgStoreTest, ConcurrentCreationsShareACommitAndAFailureIsItsCallersAlone) {
  auto store = Open();
  const int64_t t = MakeToken(*store, "grouped");
  const int64_t from = *store->last_change_seq();
  constexpr int kThreads = 8, kEach = 30;
  std::vector<int64_t> made[kThreads];
  std::atomic<int> failed{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < kThreads; ++w)
    ts.emplace_back([&, w] {
      for (int k = 0; k < kEach; ++k) {
        ObjectMeta m;
        m.token_id = t;
        m.cls = CKO_DATA;
        m.label = B("w" + std::to_string(w) + "-" + std::to_string(k));
        const bool fail = w == 3 && k % 5 == 0;  // thread 3's sealing fails now and then
        auto id = store->insert_object(m, [fail](int64_t) -> Result<SealedObject> {
          if (fail) return make_error(CKR_GENERAL_ERROR, "sealing failed");
          return SealedObject{};
        });
        if (fail) {
          EXPECT_FALSE(id.ok());
          if (!id.ok()) {
            EXPECT_EQ(id.error().rv, static_cast<CK_RV>(CKR_GENERAL_ERROR));
          }
          failed.fetch_add(1);
        } else {
          EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
          if (id.ok()) made[w].push_back(*id);
        }
      }
    });
  for (auto& th : ts) th.join();
  std::set<int64_t> ids;
  for (auto& v : made) ids.insert(v.begin(), v.end());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach - failed.load()));
  EXPECT_EQ(*store->count_objects(t), static_cast<int64_t>(ids.size()));
  auto changes = store->changes_since(from);
  ASSERT_TRUE(changes.ok());
  std::multiset<int64_t> logged;
  for (const Change& c : *changes)
    if (c.kind == ChangeKind::Insert) logged.insert(c.object_id);
  EXPECT_EQ(logged, std::multiset<int64_t>(ids.begin(), ids.end()));
  for (int64_t id : ids) EXPECT_TRUE(store->load_object(id).ok()) << id;
}

TEST_F(PgStoreTest, ServersStartingAtOnceOnAnEmptyDatabaseMigrateItOnce) {
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      auto r = open_store(settings_);
      if (r.ok()) ++ok;
      else ADD_FAILURE() << r.error().message;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 4);
  auto store = Open();
  EXPECT_EQ(MakeToken(*store, "after") > 0, true);
}

TEST_F(PgStoreTest, ADatabaseOfANewerFerroHsmIsRefusedNamingBothSchemas) {
  ASSERT_NE(Open(), nullptr);
  ASSERT_EQ(pgtest::server().sql("UPDATE " + schema_ + ".meta SET value = 99 WHERE key = 'schema_version'"), "");
  auto again = open_store(settings_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.rv(), CKR_DEVICE_ERROR);
  EXPECT_NE(again.error().message.find("schema 99"), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("schema " + std::to_string(pg_schema_version())), std::string::npos)
      << again.error().message;
}

TEST_F(PgStoreTest, ALostConnectionAnswersDeviceErrorAndTheNextCallReconnects) {
  StoreSettings s = settings_;
  s.url += " application_name=fh_lost";
  s.pool_size = 2;
  auto store = Open(s);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->tokens().ok());
  ASSERT_EQ(pgtest::server().sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fh_lost'"),
            "");
  auto lost = store->tokens();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.rv(), CKR_DEVICE_ERROR);
  EXPECT_NE(lost.error().message.find("lost the connection"), std::string::npos) << lost.error().message;
  auto back = store->tokens();
  EXPECT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(store->next_slot_id().ok());
}

TEST_F(PgStoreTest, ThePasswordComesOnlyFromAPrivateFileAndIsNeverShown) {
  const std::string file = pgtest::server().dir() + "/../fh-pg-password-" + std::to_string(::getpid());
  {
    std::ofstream f(file);
    f << "hunter2-secret\n";
  }
  StoreSettings s = settings_;
  s.password_file = file;
  ::chmod(file.c_str(), 0644);
  auto open = open_store(s);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
  ::chmod(file.c_str(), 0600);
  auto store = Open(s);  // the server trusts the socket: the password is sent only if asked
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->describe().find("hunter2"), std::string::npos);
  EXPECT_NE(store->describe().find("postgresql://"), std::string::npos) << store->describe();
  std::filesystem::remove(file);

  StoreSettings in_url = settings_;
  in_url.url = "postgresql://fh:hunter2-secret@localhost/db";
  auto refused = open_store(in_url);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("password_file"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("hunter2"), std::string::npos) << refused.error().message;
}

TEST_F(PgStoreTest, ThePasswordFromTheFileIsSentAndAWrongOneIsRefusedWithoutShowingIt) {
  ASSERT_EQ(pgtest::server().sql("DROP ROLE IF EXISTS pw_user"), "");
  ASSERT_EQ(pgtest::server().sql("CREATE ROLE pw_user LOGIN PASSWORD 'right-horse-battery'"), "");
  ASSERT_EQ(pgtest::server().sql("GRANT ALL ON SCHEMA " + schema_ + " TO pw_user"), "");
  const std::string file = pgtest::server().dir() + "/../fh-pg-pw-" + std::to_string(::getpid());
  auto write = [&](const std::string& pw) {
    std::ofstream(file, std::ios::trunc) << pw << "\n";
    ::chmod(file.c_str(), 0600);
  };
  StoreSettings s = settings_;
  s.url = pgtest::url_for(schema_) + " user=pw_user";  // a keyword given twice: libpq takes the last
  s.password_file = file;
  write("wrong-horse-battery");
  auto refused = open_store(s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.rv(), CKR_DEVICE_ERROR);
  EXPECT_NE(refused.error().message.find("password authentication failed"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find("horse"), std::string::npos) << refused.error().message;
  write("right-horse-battery");  // read again at the next connection: a rotated file is taken up
  auto store = open_store(s);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_GT(MakeToken(**store, "with-password"), 0);
  EXPECT_EQ((*store)->describe().find("horse"), std::string::npos);
  std::filesystem::remove(file);
}

TEST_F(PgStoreTest, AWriteWaitsForAnotherServersRowLockAtMostBusyTimeout) {
  StoreSettings s = settings_;
  s.busy_timeout_ms = 300;
  auto store = Open(s);
  ASSERT_NE(store, nullptr);
  const int64_t t = MakeToken(*store, "held");
  // Another server's transaction holds the token's row.
  PGconn* other = PQconnectdb(pgtest::url_for(schema_).c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  PQclear(PQexec(other, "BEGIN"));
  PGresult* held = PQexec(other, ("SELECT 1 FROM tokens WHERE id = " + std::to_string(t) + " FOR UPDATE").c_str());
  ASSERT_EQ(PQresultStatus(held), PGRES_TUPLES_OK);
  PQclear(held);
  const auto start = std::chrono::steady_clock::now();
  auto r = store->take_pin_attempt(t, false, 10);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.rv(), CKR_DEVICE_ERROR);
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("55P03"), std::string::npos) << r.error().message;
  }
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(10));
  PQclear(PQexec(other, "COMMIT"));
  PQfinish(other);
  EXPECT_EQ(*store->take_pin_attempt(t, false, 10), 1u) << "the refused attempt counted nothing";
}

TEST_F(PgStoreTest, ThePoolNeverOpensMoreConnectionsThanItsSize) {
  StoreSettings s = settings_;
  s.url += " application_name=fh_pool";
  s.pool_size = 2;
  auto opened = PgStore::open(s);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  PgStore& store = **opened;
  const int64_t t = MakeToken(store, "pool");
  std::atomic<int> failed{0};
  std::atomic<size_t> most{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 6; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 10; ++k) {
        if (!store.token(t).ok()) ++failed;
        size_t open = store.open_connections(), seen = most.load();
        while (open > seen && !most.compare_exchange_weak(seen, open)) {
        }
      }
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LE(most.load(), 2u);
  PGconn* admin = PQconnectdb(pgtest::server().conninfo("postgres").c_str());
  PGresult* n = PQexec(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fh_pool'");
  ASSERT_EQ(PQresultStatus(n), PGRES_TUPLES_OK);
  // The pool's, and the change listener's own one (pg_listener.h).
  EXPECT_LE(std::atoi(PQgetvalue(n, 0, 0)), 2 + 1) << "connections the server sees";
  PQclear(n);
  PQfinish(admin);
}

TEST(OpenStore, AnUnknownBackendIsRefusedNamingBoth) {
  StoreSettings s;
  s.backend = "oracle";
  auto r = open_store(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sqlite, postgres"), std::string::npos) << r.error().message;
}

TEST_F(PgStoreTest, EveryByteValueOfAnAttributeComesBackAsWritten) {
  auto store = Open();
  const int64_t t = MakeToken(*store, "bytes");
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_SECRET_KEY;
  m.key_type = CK_UNAVAILABLE_INFORMATION;  // the largest CK_ULONG, stored bit for bit
  m.label = B("{\"quoted\\\",}");
  auto id = store->insert_object(m, [&](int64_t) {
    SealedObject o;
    o.attrs.push_back({CKA_VALUE, all, true});
    o.attrs.push_back({CKA_LABEL, m.label, false});
    o.attrs.push_back({CKA_ID, Bytes{}, false});
    o.attrs.push_back({CKA_VENDOR_DEFINED | 1, B("NULL"), false});
    return Result<SealedObject>(o);
  });
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto row = store->load_object(*id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->meta.key_type, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(row->meta.label, m.label);
  ASSERT_EQ(row->attrs.size(), 4u);
  for (const StoredAttr& a : row->attrs) {
    if (a.type == CKA_VALUE) {
      EXPECT_EQ(a.value, all);
    } else if (a.type == CKA_ID) {
      EXPECT_TRUE(a.value.empty());
    } else if (a.type == (CKA_VENDOR_DEFINED | 1)) {
      EXPECT_EQ(a.value, B("NULL"));
    }
  }
  ObjectQuery q;
  q.token_id = t;
  q.key_type = CK_UNAVAILABLE_INFORMATION;
  q.label = m.label;
  EXPECT_EQ(store->find(q)->size(), 1u);
}

}  // namespace
}  // namespace ferrohsm::store
