// Single-part and multi-part calls mixed within one operation (issue 11). PKCS#11
// 3.0 §5.2: C_Encrypt, C_Decrypt, C_Digest, C_Sign and C_Verify "cannot be used to
// terminate a multi-part operation, and must be called after [the Init] without
// intervening [Update] calls"; and a single-part call that only asked for the length
// (or got CKR_BUFFER_TOO_SMALL) leaves the single-part operation active, so a
// multi-part call after it is just as out of place. FerroHSM answers both with
// CKR_OPERATION_ACTIVE (an operation of another form is active) and leaves the
// operation exactly as it was: the next correct call works and gives the result the
// operation would have given without the stray call, checked here with OpenSSL.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class OperationMixingTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_SOFTHSM("SoftHSMv2 ends the operation or answers other codes");
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, aes_key_);
    t.Bool(CKA_TOKEN, false).Bool(CKA_ENCRYPT, true).Bool(CKA_DECRYPT, true);
    aes_ = CreateObject(f_, session_, t).handle;
    SecretKey h = ImportGenericSecret(f_, session_, hmac_key_);
    ASSERT_CKR_OK(h.rv);
    hmac_ = h.handle;
    ec_ = GenerateEc(f_, session_, "P-256");
    ASSERT_CKR_OK(ec_.rv);
  }

  Bytes Slice(const Bytes& b, size_t from, size_t to) { return Bytes(b.begin() + from, b.begin() + to); }
  static void Append(Bytes& to, const Bytes& part, CK_ULONG len) {
    to.insert(to.end(), part.begin(), part.begin() + static_cast<long>(len));
  }

  const Bytes aes_key_ = Bytes(16, 0x2A);
  const Bytes iv_ = Bytes(16, 0x07);
  const Bytes hmac_key_ = Bytes(32, 0x5C);
  const Bytes data_ = AsBytes("forty bytes of data to mix the calls on!");  // 40 bytes
  CK_OBJECT_HANDLE aes_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE hmac_ = CK_INVALID_HANDLE;
  KeyPair ec_;
};

// CKM_AES_CBC_PAD: the update holds back a block, so C_EncryptFinal has output.
TEST_F(OperationMixingTest, EncryptAfterEncryptUpdateKeepsTheMultiPartOperation) {
  CK_MECHANISM m{CKM_AES_CBC_PAD, const_cast<uint8_t*>(iv_.data()), iv_.size()};
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &m, aes_));
  Bytes in = data_, out, part(64);
  CK_ULONG len = part.size();
  ASSERT_CKR_OK(f_->C_EncryptUpdate(session_, in.data(), 20, part.data(), &len));
  Append(out, part, len);
  len = part.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Encrypt(session_, in.data(), in.size(), part.data(), &len));
  len = part.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Encrypt(session_, in.data(), in.size(), nullptr, &len))
      << "a length query is no different";
  len = part.size();
  ASSERT_CKR_OK(f_->C_EncryptUpdate(session_, in.data() + 20, 20, part.data(), &len)) << "the operation is intact";
  Append(out, part, len);
  len = part.size();
  ASSERT_CKR_OK(f_->C_EncryptFinal(session_, part.data(), &len));
  Append(out, part, len);
  EXPECT_EQ(out, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
}

TEST_F(OperationMixingTest, EncryptUpdateAfterALengthQueryKeepsTheSinglePartOperation) {
  CK_MECHANISM m{CKM_AES_CBC_PAD, const_cast<uint8_t*>(iv_.data()), iv_.size()};
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &m, aes_));
  Bytes in = data_, out(64);
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Encrypt(session_, in.data(), in.size(), nullptr, &len));
  EXPECT_GE(len, 48u);
  CK_ULONG part_len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_EncryptUpdate(session_, in.data(), 16, out.data(), &part_len));
  part_len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_EncryptFinal(session_, out.data(), &part_len));
  len = out.size();
  ASSERT_CKR_OK(f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len)) << "the operation is intact";
  out.resize(len);
  EXPECT_EQ(out, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len))
      << "and C_Encrypt ended it";
}

TEST_F(OperationMixingTest, EncryptUpdateAfterBufferTooSmallKeepsTheSinglePartOperation) {
  CK_MECHANISM m{CKM_AES_CBC_PAD, const_cast<uint8_t*>(iv_.data()), iv_.size()};
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &m, aes_));
  Bytes in = data_, out(64);
  CK_ULONG len = 4;
  ASSERT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len));
  CK_ULONG part_len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_EncryptUpdate(session_, in.data(), 16, out.data(), &part_len));
  len = out.size();
  ASSERT_CKR_OK(f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len));
  out.resize(len);
  EXPECT_EQ(out, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
}

