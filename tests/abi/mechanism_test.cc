// C_GetMechanismList / C_GetMechanismInfo against the mechanisms FerroHSM promises.
#include <algorithm>

#include "fixture/mechanisms.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class MechanismTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    if (HasFatalFailure()) return;
    slot_ = InitToken();
    ASSERT_NE(slot_, kNoSlot);
  }
  std::vector<CK_MECHANISM_TYPE> List() {
    CK_ULONG n = 0;
    EXPECT_CKR_OK(f_->C_GetMechanismList(slot_, nullptr, &n));
    std::vector<CK_MECHANISM_TYPE> mechs(n);
    if (n > 0) {
      EXPECT_CKR_OK(f_->C_GetMechanismList(slot_, mechs.data(), &n));
    }
    mechs.resize(n);
    return mechs;
  }
  CK_SLOT_ID slot_ = kNoSlot;
};

TEST_F(MechanismTest, ListLengthQueryAndBufferTooSmall) {
  CK_ULONG n = 0;
  ASSERT_CKR_OK(f_->C_GetMechanismList(slot_, nullptr, &n));
  ASSERT_GE(n, 2u);
  std::vector<CK_MECHANISM_TYPE> mechs(n);
  CK_ULONG short_n = n - 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetMechanismList(slot_, mechs.data(), &short_n));
  EXPECT_EQ(short_n, n);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetMechanismList(slot_, nullptr, nullptr));
  auto list = List();
  std::sort(list.begin(), list.end());
  EXPECT_EQ(std::unique(list.begin(), list.end()), list.end()) << "a mechanism is listed twice";
}

TEST_F(MechanismTest, EveryPromisedMechanismIsListedWithItsFlagsAndSizes) {
  auto list = List();
  for (const MechanismSpec& spec : PromisedMechanisms()) {
    bool listed = std::find(list.begin(), list.end(), spec.type) != list.end();
    if (!listed) {
      // SoftHSMv2 2.6 lacks e.g. CKM_ECDSA_SHA*; FerroHSM must list all of them.
      if (!IsSoftHsm()) ADD_FAILURE() << spec.name << " is not listed";
      continue;
    }
    CK_MECHANISM_INFO info{};
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, spec.type, &info)) << spec.name;
    EXPECT_EQ(info.flags & spec.flags, spec.flags) << spec.name << " flags 0x" << std::hex
                                                   << info.flags;
    if (spec.min_key != 0) {
      EXPECT_LE(info.ulMinKeySize, spec.min_key) << spec.name;
      EXPECT_GE(info.ulMaxKeySize, spec.max_key) << spec.name;
    }
  }
}

TEST_F(MechanismTest, EveryListedMechanismIsOneTheSuiteExercises) {
  SKIP_IF_SOFTHSM("SoftHSMv2 offers many more mechanisms than FerroHSM promises");
  for (CK_MECHANISM_TYPE m : List()) {
    EXPECT_NE(FindCovered(m), nullptr)
        << "mechanism 0x" << std::hex << m << " is listed but not covered by this suite";
  }
}

TEST_F(MechanismTest, ListedExtraMechanismsReportTheirFlags) {
  auto list = List();
  for (const MechanismSpec& spec : ExtraMechanisms()) {
    if (std::find(list.begin(), list.end(), spec.type) == list.end()) continue;
    CK_MECHANISM_INFO info{};
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, spec.type, &info)) << spec.name;
    EXPECT_EQ(info.flags & spec.flags, spec.flags) << spec.name;
  }
}

TEST_F(MechanismTest, ListedMechanismsAnswerGetMechanismInfo) {
  for (CK_MECHANISM_TYPE m : List()) {
    CK_MECHANISM_INFO info{};
    EXPECT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info)) << "0x" << std::hex << m;
    EXPECT_NE(info.flags & ~CKF_HW, 0u) << "mechanism 0x" << std::hex << m << " has no function";
    EXPECT_LE(info.ulMinKeySize, info.ulMaxKeySize);
  }
}

TEST_F(MechanismTest, UnknownMechanismAndNullInfo) {
  CK_MECHANISM_INFO info{};
  EXPECT_CKR(CKR_MECHANISM_INVALID,
             f_->C_GetMechanismInfo(slot_, CKM_VENDOR_DEFINED | 0x4242, &info));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetMechanismInfo(slot_, CKM_SHA256, nullptr));
}

TEST_F(MechanismTest, FreeSlotListsTheSameMechanisms) {
  CK_SLOT_ID free_slot = FreeSlot();
  ASSERT_NE(free_slot, kNoSlot);
  CK_ULONG a = 0, b = 0;
  ASSERT_CKR_OK(f_->C_GetMechanismList(slot_, nullptr, &a));
  ASSERT_CKR_OK(f_->C_GetMechanismList(free_slot, nullptr, &b));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace ferrohsm::abi
