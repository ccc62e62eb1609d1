// A database another process holds, and a read-only one (issue 11, finding 5).
// A second SQLite connection holds BEGIN IMMEDIATE, as another process in the middle
// of a write would: the module still starts (opening takes no write lock when the
// schema is current), finds and signs go on (WAL readers), and a write waits
// [store] busy_timeout_ms, logs a warning naming the lock, then answers
// CKR_DEVICE_ERROR. A store opened read-only ([store] read_only = true; the same
// path SQLite takes when the file cannot be written, which root's tests cannot
// arrange with file modes) shows CKF_WRITE_PROTECTED, opens only R/O sessions and
// answers every write with CKR_TOKEN_WRITE_PROTECTED, while logins, finds and signs
// work.
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/store_sql.h"

namespace ferrohsm::abi {
namespace {

using Clock = std::chrono::steady_clock;

long long MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class StoreLockTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    KeyOptions o{.token = true, .label = "held-key"};
    key_ = GenerateEc(f_, session_, "P-256", o);
    ASSERT_CKR_OK(key_.rv);
    ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("held-note", true)).rv);
  }
  void ExpectFindsAndSigns(CK_SESSION_HANDLE s) {
    EXPECT_EQ(Find(f_, s, Template().Str(CKA_LABEL, "held-note")).size(), 1u);
    auto keys = Find(f_, s, Template().Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Str(CKA_LABEL, "held-key"));
    ASSERT_EQ(keys.size(), 1u);
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    ASSERT_CKR_OK(f_->C_SignInit(s, &m, keys[0]));
    Bytes digest(32, 0x11), sig(64);
    CK_ULONG len = sig.size();
    EXPECT_CKR_OK(f_->C_Sign(s, digest.data(), digest.size(), sig.data(), &len));
  }
  KeyPair key_;
};

// Default options: no new configuration key, so this is the behaviour any store gets.
TEST_F(StoreLockTest, TheModuleStartsWhileAnotherConnectionHoldsTheWriteLock) {
  HeldWriteLock lock(store_->db_path());
  ASSERT_TRUE(lock.held()) << lock.error();
  auto start = Clock::now();
  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  ASSERT_CKR_OK(f_->C_Initialize(InitArgs())) << "C_Initialize while another connection writes";
  MarkInitialized();
  EXPECT_LT(MsSince(start), 2000) << "opening the store must not wait for the write lock";
  CK_TOKEN_INFO info = TokenInfo(slot_);
  EXPECT_TRUE(info.flags & CKF_TOKEN_INITIALIZED);
  EXPECT_FALSE(info.flags & CKF_WRITE_PROTECTED) << "held is not read-only";
  CK_SESSION_HANDLE s = Open(slot_, false);
  EXPECT_EQ(Find(f_, s, Template().Str(CKA_LABEL, "held-note")).size(), 1u);
  lock.Release();
  ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
  ExpectFindsAndSigns(s);
}

class StoreBusyTimeoutTest : public StoreLockTest {
 protected:
  StoreOptions Options() const override {
    StoreOptions o;
    o.busy_timeout_ms = 600;
    o.log_to_file = true;
    return o;
  }
};

TEST_F(StoreBusyTimeoutTest, FindsAndSignsGoOnAndAWriteGivesUpAfterTheTimeout) {
  HeldWriteLock lock(store_->db_path());
  ASSERT_TRUE(lock.held()) << lock.error();
  ExpectFindsAndSigns(session_);
  auto start = Clock::now();
  Created c = CreateObject(f_, session_, DataObject("while-held", true));
  long long waited = MsSince(start);
  EXPECT_CKR(CKR_DEVICE_ERROR, c.rv);
  EXPECT_GE(waited, 550) << "the write should wait busy_timeout_ms";
  EXPECT_LT(waited, 5000) << "and not much longer";
  std::string log = ReadText(store_->log_path());
  EXPECT_NE(log.find("database is locked"), std::string::npos) << "a warning names the lock:\n" << log;
  // Session objects need no store, and the store is unchanged by the failed write.
  EXPECT_CKR_OK(CreateObject(f_, session_, DataObject("session-note", false)).rv);
  lock.Release();
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "while-held")).empty());
  EXPECT_CKR_OK(CreateObject(f_, session_, DataObject("after-release", true)).rv);
}

class ReadOnlyStoreTest : public StoreLockTest {
 protected:
  StoreOptions Options() const override {
    StoreOptions o;
    o.max_failed_logins = 3;
    return o;
  }
  void SetUp() override {
    StoreLockTest::SetUp();
    if (HasFatalFailure()) return;
    StoreOptions ro = Options();
    ro.read_only = true;
    store_->WriteConfig(ro);
    Reinitialize();
  }
};

TEST_F(ReadOnlyStoreTest, OpensShowsWriteProtectedAndRefusesWrites) {
  EXPECT_TRUE(TokenFlags(slot_) & CKF_WRITE_PROTECTED);
  CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_TOKEN_WRITE_PROTECTED,
             f_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &rw));
  CK_SESSION_HANDLE s = Open(slot_, false);
  ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
  ExpectFindsAndSigns(s);
  EXPECT_CKR_OK(CreateObject(f_, s, DataObject("session-only", false)).rv) << "session objects are not stored";
  // The free slot's token cannot be initialised either.
  CK_SLOT_ID free = FreeSlot();
  ASSERT_NE(free, kNoSlot);
  EXPECT_TRUE(TokenFlags(free) & CKF_WRITE_PROTECTED);
  std::string label = Padded("new", 32);
  EXPECT_CKR(CKR_TOKEN_WRITE_PROTECTED, f_->C_InitToken(free, U8(kSoPin), std::strlen(kSoPin), U8(label)));
}

TEST_F(ReadOnlyStoreTest, WrongPinsStillLockWithinTheProcess) {
  CK_SESSION_HANDLE s = Open(slot_, false);
  for (int i = 0; i < 3; ++i) EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-" + std::to_string(i)));
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_USER, kUserPin));
  EXPECT_TRUE(TokenFlags(slot_) & CKF_USER_PIN_LOCKED);
}

}  // namespace
}  // namespace ferrohsm::abi
