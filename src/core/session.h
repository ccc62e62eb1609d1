// A session: its slot and token, R/O or R/W, and the operations in progress — at
// most one of each kind, as PKCS#11 allows — under the session's own lock. Nothing
// here takes a process-wide lock.
#pragma once

#include "core/mech/kept_mechanism.h"
#include "core/op_kind.h"
#include "core/mech/message_aead.h"
#include "core/mech/operation.h"
#include "core/object.h"
#include "core/token.h"

#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ferrohsm {

// Which form of an operation the caller chose (PKCS#11 3.0 §5.2): the single-part
// call (C_Encrypt, C_Sign …) once it was made — a length query or
// CKR_BUFFER_TOO_SMALL leaves it in progress — or the multi-part calls once an update
// (or the final call) was made. A call of the other form then answers
// CKR_OPERATION_ACTIVE and changes nothing.
enum class Form { kUndecided, kSinglePart, kMultiPart };

inline Status admit(Form current, Form call) {
  if (current != Form::kUndecided && current != call)
    return make_error(CKR_OPERATION_ACTIVE, call == Form::kSinglePart
                                                ? "a multi-part operation is in progress: finish it with the Final call"
                                                : "a single-part operation is in progress: finish it with the same call");
  return {};
}

// A finished operation kept by the session for the next *Init of its kind on the same
// key object and mechanism type, which re-arms it (operation.h) instead of making a
// new one: no allocation, no new OpenSSL context, no second look at the key's
// attributes (the Object is immutable; a change replaces it and retires this one, so
// the handle then misses). It belongs to this session alone and is guarded by its mutex. It holds the
// key object: dropped when that object is destroyed or changed through this process
// (Hsm::drop_spares_of), at logout and at close, and replaced by the next miss.
template <class Op>
struct SpareOp {
  // Re-arms running on one thread other than the operation's home (mech::Operation)
  // after which the next *Init makes the operation anew there (see here_to_stay).
  static constexpr unsigned kSettle = 2;

  std::unique_ptr<Op> op;
  ObjectPtr key;  // null for digests
  CK_MECHANISM_TYPE mechanism = 0;
  bool always_authenticate = false;
  std::thread::id away;  // the last thread other than the operation's home to re-arm it
  unsigned away_runs = 0;

  // Whether the kept operation was made on the object with handle `h` and for `m`
  // (whether that object is still current is the token's to say: Token::still_current).
  bool fits(CK_OBJECT_HANDLE h, CK_MECHANISM_TYPE m) const {
    return op && key && key->handle() == h && mechanism == m;
  }
  // The kept operation when it fits `key` and `mechanism` (taken out), else null.
  std::unique_ptr<Op> take(const Object* k, CK_MECHANISM_TYPE m) {
    if (!op || key.get() != k || mechanism != m) return nullptr;
    return std::move(op);
  }
  // Whether the kept operation should serve this thread (the caller checked that it
  // fits). Its OpenSSL contexts lie in the heap of the thread that made it, next to
  // what that thread allocated after: often another session's operation, when a
  // program opens and first uses its sessions on one thread and then hands each to a
  // worker. Two workers then write one cache line at every call, which halved HMAC
  // and AES-CBC on 64 bytes at two threads. So once the session has settled on
  // another thread (kSettle re-arms running there), the caller makes a new operation
  // on this thread, which replaces this one when it finishes; a session that hops
  // between threads keeps re-arming. The old one is freed only after the new one was
  // made: freed first, its memory would be what the new one is made of (malloc hands
  // the freeing thread the chunks it just freed).
  bool here_to_stay() {
    const std::thread::id me = std::this_thread::get_id();
    if (me == op->home()) {
      away_runs = 0;
      return true;
    }
    if (me != away) {
      away = me;
      away_runs = 0;
    }
    if (++away_runs <= kSettle) return true;
    away_runs = 0;
    return false;
  }
  void clear() {
    op.reset();
    key.reset();
  }
};

struct FindState {
  std::vector<CK_OBJECT_HANDLE> handles;
  size_t pos = 0;
};

