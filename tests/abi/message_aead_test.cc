// The message-based AEAD API (PKCS#11 3.0 §5.13, §5.15) for AES-GCM, AES-CCM and
// ChaCha20-Poly1305: IV generators, the tag in the parameter block, multi-part
// messages, and the return codes. Ciphertexts are checked by OpenSSL.
#include <openssl/evp.h>

#include <cstring>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

// OpenSSL's AEAD encryption: ciphertext, then the tag.
Bytes OsslAead(const char* name, const Bytes& key, const Bytes& iv, const Bytes& aad, const Bytes& pt,
               size_t tag_len) {
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name, nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const bool ccm = std::strstr(name, "CCM") != nullptr;
  Bytes out(pt.size() + tag_len);
  int n = 0, fin = 0;
  bool ok = c && ctx && EVP_EncryptInit_ex2(ctx, c, nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()), nullptr) == 1 &&
            (!ccm || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_len), nullptr) == 1) &&
            EVP_EncryptInit_ex2(ctx, nullptr, key.data(), iv.data(), nullptr) == 1 &&
            (!ccm || EVP_EncryptUpdate(ctx, nullptr, &n, nullptr, static_cast<int>(pt.size())) == 1) &&
            (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
            EVP_EncryptUpdate(ctx, out.data(), &n, pt.data(), static_cast<int>(pt.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, out.data() + n, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_len), out.data() + pt.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(c);
  return ok ? out : Bytes{};
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class MessageAeadTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_SOFTHSM("SoftHSMv2 2.6 has no message-based API");
    aes_ = Import(CKK_AES, key_);
    chacha_ = Import(CKK_CHACHA20, Bytes(32, 0x42));
  }
  CK_OBJECT_HANDLE Import(CK_KEY_TYPE type, const Bytes& value) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bytes(CKA_VALUE, value);
    t.Bool(CKA_ENCRYPT, true).Bool(CKA_DECRYPT, true).Bool(CKA_TOKEN, false);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &h));
    return h;
  }
  void InitBoth(CK_MECHANISM_TYPE type, CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{type, nullptr, 0};
    ASSERT_CKR_OK(f3_->C_MessageEncryptInit(session_, &m, key));
    ASSERT_CKR_OK(f3_->C_MessageDecryptInit(session_, &m, key));
  }
  CK_RV Encrypt(void* p, CK_ULONG plen, Bytes& ct) {
    ct.assign(pt_.size(), 0);
    CK_ULONG len = ct.size();
    CK_RV rv = f3_->C_EncryptMessage(session_, p, plen, aad_.data(), aad_.size(), pt_.data(), pt_.size(), ct.data(),
                                    &len);
    ct.resize(len);
    return rv;
  }
  CK_RV Decrypt(void* p, CK_ULONG plen, const Bytes& ct, Bytes& pt) {
    pt.assign(ct.size(), 0);
    CK_ULONG len = pt.size();
    Bytes in = ct;
    CK_RV rv = f3_->C_DecryptMessage(session_, p, plen, aad_.data(), aad_.size(), in.data(), in.size(), pt.data(), &len);
    pt.resize(len);
    return rv;
  }

  CK_FUNCTION_LIST_3_0_PTR f3_ = GetModule().fl3;  // the 3.0 functions
  Bytes key_ = Bytes(16, 0x11);
  Bytes aad_ = AsBytes("header");
  Bytes pt_ = AsBytes("a message of some length, longer than one block");
  CK_OBJECT_HANDLE aes_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE chacha_ = CK_INVALID_HANDLE;
};

TEST_F(MessageAeadTest, MechanismInfoAdvertisesMessageFlags) {
  CK_MECHANISM_INFO info{};
  ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, CKM_AES_GCM, &info));
  EXPECT_TRUE(info.flags & CKF_MESSAGE_ENCRYPT);
  EXPECT_TRUE(info.flags & CKF_MESSAGE_DECRYPT);
  EXPECT_TRUE(info.flags & CKF_MULTI_MESSAGE);
  ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, CKM_AES_CCM, &info));
  EXPECT_TRUE(info.flags & CKF_MESSAGE_ENCRYPT);
  ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, CKM_CHACHA20_POLY1305, &info));
  EXPECT_TRUE(info.flags & CKF_MESSAGE_DECRYPT);
}

