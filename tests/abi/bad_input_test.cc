// Bad input everywhere: invalid and stale session handles, NULL pointers, NULL data
// with a length, and the legacy parallel-function calls.
#include <functional>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class BadInputTest : public TokenTest {
 protected:
  // Every session-taking call, run against `s`; each must answer `want`.
  void ExpectEverySessionCall(CK_SESSION_HANDLE s, CK_RV want) {
    CK_SESSION_INFO info{};
    CK_BYTE buf[64] = {};
    CK_ULONG len = sizeof buf;
    CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
    CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
    CK_MECHANISM aes_gen{CKM_AES_KEY_GEN, nullptr, 0};
    Template t = DataObject("bad-session");
    CK_OBJECT_HANDLE h = 0, h2 = 0;
    CK_ATTRIBUTE attr{CKA_LABEL, nullptr, 0};
    const std::pair<const char*, std::function<CK_RV()>> calls[] = {
        {"C_GetSessionInfo", [&] { return f_->C_GetSessionInfo(s, &info); }},
        {"C_Login", [&] { return Login(s, CKU_USER, kUserPin); }},
        {"C_Logout", [&] { return f_->C_Logout(s); }},
        {"C_InitPIN", [&] { return f_->C_InitPIN(s, U8(kUserPin), 10); }},
        {"C_SetPIN", [&] { return f_->C_SetPIN(s, U8(kUserPin), 10, U8(kUserPin), 10); }},
        {"C_CreateObject", [&] { return f_->C_CreateObject(s, t.data(), t.size(), &h); }},
        {"C_CopyObject", [&] { return f_->C_CopyObject(s, object_, t.data(), t.size(), &h); }},
        {"C_DestroyObject", [&] { return f_->C_DestroyObject(s, object_); }},
        {"C_GetObjectSize", [&] { return f_->C_GetObjectSize(s, object_, &len); }},
        {"C_GetAttributeValue", [&] { return f_->C_GetAttributeValue(s, object_, &attr, 1); }},
        {"C_SetAttributeValue", [&] { return f_->C_SetAttributeValue(s, object_, t.data(), 1); }},
        {"C_FindObjectsInit", [&] { return f_->C_FindObjectsInit(s, nullptr, 0); }},
        {"C_FindObjects", [&] { return f_->C_FindObjects(s, &h, 1, &len); }},
        {"C_FindObjectsFinal", [&] { return f_->C_FindObjectsFinal(s); }},
        {"C_DigestInit", [&] { return f_->C_DigestInit(s, &sha); }},
        {"C_Digest", [&] { return f_->C_Digest(s, buf, 4, buf, &len); }},
        {"C_SignInit", [&] { return f_->C_SignInit(s, &ecdsa, key_.priv); }},
        {"C_Sign", [&] { return f_->C_Sign(s, buf, 32, buf, &len); }},
        {"C_VerifyInit", [&] { return f_->C_VerifyInit(s, &ecdsa, key_.pub); }},
        {"C_EncryptInit", [&] { return f_->C_EncryptInit(s, &ecdsa, key_.pub); }},
        {"C_DecryptInit", [&] { return f_->C_DecryptInit(s, &ecdsa, key_.priv); }},
        {"C_GenerateKey", [&] { return f_->C_GenerateKey(s, &aes_gen, nullptr, 0, &h); }},
        {"C_GenerateKeyPair",
         [&] { return f_->C_GenerateKeyPair(s, &ecdsa, nullptr, 0, nullptr, 0, &h, &h2); }},
        {"C_GenerateRandom", [&] { return f_->C_GenerateRandom(s, buf, 8); }},
        {"C_CloseSession", [&] { return f_->C_CloseSession(s); }},
    };
    for (const auto& [name, call] : calls) {
      len = sizeof buf;
      EXPECT_CKR(want, call()) << name;
    }
  }

  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    key_ = GenerateEc(f_, session_, "P-256");
    ASSERT_CKR_OK(key_.rv);
    Created c = CreateObject(f_, session_, DataObject("target", true));
    ASSERT_CKR_OK(c.rv);
    object_ = c.handle;
  }
  KeyPair key_;
  CK_OBJECT_HANDLE object_ = CK_INVALID_HANDLE;
};

TEST_F(BadInputTest, UnknownSessionHandleEverywhere) {
  ExpectEverySessionCall(0x7fff0004, CKR_SESSION_HANDLE_INVALID);
  ExpectEverySessionCall(CK_INVALID_HANDLE, CKR_SESSION_HANDLE_INVALID);
}

