// C_FindObjectsInit / C_FindObjects / C_FindObjectsFinal.
#include <algorithm>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class FindTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 0; i < 5; ++i) {
      Template t = DataObject(i < 3 ? "find-a" : "find-b", i % 2 == 0);
      Created c = CreateObject(f_, session_, t);
      ASSERT_CKR_OK(c.rv);
      made_.push_back(c.handle);
    }
  }
  std::vector<CK_OBJECT_HANDLE> made_;
};

TEST_F(FindTest, MatchesByAttributes) {
  auto a = Find(f_, session_, Template().Str(CKA_LABEL, "find-a"));
  std::sort(a.begin(), a.end());
  std::vector<CK_OBJECT_HANDLE> want(made_.begin(), made_.begin() + 3);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(a, want);
  EXPECT_EQ(Find(f_, session_, Template().Str(CKA_LABEL, "find-b").Bool(CKA_TOKEN, true)).size(), 1u);
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "no-such-label")).empty());
  EXPECT_EQ(Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_DATA)).size(), 5u);
}

TEST_F(FindTest, EmptyTemplateFindsEverythingVisible) {
  auto all = Find(f_, session_, Template());
  EXPECT_EQ(all.size(), 5u);
  CK_OBJECT_HANDLE h[8];
  CK_ULONG n = 0;
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  ASSERT_CKR_OK(f_->C_FindObjects(session_, h, 8, &n));
  EXPECT_EQ(n, 5u);
  ASSERT_CKR_OK(f_->C_FindObjectsFinal(session_));
}

TEST_F(FindTest, ResultsComeInBatchesWithoutRepeats) {
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  std::vector<CK_OBJECT_HANDLE> seen;
  for (int i = 0; i < 10; ++i) {
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 99;
    ASSERT_CKR_OK(f_->C_FindObjects(session_, &h, 1, &n));
    if (n == 0) break;
    ASSERT_EQ(n, 1u);
    seen.push_back(h);
  }
  ASSERT_CKR_OK(f_->C_FindObjectsFinal(session_));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "a handle was returned twice";
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(FindTest, OperationStateRules) {
  CK_OBJECT_HANDLE h[4];
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjects(session_, h, 4, &n));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjectsFinal(session_));
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_FindObjectsInit(session_, nullptr, 0));
  ASSERT_CKR_OK(f_->C_FindObjects(session_, h, 4, &n));
  ASSERT_CKR_OK(f_->C_FindObjectsFinal(session_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjects(session_, h, 4, &n));
  // A search in one session does not block another session.
  CK_SESSION_HANDLE other = Open(slot_);
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  EXPECT_CKR_OK(f_->C_FindObjectsInit(other, nullptr, 0));
  EXPECT_CKR_OK(f_->C_FindObjectsFinal(other));
  EXPECT_CKR_OK(f_->C_FindObjectsFinal(session_));
}

TEST_F(FindTest, NullArguments) {
  CK_OBJECT_HANDLE h[4];
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjectsInit(session_, nullptr, 2));
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjects(session_, nullptr, 4, &n));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjects(session_, h, 4, nullptr));
  EXPECT_CKR_OK(f_->C_FindObjectsFinal(session_));
}

TEST_F(FindTest, SessionObjectsAreVisibleToOtherSessionsOfTheApplication) {
  CK_SESSION_HANDLE other = Open(slot_, false);
  EXPECT_EQ(Find(f_, other, Template().Str(CKA_LABEL, "find-a")).size(), 3u);
}

// Not a rule of the spec but FerroHSM's design ("keys stay sealed"): a search must not
// act as an oracle for sensitive values.
TEST_F(FindTest, SensitiveValuesCannotBeProbed) {
  SKIP_IF_SOFTHSM("SoftHSMv2 matches templates against sensitive values");
  Bytes secret(16, 0x6B);
  SecretKey k = ImportAes(f_, session_, secret);
  ASSERT_CKR_OK(k.rv);
  // Matching on a sensitive CKA_VALUE would reveal it one guess at a time.
  auto found = Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Bytes(CKA_VALUE, secret));
  EXPECT_TRUE(found.empty()) << "a search matched a sensitive attribute value";
}

}  // namespace
}  // namespace ferrohsm::abi