TEST_F(MessageAeadTest, GcmCounterIvKeepsFixedPartAndCounts) {
  InitBoth(CKM_AES_GCM, aes_);
  Bytes iv = {0xA1, 0xA2, 0xA3, 0xA4, 0, 0, 0, 0, 0, 0, 0, 0};
  Bytes tag(16);
  CK_GCM_MESSAGE_PARAMS p{iv.data(), iv.size(), 32, CKG_GENERATE_COUNTER, tag.data(), 128};
  Bytes ct;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  ASSERT_EQ(ct.size(), pt_.size()) << "the tag travels in the parameters, not after the ciphertext";
  Bytes iv0 = iv;
  EXPECT_EQ(Cat(ct, tag), OsslAead("AES-128-GCM", key_, iv0, aad_, pt_, 16));
  Bytes ct1;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct1));
  EXPECT_EQ(Bytes(iv.begin(), iv.begin() + 4), Bytes(iv0.begin(), iv0.begin() + 4)) << "fixed bits kept";
  EXPECT_NE(iv, iv0) << "a new IV for each message";
  EXPECT_EQ(iv.back(), static_cast<uint8_t>(iv0.back() + 1)) << "the counter counts";
  EXPECT_EQ(Cat(ct1, tag), OsslAead("AES-128-GCM", key_, iv, aad_, pt_, 16));

  Bytes out;
  ASSERT_CKR_OK(Decrypt(&p, sizeof p, ct1, out));
  EXPECT_EQ(out, pt_);
  tag[0] ^= 1;
  EXPECT_CKR(CKR_AEAD_DECRYPT_FAILED, Decrypt(&p, sizeof p, ct1, out));
  tag[0] ^= 1;
  ASSERT_CKR_OK(Decrypt(&p, sizeof p, ct1, out)) << "a failed message leaves the context usable";
  EXPECT_EQ(out, pt_);
  EXPECT_CKR_OK(f3_->C_MessageEncryptFinal(session_));
  EXPECT_CKR_OK(f3_->C_MessageDecryptFinal(session_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageDecryptFinal(session_));
}

TEST_F(MessageAeadTest, GcmRandomAndXorGenerators) {
  InitBoth(CKM_AES_GCM, aes_);
  Bytes iv(12, 0x5A);
  Bytes tag(12);
  CK_GCM_MESSAGE_PARAMS p{iv.data(), iv.size(), 16, CKG_GENERATE_RANDOM, tag.data(), 96};
  Bytes ct;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  Bytes first = iv;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  EXPECT_EQ(iv[0], 0x5A);
  EXPECT_EQ(iv[1], 0x5A);
  EXPECT_NE(iv, first);
  EXPECT_EQ(Cat(ct, tag), OsslAead("AES-128-GCM", key_, iv, aad_, pt_, 12));
  ASSERT_CKR_OK(f3_->C_MessageEncryptFinal(session_));

  CK_MECHANISM m{CKM_AES_GCM, nullptr, 0};
  ASSERT_CKR_OK(f3_->C_MessageEncryptInit(session_, &m, aes_));
  const Bytes base(12, 0xF0);
  iv = base;
  p = {iv.data(), iv.size(), 0, CKG_GENERATE_COUNTER_XOR, tag.data(), 96};
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  EXPECT_EQ(iv, base) << "counter 0 XOR base";
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  Bytes want = base;
  want.back() ^= 1;
  EXPECT_EQ(iv, want) << "counter 1 XOR the first IV, not the last one";
  EXPECT_EQ(Cat(ct, tag), OsslAead("AES-128-GCM", key_, want, aad_, pt_, 12));
}

TEST_F(MessageAeadTest, GcmMultiPartEqualsSinglePart) {
  InitBoth(CKM_AES_GCM, aes_);
  Bytes iv(12, 0x07);
  Bytes tag(16);
  CK_GCM_MESSAGE_PARAMS p{iv.data(), iv.size(), 0, CKG_NO_GENERATE, tag.data(), 128};
  ASSERT_CKR_OK(f3_->C_EncryptMessageBegin(session_, &p, sizeof p, aad_.data(), aad_.size()));
  EXPECT_CKR(CKR_OPERATION_ACTIVE,
             f3_->C_EncryptMessageBegin(session_, &p, sizeof p, aad_.data(), aad_.size()));
  Bytes ct(pt_.size());
  CK_ULONG n1 = 20;
  ASSERT_CKR_OK(f3_->C_EncryptMessageNext(session_, &p, sizeof p, pt_.data(), 20, ct.data(), &n1, 0));
  CK_ULONG n2 = ct.size() - n1;
  ASSERT_CKR_OK(f3_->C_EncryptMessageNext(session_, &p, sizeof p, pt_.data() + 20, pt_.size() - 20, ct.data() + n1,
                                         &n2, CKF_END_OF_MESSAGE));
  ASSERT_EQ(n1 + n2, pt_.size());
  EXPECT_EQ(Cat(ct, tag), OsslAead("AES-128-GCM", key_, iv, aad_, pt_, 16));

  ASSERT_CKR_OK(f3_->C_DecryptMessageBegin(session_, &p, sizeof p, aad_.data(), aad_.size()));
  Bytes out(pt_.size());
  CK_ULONG m1 = out.size();
  ASSERT_CKR_OK(f3_->C_DecryptMessageNext(session_, &p, sizeof p, ct.data(), ct.size(), out.data(), &m1,
                                         CKF_END_OF_MESSAGE));
  EXPECT_EQ(out, pt_);
  CK_ULONG none = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_DecryptMessageNext(session_, &p, sizeof p, ct.data(), 0, out.data(), &none, 0))
      << "the message ended with CKF_END_OF_MESSAGE";
}

