// C_Initialize / C_Finalize / C_GetInfo (PKCS#11 3.0 §5.4).
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "fixture/attributes.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

CK_RV CreateMutexCb(CK_VOID_PTR_PTR out) {
  if (out == nullptr) return CKR_ARGUMENTS_BAD;
  *out = new std::mutex;
  return CKR_OK;
}
CK_RV DestroyMutexCb(CK_VOID_PTR m) {
  delete static_cast<std::mutex*>(m);
  return CKR_OK;
}
CK_RV LockMutexCb(CK_VOID_PTR m) {
  static_cast<std::mutex*>(m)->lock();
  return CKR_OK;
}
CK_RV UnlockMutexCb(CK_VOID_PTR m) {
  static_cast<std::mutex*>(m)->unlock();
  return CKR_OK;
}

CK_C_INITIALIZE_ARGS AllCallbacks(CK_FLAGS flags) {
  CK_C_INITIALIZE_ARGS args{};
  args.CreateMutex = CreateMutexCb;
  args.DestroyMutex = DestroyMutexCb;
  args.LockMutex = LockMutexCb;
  args.UnlockMutex = UnlockMutexCb;
  args.flags = flags;
  return args;
}

// Each test starts finalised so that it controls the C_Initialize call itself.
class InitTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
  }
  // Initialise with `args`; on success remember to finalise in TearDown.
  CK_RV Init(CK_C_INITIALIZE_ARGS* args) {
    CK_RV rv = f_->C_Initialize(args);
    if (rv == CKR_OK) MarkInitialized();
    return rv;
  }
};

TEST_F(InitTest, NullArgsSucceedsAndDoubleInitIsRejected) {
  ASSERT_CKR_OK(Init(nullptr));
  EXPECT_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED, f_->C_Initialize(nullptr));
  CK_C_INITIALIZE_ARGS args{};
  EXPECT_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED, f_->C_Initialize(&args));
}

TEST_F(InitTest, CallsBeforeInitializeAreRejected) {
  CK_INFO info{};
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetInfo(&info));
  CK_ULONG count = 0;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetSlotList(CK_FALSE, nullptr, &count));
  CK_SLOT_INFO slot_info{};
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetSlotInfo(0, &slot_info));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED,
             f_->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_CloseSession(1));
  CK_BYTE buf[4];
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GenerateRandom(1, buf, sizeof buf));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
  // C_GetFunctionList is the one call allowed before C_Initialize.
  CK_FUNCTION_LIST_PTR list = nullptr;
  EXPECT_CKR_OK(f_->C_GetFunctionList(&list));
  EXPECT_EQ(list, f_);
}

TEST_F(InitTest, FinalizeWithReservedPointerIsArgumentsBad) {
  ASSERT_CKR_OK(Init(nullptr));
  int reserved = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Finalize(&reserved));
  CK_INFO info{};
  EXPECT_CKR_OK(f_->C_GetInfo(&info)) << "a rejected C_Finalize must leave the library initialised";
}

TEST_F(InitTest, SomeButNotAllMutexCallbacksIsArgumentsBad) {
  // §5.4: the four function pointers are either all supplied or all NULL.
  for (int mask = 1; mask < 15; ++mask) {
    CK_C_INITIALIZE_ARGS args{};
    if (mask & 1) args.CreateMutex = CreateMutexCb;
    if (mask & 2) args.DestroyMutex = DestroyMutexCb;
    if (mask & 4) args.LockMutex = LockMutexCb;
    if (mask & 8) args.UnlockMutex = UnlockMutexCb;
    EXPECT_CKR(CKR_ARGUMENTS_BAD, Init(&args)) << "callback mask " << mask;
  }
  CK_INFO info{};
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetInfo(&info));
}

TEST_F(InitTest, AllCallbacksWithoutOsLockingUsesThemOrCantLock) {
  // §5.4 case 3: the library must use the application's callbacks; a library that
  // cannot answers CKR_CANT_LOCK.
  CK_C_INITIALIZE_ARGS args = AllCallbacks(0);
  CK_RV rv = Init(&args);
  EXPECT_CKR_ONE_OF(rv, {CKR_OK, CKR_CANT_LOCK});
  if (rv == CKR_OK) {
    CK_INFO info{};
    EXPECT_CKR_OK(f_->C_GetInfo(&info));
    EXPECT_FALSE(Slots(true).empty());
  }
}

