// Signature error codes: key permissions and types, handles, mechanisms and their
// parameters, data and signature lengths.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/mechanisms.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class SignErrorsTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    ec_ = GenerateEc(f_, session_, "P-256");
    ASSERT_CKR_OK(ec_.rv);
  }
  KeyPair Rsa() {
    KeyPair kp = GenerateRsa(f_, session_, 2048);
    EXPECT_CKR_OK(kp.rv);
    return kp;
  }
  KeyPair ec_;
  Bytes digest_ = OsslDigest("SHA256", AsBytes("payload"));
};

TEST_F(SignErrorsTest, KeyWithoutSignOrVerifyIsNotPermitted) {
  KeyPair kp = GenerateEc(f_, session_, "P-256", KeyOptions{.sign = false});
  ASSERT_CKR_OK(kp.rv);
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_SignInit(session_, &m, kp.priv));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_VerifyInit(session_, &m, kp.pub));
  // The failed init left no operation behind.
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_Sign(session_, digest_.data(), digest_.size(), nullptr, &len));
}

TEST_F(SignErrorsTest, MechanismForAnotherKeyTypeIsKeyTypeInconsistent) {
  SKIP_IF_SOFTHSM("SoftHSMv2's C_SignInit does not check the key type");
  KeyPair ed = GenerateEdwards(f_, session_, CurveOid("Ed25519"));
  ASSERT_CKR_OK(ed.rv);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(session_, &ecdsa, ed.priv));
  CK_MECHANISM eddsa{CKM_EDDSA, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(session_, &eddsa, ec_.priv));
  SecretKey aes = GenerateAes(f_, session_, 16);
  ASSERT_CKR_OK(aes.rv);
  CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(session_, &hmac, aes.handle));
  CK_MECHANISM rsa{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(session_, &rsa, ec_.priv));
}

TEST_F(SignErrorsTest, PublicKeyCannotSignAndPrivateKeyCannotVerify) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR_ONE_OF(f_->C_SignInit(session_, &m, ec_.pub),
                    {CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED});
}

TEST_F(SignErrorsTest, InvalidAndDestroyedKeyHandles) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_OBJECT_HANDLE_INVALID; C_SignInit's code is "
                  "CKR_KEY_HANDLE_INVALID");
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_SignInit(session_, &m, CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_SignInit(session_, &m, 0x7fff0001));
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, ec_.priv));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_SignInit(session_, &m, ec_.priv));
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, ec_.pub));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_VerifyInit(session_, &m, ec_.pub));
}

TEST_F(SignErrorsTest, UnknownOrNonSignatureMechanismIsMechanismInvalid) {
  CK_MECHANISM vendor{CKM_VENDOR_DEFINED | 0x4242, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(session_, &vendor, ec_.priv));
  CK_MECHANISM digest{CKM_SHA256, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(session_, &digest, ec_.priv));
}

TEST_F(SignErrorsTest, BadPssParametersAreMechanismParamInvalid) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_ARGUMENTS_BAD for bad mechanism parameters");
  KeyPair rsa = Rsa();
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM no_params{CKM_SHA256_RSA_PKCS_PSS, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(session_, &no_params, rsa.priv));
  CK_MECHANISM short_len{CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss - 1};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(session_, &short_len, rsa.priv));
  CK_RSA_PKCS_PSS_PARAMS wrong_hash{CKM_SHA384, CKG_MGF1_SHA384, 48};
  CK_MECHANISM mismatch{CKM_SHA256_RSA_PKCS_PSS, &wrong_hash, sizeof wrong_hash};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(session_, &mismatch, rsa.priv));
  CK_RSA_PKCS_PSS_PARAMS bad_mgf{CKM_SHA256, 0x7777, 32};
  CK_MECHANISM unknown_mgf{CKM_SHA256_RSA_PKCS_PSS, &bad_mgf, sizeof bad_mgf};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(session_, &unknown_mgf, rsa.priv));
}

TEST_F(SignErrorsTest, RawRsaInputTooLongIsDataLenRange) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_GENERAL_ERROR");
  KeyPair rsa = Rsa();
  CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, rsa.priv));
  Bytes too_long(256 - 10, 0x33);  // PKCS#1 v1.5 allows at most k - 11 bytes
  Bytes sig(256);
  CK_ULONG len = sig.size();
  EXPECT_CKR(CKR_DATA_LEN_RANGE,
             f_->C_Sign(session_, too_long.data(), too_long.size(), sig.data(), &len));
}

TEST_F(SignErrorsTest, WrongLengthSignatureIsSignatureLenRange) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  Bytes sig(65, 0x01);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, ec_.pub));
  EXPECT_CKR(CKR_SIGNATURE_LEN_RANGE,
             f_->C_Verify(session_, digest_.data(), digest_.size(), sig.data(), sig.size()));
  KeyPair rsa = Rsa();
  CK_MECHANISM r{CKM_SHA256_RSA_PKCS, nullptr, 0};
  Bytes long_sig(257, 0x01);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &r, rsa.pub));
  EXPECT_CKR(CKR_SIGNATURE_LEN_RANGE,
             f_->C_Verify(session_, digest_.data(), digest_.size(), long_sig.data(), 257));
}

TEST_F(SignErrorsTest, AllZeroEcdsaSignatureIsInvalid) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  Bytes zero(64, 0);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, ec_.pub));
  EXPECT_CKR(CKR_SIGNATURE_INVALID,
             f_->C_Verify(session_, digest_.data(), digest_.size(), zero.data(), zero.size()));
}

// C_Logout may end operations (§5.6). FerroHSM ends those that hold a key or handles,
// and the next call says why: CKR_USER_NOT_LOGGED_IN, then CKR_OPERATION_NOT_INITIALIZED.
// A digest needs no login and stays active.
TEST_F(SignErrorsTest, LogoutEndsKeyOperationsWithUserNotLoggedIn) {
  SKIP_IF_SOFTHSM("SoftHSMv2 keeps operations across C_Logout");
  KeyPair kp = GenerateEc(f_, session_, "P-256", KeyOptions{.token = true});
  ASSERT_CKR_OK(kp.rv);
  CK_SESSION_HANDLE other = Open(slot_, false);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
  ASSERT_CKR_OK(f_->C_SignInit(session_, &ecdsa, kp.priv));
  ASSERT_CKR_OK(f_->C_DigestInit(other, &sha));
  ASSERT_CKR_OK(f_->C_Logout(other));
  Bytes sig(128);
  CK_ULONG len = sig.size();
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Sign(session_, digest_.data(), digest_.size(), sig.data(), &len));
  len = sig.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_Sign(session_, digest_.data(), digest_.size(), sig.data(), &len));
  Bytes out(32);
  CK_ULONG out_len = out.size();
  EXPECT_CKR_OK(f_->C_Digest(other, digest_.data(), digest_.size(), out.data(), &out_len));
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(out_len)), OsslDigest("SHA256", digest_));
}

}  // namespace
}  // namespace ferrohsm::abi
