// Operation state rules (PKCS#11 3.0 §5.2 and §5.13): length queries, short buffers,
// init while active, single- vs multi-part, failures ending the operation, and a key
// destroyed during an active operation.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class OperationStateTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    ec_ = GenerateEc(f_, session_, "P-256");
    ASSERT_CKR_OK(ec_.rv);
    SecretKey k = ImportGenericSecret(f_, session_, Bytes(32, 0x4D));
    ASSERT_CKR_OK(k.rv);
    hmac_ = k.handle;
  }
  CK_RV SignInit() { return f_->C_SignInit(session_, &mech_, ec_.priv); }
  CK_RV Sign(CK_BYTE* out, CK_ULONG* len) {
    return f_->C_Sign(session_, digest_.data(), digest_.size(), out, len);
  }
  KeyPair ec_;
  CK_MECHANISM mech_{CKM_ECDSA, nullptr, 0};
  // A multi-part mechanism every flavor offers (HMAC over a generic secret).
  CK_MECHANISM sha_mech_{CKM_SHA256_HMAC, nullptr, 0};
  CK_OBJECT_HANDLE hmac_ = CK_INVALID_HANDLE;
  CK_MECHANISM sha_digest_{CKM_SHA256, nullptr, 0};
  Bytes digest_ = OsslDigest("SHA256", AsBytes("operation state"));
};

TEST_F(OperationStateTest, NullOutputReportsSizeAndKeepsTheOperation) {
  ASSERT_CKR_OK(SignInit());
  CK_ULONG len = 0;
  ASSERT_CKR_OK(Sign(nullptr, &len));
  EXPECT_EQ(len, 64u);
  Bytes sig(len);
  EXPECT_CKR_OK(Sign(sig.data(), &len)) << "the length query must not end the operation";
  EXPECT_EQ(len, 64u);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Sign(sig.data(), &len)) << "C_Sign ends it";
}

TEST_F(OperationStateTest, ShortBufferReportsSizeAndKeepsTheOperation) {
  ASSERT_CKR_OK(SignInit());
  Bytes sig(64);
  CK_ULONG len = 10;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, Sign(sig.data(), &len));
  EXPECT_EQ(len, 64u);
  len = sig.size();
  EXPECT_CKR_OK(Sign(sig.data(), &len));
}

TEST_F(OperationStateTest, InitWhileActiveIsOperationActive) {
  ASSERT_CKR_OK(SignInit());
  EXPECT_CKR(CKR_OPERATION_ACTIVE, SignInit());
  Bytes sig(64);
  CK_ULONG len = sig.size();
  EXPECT_CKR_OK(Sign(sig.data(), &len)) << "the first operation is still usable";
  ASSERT_CKR_OK(f_->C_FindObjectsInit(session_, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_FindObjectsInit(session_, nullptr, 0));
  EXPECT_CKR_OK(f_->C_FindObjectsFinal(session_));
}

TEST_F(OperationStateTest, SinglePartAfterUpdateIsRejected) {
  // §5.13: C_Sign "cannot be used to terminate a multi-part operation". The spec names
  // no code; CKR_OPERATION_ACTIVE (a multi-part operation is active) is what we require.
  SKIP_IF_SOFTHSM("SoftHSMv2 answers CKR_OPERATION_NOT_INITIALIZED");
  ASSERT_CKR_OK(f_->C_SignInit(session_, &sha_mech_, hmac_));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, digest_.data(), digest_.size()));
  Bytes sig(64);
  CK_ULONG len = sig.size();
  EXPECT_CKR(CKR_OPERATION_ACTIVE, Sign(sig.data(), &len));
}

TEST_F(OperationStateTest, FailureEndsTheOperation) {
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &mech_, ec_.pub));
  Bytes bad(64, 0x01);
  EXPECT_CKR(CKR_SIGNATURE_INVALID,
             f_->C_Verify(session_, digest_.data(), digest_.size(), bad.data(), bad.size()));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_Verify(session_, digest_.data(), digest_.size(), bad.data(), bad.size()));
}