TEST_F(MessageAeadTest, CcmSinglePartMatchesOpenSsl) {
  InitBoth(CKM_AES_CCM, aes_);
  Bytes nonce(12, 0x21);
  Bytes mac(8);
  CK_CCM_MESSAGE_PARAMS p{pt_.size(), nonce.data(), nonce.size(), 0, CKG_NO_GENERATE, mac.data(), 8};
  Bytes ct;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  EXPECT_EQ(Cat(ct, mac), OsslAead("AES-128-CCM", key_, nonce, aad_, pt_, 8));
  Bytes out;
  ASSERT_CKR_OK(Decrypt(&p, sizeof p, ct, out));
  EXPECT_EQ(out, pt_);
  mac[3] ^= 0x80;
  EXPECT_CKR(CKR_AEAD_DECRYPT_FAILED, Decrypt(&p, sizeof p, ct, out));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_EncryptMessageBegin(session_, &p, sizeof p, nullptr, 0))
      << "CCM messages are single-part";
  p.ulDataLen = pt_.size() + 1;
  EXPECT_CKR(CKR_DATA_LEN_RANGE, Encrypt(&p, sizeof p, ct));
}

TEST_F(MessageAeadTest, ChachaMatchesOpenSsl) {
  InitBoth(CKM_CHACHA20_POLY1305, chacha_);
  Bytes nonce(12, 0x33);
  Bytes tag(16);
  CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS p{nonce.data(), nonce.size(), tag.data()};
  Bytes ct;
  ASSERT_CKR_OK(Encrypt(&p, sizeof p, ct));
  EXPECT_EQ(Cat(ct, tag), OsslAead("ChaCha20-Poly1305", Bytes(32, 0x42), nonce, aad_, pt_, 16));
  Bytes out;
  ASSERT_CKR_OK(Decrypt(&p, sizeof p, ct, out));
  EXPECT_EQ(out, pt_);
  ct[0] ^= 1;
  EXPECT_CKR(CKR_AEAD_DECRYPT_FAILED, Decrypt(&p, sizeof p, ct, out));
}

TEST_F(MessageAeadTest, ReturnCodes) {
  Bytes iv(12), tag(16), ct;
  CK_GCM_MESSAGE_PARAMS p{iv.data(), iv.size(), 0, CKG_NO_GENERATE, tag.data(), 128};
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Encrypt(&p, sizeof p, ct));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageEncryptFinal(session_));
  CK_MECHANISM cbc{CKM_AES_CBC, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_MessageEncryptInit(session_, &cbc, aes_));
  CK_MECHANISM gcm{CKM_AES_GCM, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f3_->C_MessageEncryptInit(session_, &gcm, chacha_));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f3_->C_MessageEncryptInit(session_, nullptr, aes_));
  ASSERT_CKR_OK(f3_->C_MessageEncryptInit(session_, &gcm, aes_));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_MessageEncryptInit(session_, &gcm, aes_));
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, Encrypt(&p, sizeof p - 1, ct));
  CK_GCM_MESSAGE_PARAMS bad = p;
  bad.ulTagBits = 100;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, Encrypt(&bad, sizeof bad, ct));
  bad = p;
  bad.ulIvFixedBits = 97;
  bad.ivGenerator = CKG_GENERATE_COUNTER;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, Encrypt(&bad, sizeof bad, ct));
  // Length query and a short buffer: the length needed, the context untouched.
  CK_ULONG len = 0;
  EXPECT_CKR_OK(f3_->C_EncryptMessage(session_, &p, sizeof p, nullptr, 0, pt_.data(), pt_.size(), nullptr, &len));
  EXPECT_EQ(len, pt_.size());
  Bytes small(4);
  len = small.size();
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL,
             f3_->C_EncryptMessage(session_, &p, sizeof p, nullptr, 0, pt_.data(), pt_.size(), small.data(), &len));
  EXPECT_EQ(len, pt_.size());
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f3_->C_EncryptMessage(session_, &p, sizeof p, nullptr, 0, pt_.data(), pt_.size(), small.data(), nullptr));
  EXPECT_CKR_OK(Encrypt(&p, sizeof p, ct)) << "errors in single messages keep the context";
  // C_SessionCancel ends the context.
  EXPECT_CKR_OK(f3_->C_SessionCancel(session_, CKF_MESSAGE_ENCRYPT));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Encrypt(&p, sizeof p, ct));
}

TEST_F(MessageAeadTest, KeyWithoutEncryptIsNotPermitted) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, key_);
  t.Bool(CKA_ENCRYPT, false).Bool(CKA_DECRYPT, true).Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &h));
  CK_MECHANISM gcm{CKM_AES_GCM, nullptr, 0};
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f3_->C_MessageEncryptInit(session_, &gcm, h));
  EXPECT_CKR_OK(f3_->C_MessageDecryptInit(session_, &gcm, h));
}

}  // namespace
}  // namespace ferrohsm::abi