TEST_F(InitTest, AllCallbacksWithOsLockingSucceeds) {
  CK_C_INITIALIZE_ARGS args = AllCallbacks(CKF_OS_LOCKING_OK);
  ASSERT_CKR_OK(Init(&args));
  EXPECT_FALSE(Slots(true).empty());
}

TEST_F(InitTest, OsLockingFlagWithoutCallbacksSucceeds) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_CKR_OK(Init(&args));
  EXPECT_FALSE(Slots(true).empty());
}

TEST_F(InitTest, ZeroedArgsSucceed) {
  CK_C_INITIALIZE_ARGS args{};
  ASSERT_CKR_OK(Init(&args));
}

TEST_F(InitTest, UnknownReservedValueIsArgumentsBad) {
  SKIP_IF_SOFTHSM("SoftHSMv2 ignores a non-NULL pReserved (spec: CKR_ARGUMENTS_BAD)");
  // §5.4: pReserved must be NULL; FerroHSM's only extension is "ferrohsm_conf=<path>".
  char junk[] = "not-a-ferrohsm-setting";
  FH_C_INITIALIZE_ARGS args{};  // the standard six-member layout
  args.pReserved = junk;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, Init(reinterpret_cast<CK_C_INITIALIZE_ARGS*>(&args)));
}

// pReserved is read only through a copy that cannot fault: a wild or unterminated
// pointer is CKR_ARGUMENTS_BAD, never a crash (issue 11, finding 1).
class ReservedPointerTest : public InitTest {
 protected:
  void SetUp() override {
    InitTest::SetUp();
    SKIP_IF_SOFTHSM("FerroHSM-only extension (pReserved = \"ferrohsm_conf=<path>\")");
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  }
  CK_RV InitWithReserved(void* reserved) {
    FH_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    args.pReserved = reserved;
    return Init(reinterpret_cast<CK_C_INITIALIZE_ARGS*>(&args));
  }
  // Two pages, the second made inaccessible: bytes placed at the end of the first are
  // followed by memory that faults.
  char* PageBeforeAHole() {
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    if (p == MAP_FAILED) return nullptr;
    mapping_ = p;
    EXPECT_EQ(munmap(static_cast<char*>(p) + page_, page_), 0);
    return static_cast<char*>(p);
  }
  void TearDown() override {
    if (mapping_ != nullptr) munmap(mapping_, page_);
    InitTest::TearDown();
  }
  void ExpectNotInitialised() {
    CK_INFO info{};
    EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetInfo(&info));
  }

  size_t page_ = 4096;
  void* mapping_ = nullptr;
};

TEST_F(ReservedPointerTest, SmallIntegerIsArgumentsBad) {
  EXPECT_CKR(CKR_ARGUMENTS_BAD, InitWithReserved(reinterpret_cast<void*>(uintptr_t{1})));
  ExpectNotInitialised();
}

TEST_F(ReservedPointerTest, UnmappedMemoryIsArgumentsBad) {
  void* p = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memcpy(p, "ferrohsm_conf=/nonexistent", 27);
  ASSERT_EQ(munmap(p, page_), 0);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, InitWithReserved(p));
  ExpectNotInitialised();
}

TEST_F(ReservedPointerTest, UnterminatedStringAtTheEndOfAPageIsArgumentsBad) {
  char* page = PageBeforeAHole();
  ASSERT_NE(page, nullptr);
  std::string conf = store_->InitArgString();  // a valid setting, but with no NUL before the hole
  char* at = page + page_ - conf.size();
  std::memcpy(at, conf.data(), conf.size());
  EXPECT_CKR(CKR_ARGUMENTS_BAD, InitWithReserved(at));
  ExpectNotInitialised();
}

