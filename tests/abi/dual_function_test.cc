// The dual-function calls (PKCS#11 3.0 §5.13 and following): C_DigestEncryptUpdate,
// C_DecryptDigestUpdate, C_SignEncryptUpdate and C_DecryptVerifyUpdate. Both
// operations must be active; a call is the two updates in order (digest or sign the
// plaintext, then encrypt it; decrypt, then digest or verify what came out), with
// the output-length convention of the cipher part: a call that delivers no output (a
// length query, CKR_BUFFER_TOO_SMALL, an error) passes no plaintext to the digest or
// signature, so a retry feeds it exactly once. Every result is compared with OpenSSL's.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class DualFunctionTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, aes_key_);
    t.Bool(CKA_TOKEN, false).Bool(CKA_ENCRYPT, true).Bool(CKA_DECRYPT, true);
    aes_ = CreateObject(f_, session_, t).handle;
    SecretKey h = ImportGenericSecret(f_, session_, hmac_key_);
    ASSERT_CKR_OK(h.rv);
    hmac_ = h.handle;
  }

  using DualFn = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);

  // One dual call over `part` with the length query first; appends the output.
  CK_RV Step(DualFn fn, const Bytes& part, Bytes& out) {
    Bytes in = part;
    CK_ULONG len = 0;
    CK_RV rv = fn(session_, in.data(), in.size(), nullptr, &len);
    if (rv != CKR_OK) return rv;
    Bytes buf(len + 1);
    rv = fn(session_, in.data(), in.size(), buf.data(), &len);
    if (rv == CKR_OK) out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(len));
    return rv;
  }
  CK_RV EncryptFinal(Bytes& out) {
    Bytes buf(32);
    CK_ULONG len = buf.size();
    CK_RV rv = f_->C_EncryptFinal(session_, buf.data(), &len);
    if (rv == CKR_OK) out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(len));
    return rv;
  }
  CK_RV DecryptFinal(Bytes& out) {
    Bytes buf(32);
    CK_ULONG len = buf.size();
    CK_RV rv = f_->C_DecryptFinal(session_, buf.data(), &len);
    if (rv == CKR_OK) out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(len));
    return rv;
  }
  Bytes DigestFinal() {
    Bytes d(32);
    CK_ULONG len = d.size();
    EXPECT_CKR_OK(f_->C_DigestFinal(session_, d.data(), &len));
    d.resize(len);
    return d;
  }
  Bytes Part(size_t from, size_t to) const { return Bytes(data_.begin() + from, data_.begin() + to); }

  const Bytes aes_key_ = Bytes(16, 0x2A);
  const Bytes iv_ = Bytes(16, 0x07);
  const Bytes hmac_key_ = Bytes(32, 0x5C);
  const Bytes data_ = AsBytes("fifty bytes of plaintext for the dual functions...");
  CK_MECHANISM cbc_pad_{CKM_AES_CBC_PAD, const_cast<uint8_t*>(iv_.data()), 16};
  CK_MECHANISM sha256_{CKM_SHA256, nullptr, 0};
  CK_MECHANISM hmac_mech_{CKM_SHA256_HMAC, nullptr, 0};
  CK_OBJECT_HANDLE aes_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE hmac_ = CK_INVALID_HANDLE;
};

TEST_F(DualFunctionTest, DigestEncryptUpdateDigestsAndEncryptsThePlaintext) {
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes ct;
  ASSERT_CKR_OK(Step(f_->C_DigestEncryptUpdate, Part(0, 21), ct));
  ASSERT_CKR_OK(Step(f_->C_DigestEncryptUpdate, Part(21, 50), ct));
  ASSERT_CKR_OK(EncryptFinal(ct));
  EXPECT_EQ(ct, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
  EXPECT_EQ(DigestFinal(), OsslDigest("SHA256", data_)) << "each part digested once, length queries included";
}

TEST_F(DualFunctionTest, DecryptDigestUpdateDigestsWhatTheDecryptionReturns) {
  const Bytes ct = OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true);
  ASSERT_EQ(ct.size(), 64u);
  ASSERT_CKR_OK(f_->C_DecryptInit(session_, &cbc_pad_, aes_));
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  Bytes plain;
  ASSERT_CKR_OK(Step(f_->C_DecryptDigestUpdate, Bytes(ct.begin(), ct.begin() + 24), plain));
  ASSERT_CKR_OK(Step(f_->C_DecryptDigestUpdate, Bytes(ct.begin() + 24, ct.end()), plain));
  // With padding the decryption holds back its last block until C_DecryptFinal; the
  // application digests that part itself (the specification's own example).
  const size_t digested = plain.size();
  EXPECT_LT(digested, data_.size());
  ASSERT_CKR_OK(DecryptFinal(plain));
  EXPECT_EQ(plain, data_);
  Bytes rest(plain.begin() + static_cast<long>(digested), plain.end());
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, rest.data(), rest.size()));
  EXPECT_EQ(DigestFinal(), OsslDigest("SHA256", data_));
}

