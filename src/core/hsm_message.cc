// Message-based encryption and decryption (PKCS#11 3.0 §5.13, §5.15): a context
// per session and direction that encrypts many messages under one key, each with
// its own parameter block. A failed message ends only that message, never the
// context; C_Message*Final ends the context.
#include "core/hsm.h"
#include "core/out_buf.h"

namespace ferrohsm {
namespace {

std::optional<MessageState>& state_of(Session& s, CipherDir d) {
  return d == CipherDir::Encrypt ? s.message_encrypt : s.message_decrypt;
}

OpKind op_of(CipherDir d) { return d == CipherDir::Encrypt ? OpKind::MessageEncrypt : OpKind::MessageDecrypt; }

const char* init_name(CipherDir d) {
  return d == CipherDir::Encrypt ? "C_MessageEncryptInit was not called" : "C_MessageDecryptInit was not called";
}

// The context, checked to be usable: not over a destroyed key.
Result<MessageState*> active(Session& s, CipherDir d) {
  auto& st = state_of(s, d);
  if (!st) return s.not_active(op_of(d), init_name(d));
  if (st->key->destroyed()) {
    st.reset();
    return make_error(CKR_KEY_HANDLE_INVALID, "the key was destroyed during the operation");
  }
  return &*st;
}

}  // namespace

Status Hsm::message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (state_of(*s, d)) return make_error(CKR_OPERATION_ACTIVE, "a message-based operation is already active");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  const bool enc = d == CipherDir::Encrypt;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, enc ? CKA_ENCRYPT : CKA_DECRYPT, obj, k));
  if ((e->info.flags & (enc ? CKF_MESSAGE_ENCRYPT : CKF_MESSAGE_DECRYPT)) == 0)
    return make_error(CKR_MECHANISM_INVALID, "the mechanism has no message-based form");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::MessageAead> op, mech::MessageAead::create(m.mechanism, std::move(k), enc));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& st = state_of(*s, d);
  if (st) return make_error(CKR_OPERATION_ACTIVE, "a message-based operation is already active");
  s->started(op_of(d));
  st = MessageState{std::move(op), std::move(obj), false, m.mechanism};
  return {};
}

Status Hsm::message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad, ByteView in,
                    OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  FH_ASSIGN_OR_RETURN(MessageState * st, active(*s, d));
  if (st->in_message) return make_error(CKR_OPERATION_ACTIVE, "a multi-part message is in progress");
  Status answer;
  if (!room_for(out, in.size(), answer)) return answer;  // nothing is generated for a length query
  FH_ASSIGN_OR_RETURN(size_t n, st->op->one_shot(param, param_len, aad, in, MutableByteView(out.data, in.size())));
  *out.len = n;
  return {};
}

Status Hsm::message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  FH_ASSIGN_OR_RETURN(MessageState * st, active(*s, d));
  if (st->in_message) return make_error(CKR_OPERATION_ACTIVE, "a multi-part message is in progress");
  if (!st->op->multipart())
    return make_error(CKR_MECHANISM_INVALID, "CCM messages are single-part here: use C_EncryptMessage/C_DecryptMessage");
  FH_TRY(st->op->begin(param, param_len, aad));
  st->in_message = true;
  return {};
}

Status Hsm::message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in, OutBuf out,
                         CK_FLAGS flags) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  FH_ASSIGN_OR_RETURN(MessageState * st, active(*s, d));
  if (!st->in_message) return make_error(CKR_OPERATION_NOT_INITIALIZED, "no message was begun");
  if ((flags & ~CKF_END_OF_MESSAGE) != 0) return make_error(CKR_ARGUMENTS_BAD, "unknown flags");
  const bool last = (flags & CKF_END_OF_MESSAGE) != 0;
  Status answer;
  if (!room_for(out, in.size(), answer)) return answer;
  auto n = st->op->next(param, param_len, in, MutableByteView(out.data, in.size()), last);
  if (last || !n.ok()) st->in_message = false;
  if (!n.ok()) {
    st->op->abort();
    return n.error();
  }
  *out.len = *n;
  return {};
}

Status Hsm::message_final(CipherDir d, CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& st = state_of(*s, d);
  if (!st) return s->not_active(op_of(d), init_name(d));
  st.reset();
  return {};
}

std::optional<CK_MECHANISM_TYPE> Hsm::message_mechanism(CK_SESSION_HANDLE h, CipherDir d) {
  SessionPtr s = sessions_.get(h);
  if (!s) return std::nullopt;
  std::lock_guard<std::mutex> lock(s->mu);
  auto& st = state_of(*s, d);
  if (!st) return std::nullopt;
  return st->mechanism;
}

}  // namespace ferrohsm
