// The message-based signature API of PKCS#11 3.0 (§5.14 C_MessageSignInit …
// C_MessageSignFinal, §5.15 C_MessageVerifyInit … C_MessageVerifyFinal): one key and
// mechanism, many messages, each signed in one part (C_SignMessage) or in parts
// (C_SignMessageBegin, then C_SignMessageNext until the call that asks for the
// signature). The per-message parameter is NULL for every FerroHSM mechanism. A
// finished or failed message ends only that message; C_MessageSignFinal ends the
// context. Signatures are checked with OpenSSL. (Which mechanisms report
// CKF_MESSAGE_SIGN / CKF_MESSAGE_VERIFY, and that each works, is the round-trip
// suite's: tests/abi/mechanism_roundtrip_test.cc.)
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class MessageSignTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_SOFTHSM("SoftHSMv2 2.6 has no message-based API");
    SecretKey h = ImportGenericSecret(f_, session_, key_);
    ASSERT_CKR_OK(h.rv);
    hmac_ = h.handle;
    ec_ = GenerateEc(f_, session_, "P-256");
    ASSERT_CKR_OK(ec_.rv);
  }

  // C_SignMessage with the length query; empty on failure.
  Bytes SignMessage(const Bytes& data, CK_RV* rv) {
    Bytes in = data;
    CK_ULONG len = 0;
    *rv = f3_->C_SignMessage(session_, nullptr, 0, in.data(), in.size(), nullptr, &len);
    if (*rv != CKR_OK) return {};
    Bytes sig(len);
    *rv = f3_->C_SignMessage(session_, nullptr, 0, in.data(), in.size(), sig.data(), &len);
    sig.resize(*rv == CKR_OK ? len : 0);
    return sig;
  }
  CK_RV VerifyMessage(const Bytes& data, const Bytes& sig) {
    Bytes in = data, s = sig;
    return f3_->C_VerifyMessage(session_, nullptr, 0, in.data(), in.size(), s.data(), s.size());
  }

  CK_FUNCTION_LIST_3_0_PTR f3_ = GetModule().fl3;
  const Bytes key_ = Bytes(32, 0x6B);
  const Bytes msg1_ = AsBytes("the first message"), msg2_ = AsBytes("and a second, longer message");
  CK_MECHANISM hmac_mech_{CKM_SHA256_HMAC, nullptr, 0};
  CK_OBJECT_HANDLE hmac_ = CK_INVALID_HANDLE;
  KeyPair ec_;
};

TEST_F(MessageSignTest, OneContextSignsManyMessages) {
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &hmac_mech_, hmac_));
  CK_RV rv = CKR_GENERAL_ERROR;
  EXPECT_EQ(SignMessage(msg1_, &rv), OsslHmac("SHA256", key_, msg1_));
  EXPECT_CKR_OK(rv);
  EXPECT_EQ(SignMessage(msg2_, &rv), OsslHmac("SHA256", key_, msg2_)) << "the context outlives a message";
  EXPECT_CKR_OK(rv);
  Bytes in = msg1_, sig(32);
  CK_ULONG len = 4;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f3_->C_SignMessage(session_, nullptr, 0, in.data(), in.size(), sig.data(), &len));
  EXPECT_EQ(len, 32u);
  len = sig.size();
  ASSERT_CKR_OK(f3_->C_SignMessage(session_, nullptr, 0, in.data(), in.size(), sig.data(), &len));
  EXPECT_EQ(sig, OsslHmac("SHA256", key_, msg1_));
  EXPECT_CKR_OK(f3_->C_MessageSignFinal(session_));
  SignMessage(msg1_, &rv);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, rv);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageSignFinal(session_));
}

TEST_F(MessageSignTest, AMessageInPartsFeedsEachPartOnce) {
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &hmac_mech_, hmac_));
  Bytes in = msg2_;
  ASSERT_CKR_OK(f3_->C_SignMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, in.data(), 10, nullptr, nullptr)) << "not the last part";
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, in.data() + 10, in.size() - 10, nullptr, &len))
      << "the last part, asking for the length";
  EXPECT_EQ(len, 32u);
  Bytes sig(len);
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, in.data() + 10, in.size() - 10, sig.data(), &len));
  EXPECT_EQ(sig, OsslHmac("SHA256", key_, msg2_)) << "the length query fed nothing";
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_SignMessageNext(session_, nullptr, 0, in.data(), 4, nullptr, nullptr))
      << "the message is finished";
  CK_RV rv = CKR_GENERAL_ERROR;
  EXPECT_EQ(SignMessage(msg1_, &rv), OsslHmac("SHA256", key_, msg1_)) << "the next message";
  EXPECT_CKR_OK(f3_->C_MessageSignFinal(session_));
}