// `spare`, when set, is where the operation goes when it finishes well (op_steps.cc),
// with `mechanism` its type: the session's SpareOp of that kind.
struct SignState {
  std::unique_ptr<mech::SignOp> op;
  ObjectPtr key;
  bool needs_context_login = false;
  Form form = Form::kUndecided;
  SpareOp<mech::SignOp>* spare = nullptr;
  CK_MECHANISM_TYPE mechanism = 0;
  bool always_authenticate = false;  // the key's CKA_ALWAYS_AUTHENTICATE, for the spare
};

struct VerifyState {
  std::unique_ptr<mech::VerifyOp> op;
  ObjectPtr key;
  Form form = Form::kUndecided;
  SpareOp<mech::VerifyOp>* spare = nullptr;
  CK_MECHANISM_TYPE mechanism = 0;
};

struct CipherState {
  std::unique_ptr<mech::CipherOp> op;
  ObjectPtr key;
  bool needs_context_login = false;
  Form form = Form::kUndecided;
  // Output computed for a call whose buffer was too small; handed out on the retry.
  std::optional<SecureBytes> pending;
  SpareOp<mech::CipherOp>* spare = nullptr;
  CK_MECHANISM_TYPE mechanism = 0;
  bool always_authenticate = false;  // the key's CKA_ALWAYS_AUTHENTICATE, for the spare
};

struct DigestState {
  std::unique_ptr<mech::DigestOp> op;
  Form form = Form::kUndecided;
  // For C_GetOperationState (hsm_state.cc): the mechanism and the input so far, kept
  // while it is short and public. A digested key or a long input makes it unsaveable.
  static constexpr size_t kMaxSavedInput = 64 * 1024;
  CK_MECHANISM_TYPE mechanism = CKM_SHA256;
  bool saveable = true;
  SecureBytes input;
  SpareOp<mech::DigestOp>* spare = nullptr;

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
  CK_MECHANISM_TYPE mechanism = 0;  // what lays out the per-message parameters
};

// A message-based signature or verification context (C_MessageSignInit …): the
// mechanism and key it was started with, and the message in progress — a SignState
// or VerifyState of its own, driven by the same steps as C_Sign / C_Verify.
template <class State>
struct MessageSigContext {
  mech::KeptMechanism mechanism;
  ObjectPtr key;
  bool always_authenticate = false;  // each message needs a context-specific login
  std::optional<State> message;
  bool begun = false;  // the message was started with C_*MessageBegin
};
using MessageSignState = MessageSigContext<SignState>;
using MessageVerifyState = MessageSigContext<VerifyState>;

// Cache-line aligned: threads working on sessions allocated side by side would
// otherwise write lines the other reads (one's operation states, the next one's
// mutex and reference count), which halved HMAC-SHA-256 64 B on two threads.
class alignas(64) Session {
 public:
  Session(CK_SESSION_HANDLE h, std::shared_ptr<Token> token, CK_FLAGS flags)
      : handle_(h), token_(std::move(token)), flags_(flags) {}

  CK_SESSION_HANDLE handle() const { return handle_; }
  const std::shared_ptr<Token>& token() const { return token_; }
  CK_SLOT_ID slot_id() const { return token_->slot_id(); }
  bool rw() const { return (flags_ & CKF_RW_SESSION) != 0; }
  CK_FLAGS flags() const { return flags_; }

  // Calls f(kind, state) for every kind of kOpKinds with its state; the caller holds mu.
  template <class F>
  void for_each_operation(F&& f) {
    f(OpKind::Find, find);
    f(OpKind::Sign, sign);
    f(OpKind::Verify, verify);
    f(OpKind::Encrypt, encrypt);
    f(OpKind::Decrypt, decrypt);
    f(OpKind::Digest, digest);
    f(OpKind::SignRecover, sign_recover);
    f(OpKind::VerifyRecover, verify_recover);
    f(OpKind::MessageEncrypt, message_encrypt);
    f(OpKind::MessageDecrypt, message_decrypt);
    f(OpKind::MessageSign, message_sign);
    f(OpKind::MessageVerify, message_verify);
  }