TEST_F(OperationStateTest, ArgumentsBadEndsTheOperation) {
  SKIP_IF_SOFTHSM("SoftHSMv2 keeps the operation after CKR_ARGUMENTS_BAD");
  // §5.13: any C_Sign result but CKR_BUFFER_TOO_SMALL or a length query ends signing.
  ASSERT_CKR_OK(SignInit());
  EXPECT_CKR(CKR_ARGUMENTS_BAD, Sign(nullptr, nullptr));
  CK_ULONG len = 64;
  Bytes sig(64);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Sign(sig.data(), &len));
  EXPECT_CKR_OK(SignInit()) << "a new operation can start";
}

TEST_F(OperationStateTest, CallsWithoutInitAreOperationNotInitialized) {
  Bytes buf(64);
  CK_ULONG len = buf.size();
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Sign(buf.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignUpdate(session_, buf.data(), 4));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignFinal(session_, buf.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Verify(session_, buf.data(), 4, buf.data(), 64));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_VerifyFinal(session_, buf.data(), 64));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Encrypt(session_, buf.data(), 16, buf.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Decrypt(session_, buf.data(), 16, buf.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Digest(session_, buf.data(), 4, buf.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_DigestFinal(session_, buf.data(), &len));
}

TEST_F(OperationStateTest, OperationsArePerSession) {
  CK_SESSION_HANDLE other = Open(slot_);
  ASSERT_CKR_OK(SignInit());
  EXPECT_CKR_OK(f_->C_SignInit(other, &mech_, ec_.priv)) << "another session is independent";
  Bytes sig(64);
  CK_ULONG len = sig.size();
  EXPECT_CKR_OK(f_->C_Sign(other, digest_.data(), digest_.size(), sig.data(), &len));
  len = sig.size();
  EXPECT_CKR_OK(Sign(sig.data(), &len));
}

// The spec leaves this open; FerroHSM's contract (brief) is CKR_KEY_HANDLE_INVALID
// and no crash. SoftHSMv2 keeps signing with its copy of the key.
TEST_F(OperationStateTest, KeyDestroyedDuringSinglePartOperation) {
  SKIP_IF_SOFTHSM("SoftHSMv2 finishes the operation with the destroyed key");
  ASSERT_CKR_OK(SignInit());
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, ec_.priv));
  Bytes sig(64);
  CK_ULONG len = sig.size();
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, Sign(sig.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, Sign(sig.data(), &len)) << "the failure ended it";
}

TEST_F(OperationStateTest, KeyDestroyedDuringMultiPartOperation) {
  SKIP_IF_SOFTHSM("SoftHSMv2 finishes the operation with the destroyed key");
  ASSERT_CKR_OK(f_->C_SignInit(session_, &sha_mech_, hmac_));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, digest_.data(), digest_.size()));
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, hmac_));
  Bytes sig(64);
  CK_ULONG len = sig.size();
  CK_RV rv = f_->C_SignUpdate(session_, digest_.data(), digest_.size());
  if (rv == CKR_OK) rv = f_->C_SignFinal(session_, sig.data(), &len);
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, rv);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignFinal(session_, sig.data(), &len));
}

TEST_F(OperationStateTest, ClosingASessionWithAnActiveOperationIsClean) {
  CK_SESSION_HANDLE other = Open(slot_);
  ASSERT_CKR_OK(f_->C_SignInit(other, &mech_, ec_.priv));
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha_digest_));
  EXPECT_CKR_OK(f_->C_CloseSession(other));
  EXPECT_CKR_OK(f_->C_DigestUpdate(session_, digest_.data(), digest_.size()));
}

// C_GetOperationState / C_SetOperationState (§5.6): a digest saved in one session
// continues in another and gives the digest of the whole input.
TEST_F(OperationStateTest, DigestStateMovesToAnotherSession) {
  SKIP_IF_SOFTHSM("SoftHSMv2 does not save operation state");
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha_digest_));
  Bytes first = AsBytes("the first half, ");
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, first.data(), first.size()));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, nullptr, &len));
  Bytes state(len);
  CK_ULONG short_len = 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetOperationState(session_, state.data(), &short_len));
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, state.data(), &len));
  state.resize(len);

  CK_SESSION_HANDLE other = Open(slot_, false);
  ASSERT_CKR_OK(f_->C_SetOperationState(other, state.data(), state.size(), CK_INVALID_HANDLE, CK_INVALID_HANDLE));
  Bytes second = AsBytes("and the second half");
  Bytes out(32);
  for (CK_SESSION_HANDLE s : {session_, other}) {
    ASSERT_CKR_OK(f_->C_DigestUpdate(s, second.data(), second.size()));
    CK_ULONG n = out.size();
    ASSERT_CKR_OK(f_->C_DigestFinal(s, out.data(), &n));
    Bytes whole = first;
    whole.insert(whole.end(), second.begin(), second.end());
    EXPECT_EQ(out, OsslDigest("SHA256", whole));
  }
}

