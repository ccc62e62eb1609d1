// The kinds of operation a PKCS#11 session can have in progress, in one table: what
// C_SessionCancel calls each kind and whether it holds a key. Shared by the slot backend
// port (core/backend.h) and the keystore's sessions (core/session.h).
#pragma once

#include <ferrohsm/cryptoki.h>

#include <iterator>

namespace ferrohsm {

// The kinds of operation a session can have in progress. kOpKinds below is the
// table of what each kind means; Session::for_each_operation pairs each with its state.
enum class OpKind : unsigned {
  Find,
  Sign,
  Verify,
  Encrypt,
  Decrypt,
  Digest,
  SignRecover,
  VerifyRecover,
  MessageEncrypt,
  MessageDecrypt,
  MessageSign,
  MessageVerify,
};

struct OpKindInfo {
  OpKind kind;
  CK_FLAGS cancel_flag;  // how C_SessionCancel names it
  bool holds_key;        // C_GetOperationState cannot save it (C_Logout ends every kind but digests)
};

inline constexpr OpKindInfo kOpKinds[] = {
    {OpKind::Find, CKF_FIND_OBJECTS, false},
    {OpKind::Sign, CKF_SIGN, true},
    {OpKind::Verify, CKF_VERIFY, true},
    {OpKind::Encrypt, CKF_ENCRYPT, true},
    {OpKind::Decrypt, CKF_DECRYPT, true},
    {OpKind::Digest, CKF_DIGEST, false},
    {OpKind::SignRecover, CKF_SIGN_RECOVER, true},
    {OpKind::VerifyRecover, CKF_VERIFY_RECOVER, true},
    {OpKind::MessageEncrypt, CKF_MESSAGE_ENCRYPT, true},
    {OpKind::MessageDecrypt, CKF_MESSAGE_DECRYPT, true},
    {OpKind::MessageSign, CKF_MESSAGE_SIGN, true},
    {OpKind::MessageVerify, CKF_MESSAGE_VERIFY, true},
};

constexpr bool op_kinds_in_order() {
  for (unsigned i = 0; i < std::size(kOpKinds); ++i)
    if (static_cast<unsigned>(kOpKinds[i].kind) != i) return false;
  return true;
}
static_assert(op_kinds_in_order(), "kOpKinds lists the kinds in OpKind order");

constexpr const OpKindInfo& op_kind_info(OpKind k) { return kOpKinds[static_cast<unsigned>(k)]; }


// The dual-function calls (C_DigestEncryptUpdate …) and the two operations each updates.
enum class DualKind { DigestEncrypt, DecryptDigest, SignEncrypt, DecryptVerify };
struct DualOps {
  OpKind cipher;
  OpKind other;
};
constexpr DualOps dual_ops(DualKind d) {
  switch (d) {
    case DualKind::DigestEncrypt: return {OpKind::Encrypt, OpKind::Digest};
    case DualKind::DecryptDigest: return {OpKind::Decrypt, OpKind::Digest};
    case DualKind::SignEncrypt: return {OpKind::Encrypt, OpKind::Sign};
    case DualKind::DecryptVerify: break;
  }
  return {OpKind::Decrypt, OpKind::Verify};
}

}  // namespace ferrohsm
