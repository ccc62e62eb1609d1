// Message-based signatures and verification (PKCS#11 3.0 §5.14 C_MessageSignInit …
// C_MessageSignFinal, §5.15 C_MessageVerifyInit … C_MessageVerifyFinal). A context
// keeps the mechanism (its parameter copied, mech/kept_mechanism.h) and the key;
// each message is a fresh signature operation made by the same factory C_SignInit
// uses and driven by the same steps (op_steps.h): C_SignMessage is C_Sign,
// C_SignMessageNext is C_SignUpdate, and its last call C_SignUpdate + C_SignFinal
// (or C_Sign for a single-part mechanism). A finished or failed message ends only
// that message; C_MessageSignFinal ends the context. Every FerroHSM mechanism takes
// its parameters at init, so the per-message parameter must be NULL.
#include "core/hsm.h"
#include "core/op_steps.h"
#include "core/out_buf.h"

#include <mutex>

namespace ferrohsm {
namespace {

constexpr bool is_sign(OpKind kind) { return kind == OpKind::MessageSign; }

const char* init_name(OpKind kind) {
  return is_sign(kind) ? "C_MessageSignInit was not called" : "C_MessageVerifyInit was not called";
}

Status no_message_param(const void* param, CK_ULONG len) {
  if (param != nullptr || len != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "this mechanism takes no per-message parameter");
  return {};
}

// The operation for the next message: made now unless one is ready.
Status prepare(MessageSignState& ctx) {
  if (ctx.message) return {};
  const CK_MECHANISM m = ctx.mechanism.get();
  const mech::Entry* e = mech::Registry::global().find(m.mechanism);
  if (e == nullptr || e->sign == nullptr) return make_error(CKR_GENERAL_ERROR, "the mechanism vanished");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, ctx.key->key());
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::SignOp> op, e->sign(m, std::move(k)));
  ctx.message = SignState{std::move(op), ctx.key, ctx.always_authenticate};
  return {};
}

Status prepare(MessageVerifyState& ctx) {
  if (ctx.message) return {};
  const CK_MECHANISM m = ctx.mechanism.get();
  const mech::Entry* e = mech::Registry::global().find(m.mechanism);
  if (e == nullptr || e->verify == nullptr) return make_error(CKR_GENERAL_ERROR, "the mechanism vanished");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, ctx.key->key());
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::VerifyOp> op, e->verify(m, std::move(k)));
  ctx.message = VerifyState{std::move(op), ctx.key};
  return {};
}

// A single-part call (C_SignMessage, C_VerifyMessage, C_*MessageBegin) may not
// interrupt a message in progress.
template <class Ctx>
Status no_message_in_progress(const Ctx& ctx) {
  if (ctx.begun || (ctx.message && ctx.message->form != Form::kUndecided))
    return make_error(CKR_OPERATION_ACTIVE, "a message is in progress");
  return {};
}

// After a step: a message that ended is no longer begun.
template <class Ctx>
Status settle(Ctx& ctx, Status st) {
  if (!ctx.message) ctx.begun = false;
  return st;
}

}  // namespace

Status Hsm::message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const bool sign = is_sign(kind);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (sign ? s->message_sign.has_value() : s->message_verify.has_value())
      return make_error(CKR_OPERATION_ACTIVE, "a message-based signature context is already active");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, sign ? CKA_SIGN : CKA_VERIFY, obj, k));
  if ((e->info.flags & (sign ? CKF_MESSAGE_SIGN : CKF_MESSAGE_VERIFY)) == 0)
    return make_error(CKR_MECHANISM_INVALID, "the mechanism has no message-based form");
  FH_ASSIGN_OR_RETURN(mech::KeptMechanism kept, mech::KeptMechanism::keep(m));
  const bool ctx_login = sign && obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  // The first message's operation, made now: it checks the parameters as C_SignInit would.
  std::optional<MessageSignState> sctx;
  std::optional<MessageVerifyState> vctx;
  if (sign) {
    sctx = MessageSignState{std::move(kept), std::move(obj), ctx_login};
    FH_TRY(prepare(*sctx));
  } else {
    vctx = MessageVerifyState{std::move(kept), std::move(obj)};
    FH_TRY(prepare(*vctx));
  }
  std::lock_guard<std::mutex> lock(s->mu);
  if (sign ? s->message_sign.has_value() : s->message_verify.has_value())
    return make_error(CKR_OPERATION_ACTIVE, "a message-based signature context is already active");
  s->started(kind);
  if (sign) s->message_sign = std::move(sctx);
  else s->message_verify = std::move(vctx);
  return {};
}