TEST_F(OperationStateTest, KeyedOrMissingOperationsCannotBeSaved) {
  SKIP_IF_SOFTHSM("SoftHSMv2 does not save operation state");
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_GetOperationState(session_, nullptr, &len));
  ASSERT_CKR_OK(SignInit());
  EXPECT_CKR(CKR_STATE_UNSAVEABLE, f_->C_GetOperationState(session_, nullptr, &len));
  ASSERT_CKR_OK(GetModule().fl3->C_SessionCancel(session_, CKF_SIGN));
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha_digest_));
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, nullptr, &len)) << "a fresh digest can be saved";
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Bytes(CKA_VALUE, Bytes(16, 7));
  t.Bool(CKA_TOKEN, false).Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &key));
  ASSERT_CKR_OK(f_->C_DigestKey(session_, key));
  EXPECT_CKR(CKR_STATE_UNSAVEABLE, f_->C_GetOperationState(session_, nullptr, &len)) << "it would hold key bytes";
}

// The saved state is the session's whole operation state (§5.6): restoring a digest
// ends a signature that was active, and the session then saves exactly what it took.
// Found by fuzz/op_state_fuzzer.cc: the signature stayed, and C_GetOperationState
// answered CKR_STATE_UNSAVEABLE for the state C_SetOperationState had just accepted.
TEST_F(OperationStateTest, RestoringReplacesTheSessionsOperations) {
  SKIP_IF_SOFTHSM("SoftHSMv2 does not save operation state");
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha_digest_));
  Bytes part = AsBytes("saved");
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, part.data(), part.size()));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, nullptr, &len));
  Bytes state(len);
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, state.data(), &len));
  state.resize(len);

  CK_SESSION_HANDLE other = Open(slot_);
  ASSERT_CKR_OK(f_->C_SignInit(other, &sha_mech_, hmac_));
  ASSERT_CKR_OK(f_->C_SetOperationState(other, state.data(), state.size(), CK_INVALID_HANDLE, CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignUpdate(other, part.data(), part.size()))
      << "the signature is not part of the restored state";
  CK_ULONG again_len = 0;
  ASSERT_CKR_OK(f_->C_GetOperationState(other, nullptr, &again_len));
  Bytes again(again_len);
  ASSERT_CKR_OK(f_->C_GetOperationState(other, again.data(), &again_len));
  again.resize(again_len);
  EXPECT_EQ(again, state);
  Bytes out(32);
  CK_ULONG n = out.size();
  ASSERT_CKR_OK(f_->C_DigestFinal(other, out.data(), &n));
  EXPECT_EQ(out, OsslDigest("SHA256", part));
}

TEST_F(OperationStateTest, MalformedStatesAreRefused) {
  SKIP_IF_SOFTHSM("SoftHSMv2 does not save operation state");
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha_digest_));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, nullptr, &len));
  Bytes state(len);
  ASSERT_CKR_OK(f_->C_GetOperationState(session_, state.data(), &len));
  Bytes junk = AsBytes("not a state at all, just bytes");
  EXPECT_CKR(CKR_SAVED_STATE_INVALID,
             f_->C_SetOperationState(session_, junk.data(), junk.size(), CK_INVALID_HANDLE, CK_INVALID_HANDLE));
  Bytes cut(state.begin(), state.end() - 1);
  EXPECT_CKR(CKR_SAVED_STATE_INVALID,
             f_->C_SetOperationState(session_, cut.data(), cut.size(), CK_INVALID_HANDLE, CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_KEY_NOT_NEEDED, f_->C_SetOperationState(session_, state.data(), state.size(), hmac_, CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SetOperationState(session_, nullptr, 4, CK_INVALID_HANDLE, CK_INVALID_HANDLE));
}

}  // namespace
}  // namespace ferrohsm::abi