TEST_F(MessageSignTest, CallsOutOfOrderAreRefusedAndHarmless) {
  Bytes in = msg1_, sig(32);
  CK_ULONG len = sig.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_SignMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &hmac_mech_, hmac_));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_MessageSignInit(session_, &hmac_mech_, hmac_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_SignMessageNext(session_, nullptr, 0, in.data(), in.size(), sig.data(), &len))
      << "no message was begun";
  ASSERT_CKR_OK(f3_->C_SignMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, in.data(), 5, nullptr, nullptr));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_SignMessageBegin(session_, nullptr, 0));
  len = sig.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f3_->C_SignMessage(session_, nullptr, 0, in.data(), in.size(), sig.data(), &len));
  len = sig.size();
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, in.data() + 5, in.size() - 5, sig.data(), &len))
      << "the message in progress is intact";
  EXPECT_EQ(sig, OsslHmac("SHA256", key_, msg1_));
  // A message parameter where the mechanism takes none.
  CK_ULONG junk = 7;
  len = sig.size();
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID,
             f3_->C_SignMessage(session_, &junk, sizeof junk, in.data(), in.size(), sig.data(), &len));
  CK_RV rv = CKR_GENERAL_ERROR;
  EXPECT_EQ(SignMessage(msg2_, &rv), OsslHmac("SHA256", key_, msg2_)) << "the context survives the refusal";
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f3_->C_SignMessage(session_, nullptr, 0, nullptr, 4, sig.data(), &len));
  EXPECT_EQ(SignMessage(msg2_, &rv), OsslHmac("SHA256", key_, msg2_)) << "and an argument error";
  EXPECT_CKR_OK(f3_->C_MessageSignFinal(session_));
}

TEST_F(MessageSignTest, VerificationOfManyMessages) {
  ASSERT_CKR_OK(f3_->C_MessageVerifyInit(session_, &hmac_mech_, hmac_));
  Bytes tag1 = OsslHmac("SHA256", key_, msg1_), tag2 = OsslHmac("SHA256", key_, msg2_);
  EXPECT_CKR_OK(VerifyMessage(msg1_, tag1));
  EXPECT_CKR(CKR_SIGNATURE_INVALID, VerifyMessage(msg1_, tag2));
  EXPECT_CKR_OK(VerifyMessage(msg2_, tag2)) << "a bad signature ends only its message";
  Bytes in = msg2_;
  ASSERT_CKR_OK(f3_->C_VerifyMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_VerifyMessageNext(session_, nullptr, 0, in.data(), 9, nullptr, 0)) << "not the last part";
  EXPECT_CKR_OK(f3_->C_VerifyMessageNext(session_, nullptr, 0, in.data() + 9, in.size() - 9, tag2.data(), tag2.size()));
  ASSERT_CKR_OK(f3_->C_VerifyMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_VerifyMessageNext(session_, nullptr, 0, in.data(), 9, nullptr, 0));
  EXPECT_CKR(CKR_SIGNATURE_INVALID,
             f3_->C_VerifyMessageNext(session_, nullptr, 0, in.data() + 9, in.size() - 9, tag1.data(), tag1.size()));
  EXPECT_CKR_OK(f3_->C_MessageVerifyFinal(session_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, VerifyMessage(msg1_, tag1));
}

// CKM_ECDSA signs a digest in one part: one C_SignMessage per message, or a Begin
// followed by a single, last Next; a part that is not the last is not supported.
TEST_F(MessageSignTest, SinglePartMechanismsSignWholeMessages) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  Pkey pub = PublicKeyFromObject(f_, session_, ec_.pub);
  ASSERT_TRUE(pub);
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &m, ec_.priv));
  ASSERT_CKR_OK(f3_->C_MessageVerifyInit(session_, &m, ec_.pub));
  for (const Bytes& msg : {msg1_, msg2_}) {
    Bytes digest = OsslDigest("SHA256", msg);
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes sig = SignMessage(digest, &rv);
    ASSERT_CKR_OK(rv);
    EXPECT_TRUE(OsslVerify(pub.get(), CKM_ECDSA, digest, sig));
    EXPECT_CKR_OK(VerifyMessage(digest, sig));
  }
  Bytes digest = OsslDigest("SHA256", msg1_), sig(64);
  CK_ULONG len = sig.size();
  ASSERT_CKR_OK(f3_->C_SignMessageBegin(session_, nullptr, 0));
  ASSERT_CKR_OK(f3_->C_SignMessageNext(session_, nullptr, 0, digest.data(), digest.size(), sig.data(), &len));
  EXPECT_TRUE(OsslVerify(pub.get(), CKM_ECDSA, digest, sig));
  ASSERT_CKR_OK(f3_->C_SignMessageBegin(session_, nullptr, 0));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED,
             f3_->C_SignMessageNext(session_, nullptr, 0, digest.data(), 16, nullptr, nullptr));
  CK_RV rv = CKR_GENERAL_ERROR;
  EXPECT_FALSE(SignMessage(digest, &rv).empty()) << "the refused part ended its message, not the context";
  EXPECT_CKR_OK(rv);
  EXPECT_CKR_OK(f3_->C_MessageSignFinal(session_));
  EXPECT_CKR_OK(f3_->C_MessageVerifyFinal(session_));
}