Status Hsm::sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->message_sign) return s->not_active(OpKind::MessageSign, init_name(OpKind::MessageSign));
  MessageSignState& ctx = *s->message_sign;
  FH_TRY(no_message_param(param, param_len));
  if (ctx.begun) return make_error(CKR_OPERATION_ACTIVE, "a multi-part message is in progress");
  FH_TRY(prepare(ctx));
  return steps::sign(ctx.message, data, sig);
}

Status Hsm::verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                           ByteView sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->message_verify) return s->not_active(OpKind::MessageVerify, init_name(OpKind::MessageVerify));
  MessageVerifyState& ctx = *s->message_verify;
  FH_TRY(no_message_param(param, param_len));
  FH_TRY(no_message_in_progress(ctx));
  FH_TRY(prepare(ctx));
  return steps::verify(ctx.message, data, sig);
}

Status Hsm::message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto begin = [&](auto& ctx) -> Status {
    FH_TRY(no_message_param(param, param_len));
    FH_TRY(no_message_in_progress(ctx));
    FH_TRY(prepare(ctx));
    ctx.begun = true;
    return {};
  };
  if (is_sign(kind)) {
    if (!s->message_sign) return s->not_active(kind, init_name(kind));
    return begin(*s->message_sign);
  }
  if (!s->message_verify) return s->not_active(kind, init_name(kind));
  return begin(*s->message_verify);
}

Status Hsm::sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                              const OutBuf* sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->message_sign) return s->not_active(OpKind::MessageSign, init_name(OpKind::MessageSign));
  MessageSignState& ctx = *s->message_sign;
  if (!ctx.begun || !ctx.message) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_SignMessageBegin was not called");
  FH_TRY(no_message_param(param, param_len));
  if (sig == nullptr) return settle(ctx, steps::sign_update(ctx.message, data));
  // The last part. A single-part mechanism signs it whole; otherwise it is one more
  // update and the final call — after the length convention is settled, so that a
  // length query or a short buffer feeds nothing.
  if (!ctx.message->op->multipart()) return settle(ctx, steps::sign(ctx.message, data, *sig));
  Status answer;
  if (!room_for(*sig, ctx.message->op->signature_size(), answer)) return answer;
  Status st = steps::sign_update(ctx.message, data);
  if (st.ok()) st = steps::sign_final(ctx.message, *sig);
  return settle(ctx, st);
}

Status Hsm::verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                const ByteView* sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->message_verify) return s->not_active(OpKind::MessageVerify, init_name(OpKind::MessageVerify));
  MessageVerifyState& ctx = *s->message_verify;
  if (!ctx.begun || !ctx.message)
    return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_VerifyMessageBegin was not called");
  FH_TRY(no_message_param(param, param_len));
  if (sig == nullptr) return settle(ctx, steps::verify_update(ctx.message, data));
  if (!ctx.message->op->multipart()) return settle(ctx, steps::verify(ctx.message, data, *sig));
  Status st = steps::verify_update(ctx.message, data);
  if (st.ok()) st = steps::verify_final(ctx.message, *sig);
  return settle(ctx, st);
}

Status Hsm::message_sig_final(OpKind kind, CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  const bool active = is_sign(kind) ? s->message_sign.has_value() : s->message_verify.has_value();
  if (!active) return s->not_active(kind, init_name(kind));
  s->end(kind);
  return {};
}

}  // namespace ferrohsm
