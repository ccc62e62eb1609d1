// After fork() the child sees an uninitialised library and may initialise it again
// (PKCS#11 3.0 §6.7.1 / CKF_INTERFACE_FORK_SAFE not claimed: a child must re-initialise).
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "fixture/attributes.h"
#include "fixture/child_process.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

// Child exit codes name the step that failed (the parent reports them).
enum ChildStep : int {
  kChildOk = 0,
  kStillInitialized = 10,
  kReinitFailed = 11,
  kOpenFailed = 12,
  kLoginFailed = 13,
  kObjectNotFound = 14,
  kCreateFailed = 15,
  kFinalizeFailed = 16,
};

const char* StepName(int code) {
  switch (code) {
    case kChildOk: return "ok";
    case kStillInitialized: return "C_GetSlotList did not answer CKR_CRYPTOKI_NOT_INITIALIZED";
    case kReinitFailed: return "C_Initialize in the child failed";
    case kOpenFailed: return "C_OpenSession in the child failed";
    case kLoginFailed: return "C_Login in the child failed";
    case kObjectNotFound: return "the parent's token object was not found";
    case kCreateFailed: return "C_CreateObject in the child failed";
    case kFinalizeFailed: return "C_Finalize in the child failed";
    default: return "child crashed or timed out";
  }
}

// Runs in the forked child: no gtest assertions, only an exit code.
int ChildBody(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot) {
  CK_ULONG count = 0;
  if (f->C_GetSlotList(CK_FALSE, nullptr, &count) != CKR_CRYPTOKI_NOT_INITIALIZED)
    return kStillInitialized;
  if (f->C_Initialize(nullptr) != CKR_OK) return kReinitFailed;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) != CKR_OK)
    return kOpenFailed;
  if (f->C_Login(s, CKU_USER, U8(kUserPin), std::strlen(kUserPin)) != CKR_OK) return kLoginFailed;
  CK_OBJECT_CLASS cls = CKO_DATA;
  const char label[] = "made-before-fork";
  CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof cls},
                         {CKA_LABEL, const_cast<char*>(label), sizeof label - 1}};
  CK_OBJECT_HANDLE found[4];
  CK_ULONG n = 0;
  if (f->C_FindObjectsInit(s, find, 2) != CKR_OK || f->C_FindObjects(s, found, 4, &n) != CKR_OK ||
      f->C_FindObjectsFinal(s) != CKR_OK || n != 1)
    return kObjectNotFound;
  Template t = DataObject("made-in-child", true, true);  // on the token: the parent reads its CKA_UNIQUE_ID
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  if (f->C_CreateObject(s, t.data(), t.size(), &h) != CKR_OK) return kCreateFailed;
  if (f->C_Finalize(nullptr) != CKR_OK) return kFinalizeFailed;
  return kChildOk;
}

class ForkTest : public TokenTest {};

TEST_F(ForkTest, ChildStartsUninitialisedAndCanReinitialise) {
  SKIP_IF_SOFTHSM("SoftHSMv2's child stays initialised (C_Initialize: already initialised)");
  Created obj = CreateObject(f_, session_, DataObject("made-before-fork", true));
  ASSERT_CKR_OK(obj.rv);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(ChildBody(f_, slot_));
  int code = WaitChild(pid, 60);
  EXPECT_EQ(code, kChildOk) << StepName(code);
  // The parent's library state is untouched by the child.
  EXPECT_EQ(SessionState(session_), CKS_RW_USER_FUNCTIONS);
  auto value = GetBytes(f_, session_, obj.handle, CKA_LABEL);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(std::string(value->begin(), value->end()), "made-before-fork");
}

// CKA_UNIQUE_ID comes from a per-thread pool of random bytes; a child gets a copy of the
// forking thread's pool and must not hand out the ids its parent will.
TEST_F(ForkTest, AChildDrawsItsOwnUniqueIds) {
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("made-before-fork", true)).rv);  // the pool is filled
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(ChildBody(f_, slot_));
  int code = WaitChild(pid, 60);
  ASSERT_EQ(code, kChildOk) << StepName(code);
  Created after = CreateObject(f_, session_, DataObject("made-after-fork", true));
  ASSERT_CKR_OK(after.rv);
  auto child = Find(f_, session_, Template().Str(CKA_LABEL, "made-in-child"));
  ASSERT_EQ(child.size(), 1u);
  auto child_id = GetBytes(f_, session_, child[0], CKA_UNIQUE_ID);
  auto parent_id = GetBytes(f_, session_, after.handle, CKA_UNIQUE_ID);
  ASSERT_TRUE(child_id.has_value() && parent_id.has_value());
  EXPECT_NE(*child_id, *parent_id) << "the child repeated its parent's next CKA_UNIQUE_ID";
}

}  // namespace
}  // namespace ferrohsm::abi