TEST_F(ReservedPointerTest, TerminatedStringAtTheEndOfAPageIsRead) {
  unsetenv("FERROHSM_CONF");
  char* page = PageBeforeAHole();
  ASSERT_NE(page, nullptr);
  std::string conf = store_->InitArgString();
  char* at = page + page_ - (conf.size() + 1);  // the NUL is the page's last byte
  std::memcpy(at, conf.c_str(), conf.size() + 1);
  ASSERT_CKR_OK(InitWithReserved(at));
  ASSERT_NE(InitToken("end-of-page"), kNoSlot);
  EXPECT_TRUE(std::filesystem::exists(store_->db_path())) << "the store named by pReserved was not used";
}

TEST_F(ReservedPointerTest, OtherStringsAreArgumentsBad) {
  std::string too_long = "ferrohsm_conf=/" + std::string(64 * 1024, 'a');
  char empty_path[] = "ferrohsm_conf=";
  char other[] = "softhsm_conf=/etc/x";
  char nothing[] = "";
  for (char* s : {too_long.data(), empty_path, other, nothing}) {
    EXPECT_CKR(CKR_ARGUMENTS_BAD, InitWithReserved(s)) << std::string(s).substr(0, 40);
    ExpectNotInitialised();
  }
}

// Callers pass the standard six-member struct (NSS's header has a seventh): the
// module must not read past it. Here the word after it is a wild pointer.
TEST_F(InitTest, NothingPastTheStandardArgumentsIsRead) {
  struct {
    FH_C_INITIALIZE_ARGS args;
    void* beyond;
  } mem{};
  mem.args.flags = CKF_OS_LOCKING_OK;
  mem.beyond = reinterpret_cast<void*>(uintptr_t{0x10});
  EXPECT_CKR_OK(Init(reinterpret_cast<CK_C_INITIALIZE_ARGS*>(&mem.args)));
}

TEST_F(InitTest, ReservedConfigStringSelectsTheStore) {
  SKIP_IF_SOFTHSM("FerroHSM-only extension (pReserved = \"ferrohsm_conf=<path>\")");
  unsetenv("FERROHSM_CONF");
  std::string conf = store_->InitArgString();
  FH_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  args.pReserved = conf.data();
  ASSERT_CKR_OK(Init(reinterpret_cast<CK_C_INITIALIZE_ARGS*>(&args)));
  CK_SLOT_ID slot = InitToken("via-preserved");
  ASSERT_NE(slot, kNoSlot);
  std::string label(reinterpret_cast<const char*>(TokenInfo(slot).label), 32);
  EXPECT_EQ(label, Padded("via-preserved", 32));
  EXPECT_TRUE(std::filesystem::exists(store_->db_path()))
      << "the store named by pReserved was not created";
}

TEST_F(InitTest, GetInfoReportsPaddedFieldsAndNoFlags) {
  ASSERT_CKR_OK(Init(nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetInfo(nullptr));
  CK_INFO info{};
  ASSERT_CKR_OK(f_->C_GetInfo(&info));
  EXPECT_FALSE(HasNul(info.manufacturerID, sizeof info.manufacturerID))
      << "manufacturerID must be blank-padded, not NUL-terminated";
  EXPECT_FALSE(HasNul(info.libraryDescription, sizeof info.libraryDescription))
      << "libraryDescription must be blank-padded, not NUL-terminated";
  EXPECT_NE(info.manufacturerID[0], ' ') << "manufacturerID is empty";
  EXPECT_EQ(info.flags, 0u) << "CK_INFO.flags is reserved and must be zero";
  bool v240 = info.cryptokiVersion.major == 2 && info.cryptokiVersion.minor == 40;
  bool v30 = info.cryptokiVersion.major == 3 && info.cryptokiVersion.minor == 0;
  EXPECT_TRUE(v240 || v30) << "cryptokiVersion " << int(info.cryptokiVersion.major) << "."
                           << int(info.cryptokiVersion.minor);
}

TEST_F(InitTest, ReinitializeAfterFinalizeWorks) {
  for (int round = 0; round < 3; ++round) {
    ASSERT_CKR_OK(f_->C_Initialize(nullptr)) << "round " << round;
    CK_INFO info{};
    EXPECT_CKR_OK(f_->C_GetInfo(&info));
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  }
}

}  // namespace
}  // namespace ferrohsm::abi