TEST_F(DualFunctionTest, SignEncryptUpdateSignsAndEncryptsThePlaintext) {
  ASSERT_CKR_OK(f_->C_SignInit(session_, &hmac_mech_, hmac_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes ct;
  ASSERT_CKR_OK(Step(f_->C_SignEncryptUpdate, Part(0, 7), ct));
  ASSERT_CKR_OK(Step(f_->C_SignEncryptUpdate, Part(7, 50), ct));
  ASSERT_CKR_OK(EncryptFinal(ct));
  EXPECT_EQ(ct, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
  Bytes tag(32);
  CK_ULONG len = tag.size();
  ASSERT_CKR_OK(f_->C_SignFinal(session_, tag.data(), &len));
  EXPECT_EQ(tag, OsslHmac("SHA256", hmac_key_, data_));
}

TEST_F(DualFunctionTest, DecryptVerifyUpdateVerifiesWhatTheDecryptionReturns) {
  const Bytes ct = OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true);
  Bytes tag = OsslHmac("SHA256", hmac_key_, data_);
  ASSERT_CKR_OK(f_->C_DecryptInit(session_, &cbc_pad_, aes_));
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &hmac_mech_, hmac_));
  Bytes plain;
  ASSERT_CKR_OK(Step(f_->C_DecryptVerifyUpdate, ct, plain));
  const size_t verified = plain.size();
  ASSERT_CKR_OK(DecryptFinal(plain));
  EXPECT_EQ(plain, data_);
  Bytes rest(plain.begin() + static_cast<long>(verified), plain.end());
  ASSERT_CKR_OK(f_->C_VerifyUpdate(session_, rest.data(), rest.size()));
  EXPECT_CKR_OK(f_->C_VerifyFinal(session_, tag.data(), tag.size()));
}

TEST_F(DualFunctionTest, AShortBufferConsumesNothingUntilTheRetry) {
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes in = Part(0, 40), out(48);
  CK_ULONG len = 3;
  ASSERT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len));
  EXPECT_EQ(len, 32u);
  len = out.size();
  ASSERT_CKR_OK(f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len));
  Bytes ct(out.begin(), out.begin() + static_cast<long>(len));
  Bytes tail = Part(40, 50);
  ASSERT_CKR_OK(Step(f_->C_DigestEncryptUpdate, tail, ct));
  ASSERT_CKR_OK(EncryptFinal(ct));
  EXPECT_EQ(ct, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
  EXPECT_EQ(DigestFinal(), OsslDigest("SHA256", data_));
}

// §5.13: "If a C_DigestEncryptUpdate call does not produce encrypted output (because
// an error occurs, or because pEncryptedPart has the value NULL_PTR, or because
// pulEncryptedPartLen is too small …), then no plaintext is passed to the active
// digest operation."
TEST_F(DualFunctionTest, NoOutputMeansNothingDigested) {
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes in = Part(0, 40), out(48);
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), nullptr, &len));
  len = 3;
  ASSERT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len));
  EXPECT_EQ(DigestFinal(), OsslDigest("SHA256", {})) << "neither call passed plaintext to the digest";
}

TEST_F(DualFunctionTest, BothOperationsMustBeActive) {
  Bytes in = Part(0, 16), out(32);
  CK_ULONG len = out.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len));
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len))
      << "no encryption";
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_DecryptDigestUpdate(session_, in.data(), in.size(), out.data(), &len))
      << "no decryption";
  // Neither refused call touched the digest.
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, in.data(), in.size()));
  EXPECT_EQ(DigestFinal(), OsslDigest("SHA256", in));

  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignEncryptUpdate(session_, in.data(), in.size(), out.data(), &len))
      << "no signature";
  len = out.size();
  ASSERT_CKR_OK(f_->C_EncryptUpdate(session_, in.data(), in.size(), out.data(), &len)) << "the encryption is intact";
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(len)),
            OsslCipher("AES-128-CBC", true, aes_key_, iv_, in, false));
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &hmac_mech_, hmac_));
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_DecryptVerifyUpdate(session_, in.data(), in.size(), out.data(), &len))
      << "no decryption";
}

TEST_F(DualFunctionTest, AnOperationInItsSinglePartFormIsNotFedByADualCall) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers other codes for mixed calls");
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes in = data_, out(64);
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Digest(session_, in.data(), in.size(), nullptr, &len)) << "a single-part length query";
  len = out.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), &len));
  Bytes d(32);
  len = d.size();
  ASSERT_CKR_OK(f_->C_Digest(session_, in.data(), in.size(), d.data(), &len));
  EXPECT_EQ(d, OsslDigest("SHA256", data_));
  len = out.size();
  ASSERT_CKR_OK(f_->C_Encrypt(session_, in.data(), in.size(), out.data(), &len)) << "nor was the encryption fed";
  out.resize(len);
  EXPECT_EQ(out, OsslCipher("AES-128-CBC", true, aes_key_, iv_, data_, true));
}

TEST_F(DualFunctionTest, NullLengthPointerIsArgumentsBad) {
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha256_));
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &cbc_pad_, aes_));
  Bytes in = Part(0, 16), out(32);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DigestEncryptUpdate(session_, in.data(), in.size(), out.data(), nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DigestEncryptUpdate(session_, nullptr, 16, out.data(), nullptr));
}

}  // namespace
}  // namespace ferrohsm::abi