TEST_F(OperationMixingTest, DecryptMixesAreRefusedBothWays) {
  CK_MECHANISM m{CKM_AES_CBC_PAD, const_cast<uint8_t*>(iv_.data()), iv_.size()};
  Bytes ct = OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true);
  ASSERT_EQ(ct.size(), 48u);
  {
    SCOPED_TRACE("C_Decrypt after C_DecryptUpdate");
    ASSERT_CKR_OK(f_->C_DecryptInit(session_, &m, aes_));
    Bytes out, part(64);
    CK_ULONG len = part.size();
    ASSERT_CKR_OK(f_->C_DecryptUpdate(session_, ct.data(), 32, part.data(), &len));
    Append(out, part, len);
    len = part.size();
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Decrypt(session_, ct.data(), ct.size(), part.data(), &len));
    len = part.size();
    ASSERT_CKR_OK(f_->C_DecryptUpdate(session_, ct.data() + 32, 16, part.data(), &len));
    Append(out, part, len);
    len = part.size();
    ASSERT_CKR_OK(f_->C_DecryptFinal(session_, part.data(), &len));
    Append(out, part, len);
    EXPECT_EQ(out, data_);
  }
  {
    SCOPED_TRACE("C_DecryptUpdate and C_DecryptFinal after a length-query C_Decrypt");
    ASSERT_CKR_OK(f_->C_DecryptInit(session_, &m, aes_));
    Bytes out(64);
    CK_ULONG len = 0;
    ASSERT_CKR_OK(f_->C_Decrypt(session_, ct.data(), ct.size(), nullptr, &len));
    CK_ULONG part_len = out.size();
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DecryptUpdate(session_, ct.data(), 16, out.data(), &part_len));
    part_len = out.size();
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DecryptFinal(session_, out.data(), &part_len));
    len = out.size();
    ASSERT_CKR_OK(f_->C_Decrypt(session_, ct.data(), ct.size(), out.data(), &len));
    out.resize(len);
    EXPECT_EQ(out, data_);
  }
}

TEST_F(OperationMixingTest, DigestAfterDigestUpdateKeepsTheMultiPartDigest) {
  CK_MECHANISM m{CKM_SHA256, nullptr, 0};
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
  Bytes in = data_, out(32);
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, in.data(), 10));
  CK_ULONG len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Digest(session_, in.data(), in.size(), out.data(), &len));
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, in.data() + 10, in.size() - 10)) << "the digest is intact";
  len = out.size();
  ASSERT_CKR_OK(f_->C_DigestFinal(session_, out.data(), &len));
  out.resize(len);
  EXPECT_EQ(out, OsslDigest("SHA256", data_));
}

TEST_F(OperationMixingTest, DigestFinalAfterALengthQueryKeepsTheSinglePartDigest) {
  CK_MECHANISM m{CKM_SHA256, nullptr, 0};
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
  Bytes in = data_, out(32);
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Digest(session_, in.data(), in.size(), nullptr, &len));
  EXPECT_EQ(len, 32u);
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestFinal(session_, out.data(), &len));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestUpdate(session_, in.data(), 4));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestKey(session_, hmac_));
  len = out.size();
  ASSERT_CKR_OK(f_->C_Digest(session_, in.data(), in.size(), out.data(), &len)) << "the digest is intact";
  out.resize(len);
  EXPECT_EQ(out, OsslDigest("SHA256", data_)) << "nothing of the refused calls was digested";
}

TEST_F(OperationMixingTest, SignMixesAreRefusedBothWays) {
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  Bytes in = data_;
  {
    SCOPED_TRACE("C_Sign after C_SignUpdate");
    ASSERT_CKR_OK(f_->C_SignInit(session_, &m, hmac_));
    ASSERT_CKR_OK(f_->C_SignUpdate(session_, in.data(), 10));
    Bytes sig(32);
    CK_ULONG len = sig.size();
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Sign(session_, in.data(), in.size(), sig.data(), &len));
    ASSERT_CKR_OK(f_->C_SignUpdate(session_, in.data() + 10, in.size() - 10));
    len = sig.size();
    ASSERT_CKR_OK(f_->C_SignFinal(session_, sig.data(), &len));
    sig.resize(len);
    EXPECT_EQ(sig, OsslHmac("SHA256", hmac_key_, data_));
  }
  {
    SCOPED_TRACE("C_SignUpdate and C_SignFinal after a length-query C_Sign");
    ASSERT_CKR_OK(f_->C_SignInit(session_, &m, hmac_));
    CK_ULONG len = 0;
    ASSERT_CKR_OK(f_->C_Sign(session_, in.data(), in.size(), nullptr, &len));
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_SignUpdate(session_, in.data(), 4));
    Bytes sig(32);
    len = sig.size();
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_SignFinal(session_, sig.data(), &len));
    len = sig.size();
    ASSERT_CKR_OK(f_->C_Sign(session_, in.data(), in.size(), sig.data(), &len));
    sig.resize(len);
    EXPECT_EQ(sig, OsslHmac("SHA256", hmac_key_, data_));
  }
}

// A single-part-only mechanism (CKM_ECDSA): the stray C_SignUpdate is out of place
// first, before it is unsupported, so the operation survives it.
TEST_F(OperationMixingTest, SignUpdateAfterALengthQueryOnASinglePartMechanism) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  Bytes digest = OsslDigest("SHA256", data_);
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, ec_.priv));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Sign(session_, digest.data(), digest.size(), nullptr, &len));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_SignUpdate(session_, digest.data(), 4));
  Bytes sig(len);
  ASSERT_CKR_OK(f_->C_Sign(session_, digest.data(), digest.size(), sig.data(), &len));
  sig.resize(len);
  Pkey pub = PublicKeyFromObject(f_, session_, ec_.pub);
  EXPECT_TRUE(OsslVerify(pub.get(), CKM_ECDSA, digest, sig));
}

TEST_F(OperationMixingTest, VerifyAfterVerifyUpdateKeepsTheMultiPartVerification) {
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  Bytes in = data_, tag = OsslHmac("SHA256", hmac_key_, data_);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, hmac_));
  ASSERT_CKR_OK(f_->C_VerifyUpdate(session_, in.data(), 10));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_Verify(session_, in.data(), in.size(), tag.data(), tag.size()));
  ASSERT_CKR_OK(f_->C_VerifyUpdate(session_, in.data() + 10, in.size() - 10)) << "the verification is intact";
  EXPECT_CKR_OK(f_->C_VerifyFinal(session_, tag.data(), tag.size()));
}

}  // namespace
}  // namespace ferrohsm::abi
