// A session: its slot and token, R/O or R/W, and the operations in progress — at
// most one of each kind, as PKCS#11 allows — under the session's own lock. Nothing
// here takes a process-wide lock.
#pragma once

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

  // Ends every operation (logout, close): keys they hold are released.
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
  }

  std::mutex mu;  // guards the operation states below
  std::optional<FindState> find;
  std::optional<SignState> sign;
  std::optional<VerifyState> verify;
  std::optional<CipherState> encrypt;
  std::optional<CipherState> decrypt;
  std::optional<DigestState> digest;
  std::optional<CipherState> sign_recover;
  std::optional<CipherState> verify_recover;

 private:
  const CK_SESSION_HANDLE handle_;
  const std::shared_ptr<Token> token_;
  const CK_FLAGS flags_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace ferrohsm