TEST_F(BadInputTest, ClosedSessionHandleEverywhere) {
  CK_SESSION_HANDLE stale = Open(slot_);
  ASSERT_CKR_OK(f_->C_CloseSession(stale));
  ExpectEverySessionCall(stale, CKR_SESSION_HANDLE_INVALID);
  EXPECT_CKR_OK(CreateObject(f_, session_, DataObject("still works")).rv);
}

TEST_F(BadInputTest, NullMechanismPointers) {
  CK_OBJECT_HANDLE h = 0, h2 = 0;
  Template t;
  t.Ulong(CKA_VALUE_LEN, 16);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SignInit(session_, nullptr, key_.priv));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_VerifyInit(session_, nullptr, key_.pub));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_EncryptInit(session_, nullptr, key_.pub));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DecryptInit(session_, nullptr, key_.priv));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DigestInit(session_, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKey(session_, nullptr, t.data(), t.size(), &h));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(session_, nullptr, nullptr, 0, nullptr, 0, &h, &h2));
}

TEST_F(BadInputTest, NullOutputHandles) {
  CK_MECHANISM aes{CKM_AES_KEY_GEN, nullptr, 0};
  Template t;
  t.Ulong(CKA_VALUE_LEN, 16);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKey(session_, &aes, t.data(), t.size(), nullptr));
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  Template pub;
  pub.Bytes(CKA_EC_PARAMS, CurveOid("P-256"));
  CK_OBJECT_HANDLE h = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(session_, &ec, pub.data(), pub.size(), nullptr, 0, &h, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(session_, &ec, pub.data(), pub.size(), nullptr, 0, nullptr, &h));
}

TEST_F(BadInputTest, NullDataWithALength) {
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
  CK_BYTE out[64];
  CK_ULONG len = sizeof out;
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Digest(session_, nullptr, 10, out, &len));
  CK_SESSION_HANDLE other = Open(slot_);  // fresh session: no leftover operation either way
  ASSERT_CKR_OK(f_->C_DigestInit(other, &sha));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DigestUpdate(other, nullptr, 10));
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  CK_SESSION_HANDLE signer = Open(slot_);
  ASSERT_CKR_OK(f_->C_SignInit(signer, &ecdsa, key_.priv));
  len = sizeof out;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Sign(signer, nullptr, 32, out, &len));
  CK_SESSION_HANDLE verifier = Open(slot_);
  ASSERT_CKR_OK(f_->C_VerifyInit(verifier, &ecdsa, key_.pub));
  CK_BYTE data[32] = {};
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Verify(verifier, data, sizeof data, nullptr, 64));
}

TEST_F(BadInputTest, NullOutputLengthPointers) {
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
  CK_BYTE data[4] = {};
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Digest(session_, data, 4, nullptr, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetObjectSize(session_, object_, nullptr));
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetMechanismList(slot_, nullptr, nullptr));
  (void)n;
}

TEST_F(BadInputTest, InvalidObjectHandles) {
  CK_ULONG size = 0;
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetObjectSize(session_, 0x7fff0005, &size));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_DestroyObject(session_, CK_INVALID_HANDLE));
  Template t;
  t.Str(CKA_LABEL, "x");
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, SetAttrs(f_, session_, 0x7fff0005, t));
  CK_OBJECT_HANDLE h = 0;
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_CopyObject(session_, 0x7fff0005, t.data(), 1, &h));
}

TEST_F(BadInputTest, LegacyParallelFunctions) {
  // §5.16: these always answer CKR_FUNCTION_NOT_PARALLEL.
  EXPECT_CKR(CKR_FUNCTION_NOT_PARALLEL, f_->C_GetFunctionStatus(session_));
  EXPECT_CKR(CKR_FUNCTION_NOT_PARALLEL, f_->C_CancelFunction(session_));
}

TEST_F(BadInputTest, WaitForSlotEventDoesNotBlock) {
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_FUNCTION_NOT_SUPPORTED");
  // The fixture's token was made after C_Initialize: one event for its slot, then none.
  CK_SLOT_ID slot = kNoSlot;
  EXPECT_CKR_OK(f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr));
  EXPECT_EQ(slot, slot_);
  EXPECT_CKR(CKR_NO_EVENT, f_->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr));
}

}  // namespace
}  // namespace ferrohsm::abi
