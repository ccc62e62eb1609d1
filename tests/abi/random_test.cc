// C_GenerateRandom / C_SeedRandom.
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using RandomTest = TokenTest;

TEST_F(RandomTest, ProducesDistinctOutput) {
  std::vector<CK_BYTE> a(32, 0), b(32, 0);
  ASSERT_CKR_OK(f_->C_GenerateRandom(session_, a.data(), a.size()));
  ASSERT_CKR_OK(f_->C_GenerateRandom(session_, b.data(), b.size()));
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::vector<CK_BYTE>(32, 0));
  std::vector<CK_BYTE> big(4096, 0);
  ASSERT_CKR_OK(f_->C_GenerateRandom(session_, big.data(), big.size()));
  EXPECT_NE(std::vector<CK_BYTE>(big.end() - 32, big.end()), std::vector<CK_BYTE>(32, 0))
      << "the whole buffer must be filled";
}

TEST_F(RandomTest, WorksInAPublicReadOnlySession) {
  CK_SESSION_HANDLE ro = Open(slot_, false);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  CK_BYTE buf[16] = {};
  EXPECT_CKR_OK(f_->C_GenerateRandom(ro, buf, sizeof buf));
}

TEST_F(RandomTest, BadArguments) {
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateRandom(session_, nullptr, 16));
  CK_BYTE buf[16];
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GenerateRandom(0x7fff0003, buf, sizeof buf));
  EXPECT_CKR_OK(f_->C_GenerateRandom(session_, buf, 0)) << "zero bytes is a valid request";
}

TEST_F(RandomTest, SeedRandomIsAcceptedOrNotSupported) {
  CK_BYTE seed[16] = {1, 2, 3};
  EXPECT_CKR_ONE_OF(f_->C_SeedRandom(session_, seed, sizeof seed),
                    {CKR_OK, CKR_RANDOM_SEED_NOT_SUPPORTED});
}

}  // namespace
}  // namespace ferrohsm::abi
