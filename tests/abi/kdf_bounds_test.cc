// Stored KDF parameters get the bounds the configuration has (issue 11, finding 4): a
// token row edited to ask for 50,000,000 PBKDF2 iterations (the ceiling is 10,000,000;
// 2,000,000,000 hung C_Login for minutes) is refused at once with CKR_DEVICE_ERROR,
// on every path that checks a PIN, and the refusal costs no PIN attempt.
#include <chrono>
#include <cstring>
#include <string>

#include "fixture/module_fixture.h"
#include "fixture/store_sql.h"

namespace ferrohsm::abi {
namespace {

// The stored "pbkdf2-sha256:<iterations>:<salt hex>" of `column` with other iterations.
std::string WithIterations(const std::string& column, const std::string& iterations) {
  return "UPDATE tokens SET " + column + " = 'pbkdf2-sha256:" + iterations + ":' || substr(" + column +
         ", 15 + instr(substr(" + column + ", 15), ':'))";
}

class KdfBoundsTest : public TokenTest {
 protected:
  // Finalises, edits the token row, initialises again (no login).
  void Edit(const std::string& sql) {
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
    ASSERT_EQ(RunSql(store_->db_path(), sql), "");
    ASSERT_CKR_OK(f_->C_Initialize(InitArgs()));
    MarkInitialized();
  }
  // Runs `call` and checks it answered CKR_DEVICE_ERROR within two seconds.
  template <typename F>
  void ExpectQuickDeviceError(F call, const char* what) {
    auto start = std::chrono::steady_clock::now();
    CK_RV rv = call();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    EXPECT_CKR(CKR_DEVICE_ERROR, rv) << what;
    EXPECT_LT(ms.count(), 2000) << what << " took " << ms.count() << " ms";
  }
};

TEST_F(KdfBoundsTest, TooManyStoredIterationsRefuseTheUserPinQuickly) {
  Edit(WithIterations("user_kdf", "50000000"));
  CK_SESSION_HANDLE s = Open(slot_, true);
  ExpectQuickDeviceError([&] { return Login(s, CKU_USER, kUserPin); }, "C_Login(CKU_USER)");
  std::string fresh = "fresh-user-pin";
  ExpectQuickDeviceError(
      [&] { return f_->C_SetPIN(s, U8(kUserPin), std::strlen(kUserPin), U8(fresh), fresh.size()); }, "C_SetPIN");
  EXPECT_FALSE(TokenFlags(slot_) & CKF_USER_PIN_COUNT_LOW) << "a refused token costs no PIN attempt";
  EXPECT_CKR_OK(Login(s, CKU_SO, kSoPin)) << "the SO's parameters are untouched";
}

TEST_F(KdfBoundsTest, TooManyStoredIterationsRefuseTheSoPinQuickly) {
  Edit(WithIterations("so_kdf", "50000000"));
  CK_SESSION_HANDLE s = Open(slot_, true);
  ExpectQuickDeviceError([&] { return Login(s, CKU_SO, kSoPin); }, "C_Login(CKU_SO)");
  ASSERT_CKR_OK(f_->C_CloseSession(s));
  std::string label = Padded(kTokenLabel, 32);
  ExpectQuickDeviceError([&] { return f_->C_InitToken(slot_, U8(kSoPin), std::strlen(kSoPin), U8(label)); },
                         "C_InitToken");
  EXPECT_FALSE(TokenFlags(slot_) & CKF_SO_PIN_COUNT_LOW);
}

TEST_F(KdfBoundsTest, ZeroAndHugeIterationCountsAreRefused) {
  Edit(WithIterations("user_kdf", "0"));
  CK_SESSION_HANDLE s = Open(slot_, false);
  ExpectQuickDeviceError([&] { return Login(s, CKU_USER, kUserPin); }, "0 iterations");
  Edit(WithIterations("user_kdf", "2000000000"));
  s = Open(slot_, false);
  ExpectQuickDeviceError([&] { return Login(s, CKU_USER, kUserPin); }, "2,000,000,000 iterations");
}

TEST_F(KdfBoundsTest, ASaltOutsideItsBoundsIsRefused) {
  Edit("UPDATE tokens SET user_kdf = 'pbkdf2-sha256:1000:' || hex(randomblob(65))");
  CK_SESSION_HANDLE s = Open(slot_, false);
  ExpectQuickDeviceError([&] { return Login(s, CKU_USER, kUserPin); }, "a 65-byte salt");
}

}  // namespace
}  // namespace ferrohsm::abi
