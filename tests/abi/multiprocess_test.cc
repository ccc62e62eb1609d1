// Two processes on one store: an object created by a second process is found by the
// first, already initialised, process without re-initialising.
#include <stdlib.h>

#include "fixture/attributes.h"
#include "fixture/child_process.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using MultiProcessTest = TokenTest;

TEST_F(MultiProcessTest, ObjectCreatedByAnotherProcessIsFound) {
  CK_SESSION_HANDLE reader = Open(slot_, false);
  ASSERT_TRUE(Find(f_, reader, Template().Str(CKA_LABEL, "from-child")).empty());
  setenv("FERROHSM_TEST_USER_PIN", kUserPin, 1);
  pid_t pid = SpawnHelper({GetModule().path, "create", kTokenLabel, "from-child"});
  ASSERT_GT(pid, 0) << "cannot start " << ChildHelperPath();
  ASSERT_EQ(WaitChild(pid, 60), 0) << "abi_child_helper failed (see its stderr)";
  auto found = Find(f_, reader, Template().Str(CKA_LABEL, "from-child"));
  ASSERT_EQ(found.size(), 1u) << "the other process's token object is not visible";
  auto value = GetBytes(f_, reader, found[0], CKA_VALUE);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(std::string(value->begin(), value->end()), "written by abi_child_helper");
  // And this process can still write next to it.
  EXPECT_CKR_OK(CreateObject(f_, session_, DataObject("from-parent", true)).rv);
  EXPECT_EQ(Find(f_, reader, Template().Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true)).size(),
            2u);
}

TEST_F(MultiProcessTest, ObjectDestroyedByAnotherProcessDisappears) {
  setenv("FERROHSM_TEST_USER_PIN", kUserPin, 1);
  // The helper's churn mode creates and destroys its own objects; afterwards none remain.
  pid_t pid = SpawnHelper({GetModule().path, "churn", kTokenLabel, "churned", "300"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(WaitChild(pid, 60), 0);
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "churned")).empty());
}

}  // namespace
}  // namespace ferrohsm::abi