// A key with CKA_ALWAYS_AUTHENTICATE: each message is one use of the key and needs
// its own context-specific login.
TEST_F(MessageSignTest, EachMessageWithAnAlwaysAuthenticateKeyNeedsAContextLogin) {
  KeyOptions o;
  o.always_authenticate = true;
  KeyPair kp = GenerateEc(f_, session_, "P-256", o);
  ASSERT_CKR_OK(kp.rv);
  Pkey pub = PublicKeyFromObject(f_, session_, kp.pub);
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &m, kp.priv));
  const Bytes digest = OsslDigest("SHA256", msg1_);
  for (int message = 0; message < 2; ++message) {
    SCOPED_TRACE(message);
    CK_RV rv = CKR_GENERAL_ERROR;
    SignMessage(digest, &rv);
    EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, rv);
    ASSERT_CKR_OK(Login(session_, CKU_CONTEXT_SPECIFIC, kUserPin));
    Bytes sig = SignMessage(digest, &rv);
    ASSERT_CKR_OK(rv);
    EXPECT_TRUE(OsslVerify(pub.get(), CKM_ECDSA, digest, sig));
  }
  EXPECT_CKR_OK(f3_->C_MessageSignFinal(session_));
}

TEST_F(MessageSignTest, InitChecksTheKeyAndTheMechanism) {
  CK_MECHANISM cbc{CKM_AES_CBC, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_MessageSignInit(session_, &cbc, hmac_));
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f3_->C_MessageSignInit(session_, &ecdsa, ec_.pub)) << "a public key";
  SecretKey no_sign = ImportGenericSecret(f_, session_, key_, KeyOptions{.sign = false});
  ASSERT_CKR_OK(no_sign.rv);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f3_->C_MessageSignInit(session_, &hmac_mech_, no_sign.handle));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f3_->C_MessageVerifyInit(session_, &hmac_mech_, no_sign.handle));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f3_->C_MessageSignInit(session_, nullptr, hmac_));
}

TEST_F(MessageSignTest, InfoFlagsMatchTheSignatureFlags) {
  CK_MECHANISM_INFO info{};
  for (CK_MECHANISM_TYPE m : {CKM_SHA256_HMAC, CKM_ECDSA, CKM_SHA256_RSA_PKCS_PSS, CKM_EDDSA, CKM_AES_CMAC}) {
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info));
    EXPECT_EQ(info.flags & (CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY), CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY)
        << "mechanism 0x" << std::hex << m;
  }
  for (CK_MECHANISM_TYPE m : {CKM_AES_GCM, CKM_SHA256, CKM_RSA_PKCS_OAEP}) {
    ASSERT_CKR_OK(f_->C_GetMechanismInfo(slot_, m, &info));
    EXPECT_EQ(info.flags & (CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY), 0u) << "mechanism 0x" << std::hex << m;
  }
}

TEST_F(MessageSignTest, LogoutEndsTheContext) {
  ASSERT_CKR_OK(f3_->C_MessageSignInit(session_, &hmac_mech_, hmac_));
  ASSERT_CKR_OK(f3_->C_MessageVerifyInit(session_, &hmac_mech_, hmac_));
  ASSERT_CKR_OK(f_->C_Logout(session_));
  CK_RV rv = CKR_GENERAL_ERROR;
  SignMessage(msg1_, &rv);
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, rv) << "the logout ended it";
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, VerifyMessage(msg1_, Bytes(32)));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageSignFinal(session_));
}

}  // namespace
}  // namespace ferrohsm::abi
