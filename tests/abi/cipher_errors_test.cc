// Cipher error codes: data/ciphertext lengths, bad padding and tags, bad parameters,
// key permissions and types.
#include "fixture/attributes.h"
#include "fixture/cipher_helpers.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class CipherErrorsTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SecretKey k = ImportAes(f_, session_, key_bytes_, KeyOptions{.sign = false, .encrypt = true});
    ASSERT_CKR_OK(k.rv);
    key_ = k.handle;
  }
  Bytes key_bytes_ = Bytes(16, 0x3C);
  Bytes iv16_ = Bytes(16, 0x01);
  Bytes iv12_ = Bytes(12, 0x02);
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
};

TEST_F(CipherErrorsTest, EcbPlaintextNotBlockAlignedIsDataLenRange) {
  AesMechanism m(CKM_AES_ECB, {});
  CipherResult r = OneShot(f_, session_, m.get(), key_, true, Bytes(20, 1));
  EXPECT_CKR(CKR_DATA_LEN_RANGE, r.rv);
  Bytes out(64);
  CK_ULONG len = out.size();
  CK_BYTE in[20] = {};
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Encrypt(session_, in, 20, out.data(), &len))
      << "the failure must end the operation";
}

TEST_F(CipherErrorsTest, CiphertextNotBlockAlignedIsEncryptedDataLenRange) {
  AesMechanism ecb(CKM_AES_ECB, {});
  EXPECT_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE,
             OneShot(f_, session_, ecb.get(), key_, false, Bytes(17, 1)).rv);
  AesMechanism cbc(CKM_AES_CBC_PAD, iv16_);
  EXPECT_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE,
             OneShot(f_, session_, cbc.get(), key_, false, Bytes(31, 1)).rv);
}

TEST_F(CipherErrorsTest, BadPaddingIsEncryptedDataInvalid) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_GENERAL_ERROR");
  // One block whose plaintext ends in 0x11: not valid PKCS#7 padding for 16-byte blocks.
  Bytes block(16, 0x11);
  Bytes ct = OsslCipher("AES-128-CBC", true, key_bytes_, iv16_, block, false);
  ASSERT_EQ(ct.size(), 16u);
  AesMechanism cbc(CKM_AES_CBC_PAD, iv16_);
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, OneShot(f_, session_, cbc.get(), key_, false, ct).rv);
}

TEST_F(CipherErrorsTest, TamperedGcmIsEncryptedDataInvalid) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_GENERAL_ERROR");
  Bytes plain = AsBytes("authenticated plaintext");
  Bytes ct = OsslGcmEncrypt(key_bytes_, iv12_, {}, plain, 16);
  ASSERT_FALSE(ct.empty());
  AesMechanism ok(CKM_AES_GCM, iv12_);
  CipherResult good = OneShot(f_, session_, ok.get(), key_, false, ct);
  ASSERT_CKR_OK(good.rv);
  EXPECT_EQ(good.out, plain);
  ct[3] ^= 0x80;
  AesMechanism bad(CKM_AES_GCM, iv12_);
  CipherResult r = OneShot(f_, session_, bad.get(), key_, false, ct);
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, r.rv);
  EXPECT_TRUE(r.out.empty()) << "no plaintext may be released for a forged message";
}

TEST_F(CipherErrorsTest, BadParametersAreMechanismParamInvalid) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_ARGUMENTS_BAD for bad mechanism parameters");
  AesMechanism short_iv(CKM_AES_CBC_PAD, Bytes(8, 1));
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, short_iv.get(), key_));
  CK_MECHANISM no_iv{CKM_AES_CBC_PAD, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, &no_iv, key_));
  CK_MECHANISM no_gcm{CKM_AES_GCM, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, &no_gcm, key_));
  AesMechanism bad_tag(CKM_AES_GCM, iv12_, {}, 130);
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, bad_tag.get(), key_));
  AesMechanism empty_iv(CKM_AES_GCM, Bytes{});
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, empty_iv.get(), key_));
  AesMechanism ecb_with_iv(CKM_AES_ECB, iv16_);
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, ecb_with_iv.get(), key_));
}

TEST_F(CipherErrorsTest, KeyWithoutEncryptOrDecryptIsNotPermitted) {
  SecretKey k = ImportAes(f_, session_, Bytes(16, 5), KeyOptions{.sign = false, .encrypt = false});
  ASSERT_CKR_OK(k.rv);
  AesMechanism m(CKM_AES_CBC_PAD, iv16_);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_EncryptInit(session_, m.get(), k.handle));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_DecryptInit(session_, m.get(), k.handle));
}

TEST_F(CipherErrorsTest, WrongKeyTypeAndMechanism) {
  SecretKey hmac = ImportGenericSecret(f_, session_, Bytes(16, 5),
                                       KeyOptions{.sign = false, .encrypt = true});
  ASSERT_CKR_OK(hmac.rv);
  AesMechanism m(CKM_AES_ECB, {});
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_EncryptInit(session_, m.get(), hmac.handle));
  CK_MECHANISM sign_only{CKM_SHA256_HMAC, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_EncryptInit(session_, &sign_only, key_));
  if (!IsSoftHsm()) {  // SoftHSMv2 answers CKR_OBJECT_HANDLE_INVALID
    EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_EncryptInit(session_, m.get(), 0x7fff0002));
  }
}

TEST_F(CipherErrorsTest, ShortOutputBufferKeepsTheOperation) {
  AesMechanism m(CKM_AES_CBC_PAD, iv16_);
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, m.get(), key_));
  Bytes in(40, 9), out(48);
  CK_ULONG len = 8;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len));
  EXPECT_EQ(len, 48u);
  len = out.size();
  EXPECT_CKR_OK(f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len));
  EXPECT_EQ(out, OsslCipher("AES-128-CBC", true, key_bytes_, iv16_, in, true));
}

}  // namespace
}  // namespace ferrohsm::abi
