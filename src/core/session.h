// A session: its slot and token, R/O or R/W, and the operations in progress — at
// most one of each kind, as PKCS#11 allows — under the session's own lock. Nothing
// here takes a process-wide lock.
#pragma once

#include "core/mech/message_aead.h"
#include "core/mech/operation.h"
#include "core/object.h"
#include "core/token.h"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace ferrohsm {

struct FindState {
  std::vector<CK_OBJECT_HANDLE> handles;
  size_t pos = 0;
};

struct SignState {
  std::unique_ptr<mech::SignOp> op;
  ObjectPtr key;
  bool updated = false;
  bool needs_context_login = false;
};

struct VerifyState {
  std::unique_ptr<mech::VerifyOp> op;
  ObjectPtr key;
  bool updated = false;
};

struct CipherState {
  std::unique_ptr<mech::CipherOp> op;
  ObjectPtr key;
  bool updated = false;
  bool needs_context_login = false;
  // Output computed for a call whose buffer was too small; handed out on the retry.
  std::optional<SecureBytes> pending;
};

struct DigestState {
  std::unique_ptr<mech::DigestOp> op;
  bool updated = false;
  // For C_GetOperationState (hsm_state.cc): the mechanism and the input so far, kept
  // while it is short and public. A digested key or a long input makes it unsaveable.
  static constexpr size_t kMaxSavedInput = 64 * 1024;
  CK_MECHANISM_TYPE mechanism = CKM_SHA256;
  bool saveable = true;
  SecureBytes input;

  void keep_for_saving(ByteView data) {
    if (!saveable) return;
    if (input.size() + data.size() > kMaxSavedInput) {
      saveable = false;
      input = SecureBytes();
      return;
    }
    input.insert(input.end(), data.begin(), data.end());
  }
};

// A message-based encryption or decryption context (C_MessageEncryptInit …).
struct MessageState {
  std::unique_ptr<mech::MessageAead> op;
  ObjectPtr key;
  bool in_message = false;  // C_*MessageBegin was called and the last part not yet sent
};

class Session {
 public:
  Session(CK_SESSION_HANDLE h, std::shared_ptr<Token> token, CK_FLAGS flags)
      : handle_(h), token_(std::move(token)), flags_(flags) {}

  CK_SESSION_HANDLE handle() const { return handle_; }
  const std::shared_ptr<Token>& token() const { return token_; }
  CK_SLOT_ID slot_id() const { return token_->slot_id(); }
  bool rw() const { return (flags_ & CKF_RW_SESSION) != 0; }
  CK_FLAGS flags() const { return flags_; }

  // One bit per operation kind, to remember which ones a logout ended.
  enum Op : unsigned {
    kFind = 1u << 0,
    kSign = 1u << 1,
    kVerify = 1u << 2,
    kEncrypt = 1u << 3,
    kDecrypt = 1u << 4,
    kSignRecover = 1u << 5,
    kVerifyRecover = 1u << 6,
    kMessageEncrypt = 1u << 7,
    kMessageDecrypt = 1u << 8,
  };

  // Ends every operation (close, finalize): keys they hold are released.
  void reset_operations() {
    std::lock_guard<std::mutex> lock(mu);
    find.reset();
    sign.reset();
    verify.reset();
    encrypt.reset();
    decrypt.reset();
    digest.reset();
    sign_recover.reset();
    verify_recover.reset();
    message_encrypt.reset();
    message_decrypt.reset();
    ended_by_logout_ = 0;
  }

  // C_Logout ends the operations that hold a key or object handles (digests need
  // neither and stay). The next call of an ended kind answers CKR_USER_NOT_LOGGED_IN,
  // which tells a client to log in and start again, rather than
  // CKR_OPERATION_NOT_INITIALIZED, which would blame the caller.
  void end_operations_at_logout() {
    std::lock_guard<std::mutex> lock(mu);
    unsigned ended = 0;
    ended |= take(find, kFind) | take(sign, kSign) | take(verify, kVerify);
    ended |= take(encrypt, kEncrypt) | take(decrypt, kDecrypt);
    ended |= take(sign_recover, kSignRecover) | take(verify_recover, kVerifyRecover);
    ended |= take(message_encrypt, kMessageEncrypt) | take(message_decrypt, kMessageDecrypt);
    ended_by_logout_ |= ended;
  }

  // The answer for a call whose operation is not active; the caller holds mu.
  Error not_active(Op op, const char* why) {
    if ((ended_by_logout_ & op) != 0) {
      ended_by_logout_ &= ~static_cast<unsigned>(op);
      return make_error(CKR_USER_NOT_LOGGED_IN, "the operation ended when the token was logged out");
    }
    return make_error(CKR_OPERATION_NOT_INITIALIZED, why);
  }

  // A new operation of this kind starts; the caller holds mu.
  void started(Op op) { ended_by_logout_ &= ~static_cast<unsigned>(op); }

  std::mutex mu;  // guards the operation states below
  std::optional<FindState> find;
  std::optional<SignState> sign;
  std::optional<VerifyState> verify;
  std::optional<CipherState> encrypt;
  std::optional<CipherState> decrypt;
  std::optional<DigestState> digest;
  std::optional<CipherState> sign_recover;
  std::optional<CipherState> verify_recover;
  std::optional<MessageState> message_encrypt;
  std::optional<MessageState> message_decrypt;

 private:
  template <class T>
  static unsigned take(std::optional<T>& state, Op op) {
    if (!state) return 0;
    state.reset();
    return op;
  }

  unsigned ended_by_logout_ = 0;  // guarded by mu
  const CK_SESSION_HANDLE handle_;
  const std::shared_ptr<Token> token_;
  const CK_FLAGS flags_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace ferrohsm