  // Calls f(spare) for every kept operation (SpareOp); the caller holds mu.
  template <class F>
  void for_each_spare(F&& f) {
    f(spare_sign);
    f(spare_verify);
    f(spare_encrypt);
    f(spare_decrypt);
    f(spare_digest);
  }

  // Ends every operation (close, finalize): keys they hold are released.
  void reset_operations() {
    std::lock_guard<std::mutex> lock(mu);
    for_each_operation([](OpKind, auto& state) { state.reset(); });
    for_each_spare([](auto& spare) { spare.clear(); });
    ended_by_logout_ = 0;
  }

  // Forgets the kept operations on `key` (destroyed or replaced).
  void drop_spares_of(const Object* key) {
    std::lock_guard<std::mutex> lock(mu);
    for_each_spare([key](auto& spare) {
      if (spare.key.get() == key) spare.clear();
    });
  }

  // Ends one operation; the caller holds mu.
  void end(OpKind kind) {
    for_each_operation([kind](OpKind k, auto& state) {
      if (k == kind) state.reset();
    });
  }

  // C_Logout ends the operations that hold a key or object handles (digests need
  // neither and stay). The next call of an ended kind answers CKR_USER_NOT_LOGGED_IN,
  // which tells a client to log in and start again, rather than
  // CKR_OPERATION_NOT_INITIALIZED, which would blame the caller.
  void end_operations_at_logout() {
    std::lock_guard<std::mutex> lock(mu);
    for_each_operation([this](OpKind k, auto& state) {
      if (k == OpKind::Digest || !state) return;
      state.reset();
      ended_by_logout_ |= bit(k);
    });
    for_each_spare([](auto& spare) { spare.clear(); });
  }

  // Whether an operation that holds a key is in progress; the caller holds mu.
  bool keyed_operation_active() {
    bool any = false;
    for_each_operation([&any](OpKind k, const auto& state) { any |= op_kind_info(k).holds_key && state.has_value(); });
    return any;
  }

  // The flag a context-specific login (CKU_CONTEXT_SPECIFIC) clears: the first
  // operation that waits for one, or nullptr; the caller holds mu.
  bool* context_login_flag() {
    if (sign && sign->needs_context_login) return &sign->needs_context_login;
    if (decrypt && decrypt->needs_context_login) return &decrypt->needs_context_login;
    if (sign_recover && sign_recover->needs_context_login) return &sign_recover->needs_context_login;
    if (message_sign && message_sign->message && message_sign->message->needs_context_login)
      return &message_sign->message->needs_context_login;
    return nullptr;
  }

  // The answer for a call whose operation is not active; the caller holds mu.
  Error not_active(OpKind kind, const char* why) {
    if ((ended_by_logout_ & bit(kind)) != 0) {
      ended_by_logout_ &= ~bit(kind);
      return make_error(CKR_USER_NOT_LOGGED_IN, "the operation ended when the token was logged out");
    }
    return make_error(CKR_OPERATION_NOT_INITIALIZED, why);
  }

  // A new operation of this kind starts; the caller holds mu.
  void started(OpKind kind) { ended_by_logout_ &= ~bit(kind); }

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
  std::optional<MessageSignState> message_sign;
  std::optional<MessageVerifyState> message_verify;
  SpareOp<mech::SignOp> spare_sign;
  SpareOp<mech::VerifyOp> spare_verify;
  SpareOp<mech::CipherOp> spare_encrypt;
  SpareOp<mech::CipherOp> spare_decrypt;
  SpareOp<mech::DigestOp> spare_digest;

 private:
  static constexpr unsigned bit(OpKind k) { return 1u << static_cast<unsigned>(k); }

  unsigned ended_by_logout_ = 0;  // guarded by mu
  const CK_SESSION_HANDLE handle_;
  const std::shared_ptr<Token> token_;
  const CK_FLAGS flags_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace ferrohsm
