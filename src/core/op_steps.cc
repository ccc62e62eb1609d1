#include "core/op_steps.h"

#include "core/out_buf.h"

namespace ferrohsm::steps {
namespace {

Error key_gone() { return make_error(CKR_KEY_HANDLE_INVALID, "the key was destroyed during the operation"); }

// The checks every keyed state shares; `context_login` is the state's flag (or false).
template <class State>
Status ready_keyed(std::optional<State>& st, Form form, bool context_login) {
  FH_TRY(admit(st->form, form));
  if (context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (form == Form::kMultiPart && !st->op->multipart()) {
    st.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism works in one part only");
  }
  if (st->key->destroyed()) {
    st.reset();
    return key_gone();
  }
  return {};
}

// Ends an operation that finished well: a reusable one goes to its session's spare
// slot (with its key object) for the next *Init to re-arm; anything else is freed.
template <class Op>
void keep_spare(SpareOp<Op>* spare, std::unique_ptr<Op> op, ObjectPtr key, CK_MECHANISM_TYPE mechanism,
                bool always_authenticate) {
  if (spare == nullptr || !op->reusable()) return;
  if (key) {
    // Pairs with Hsm::drop_spares_of (object.h): either it looks through this
    // session, whose lock is held here, or this sees the key destroyed.
    key->note_spared();
    if (key->destroyed()) return;
  }
  spare->op = std::move(op);
  spare->key = std::move(key);
  spare->mechanism = mechanism;
  spare->always_authenticate = always_authenticate;
}

void finish(std::optional<SignState>& st) {
  // needs_context_login is false by now; the spare keeps whether the key asks for it.
  keep_spare(st->spare, std::move(st->op), std::move(st->key), st->mechanism, st->always_authenticate);
  st.reset();
}
void finish(std::optional<CipherState>& st) {
  keep_spare(st->spare, std::move(st->op), std::move(st->key), st->mechanism, st->always_authenticate);
  st.reset();
}
void finish(std::optional<DigestState>& st) {
  keep_spare(st->spare, std::move(st->op), nullptr, st->mechanism, false);
  st.reset();
}

}  // namespace

Status ready(std::optional<SignState>& st, Form form) { return ready_keyed(st, form, st->needs_context_login); }
Status ready(std::optional<VerifyState>& st, Form form) { return ready_keyed(st, form, false); }
Status ready(std::optional<CipherState>& st, Form form) { return ready_keyed(st, form, st->needs_context_login); }
Status ready(std::optional<DigestState>& st, Form form) { return admit(st->form, form); }

// --- sign ------------------------------------------------------------------------

Status sign(std::optional<SignState>& st, ByteView data, OutBuf sig) {
  FH_TRY(ready(st, Form::kSinglePart));
  st->form = Form::kSinglePart;
  Status answer;
  if (!room_for(sig, st->op->signature_size(), answer)) return answer;
  auto n = st->op->sign(data, MutableByteView(sig.data, *sig.len));
  if (!n.ok()) {
    st.reset();
    return n.error();
  }
  finish(st);
  *sig.len = *n;
  return {};
}

Status sign_update(std::optional<SignState>& st, ByteView data) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  Status r = st->op->update(data);
  if (!r.ok()) st.reset();
  return r;
}

Status sign_final(std::optional<SignState>& st, OutBuf sig) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  Status answer;
  if (!room_for(sig, st->op->signature_size(), answer)) return answer;
  auto n = st->op->final(MutableByteView(sig.data, *sig.len));
  if (!n.ok()) {
    st.reset();
    return n.error();
  }
  finish(st);
  *sig.len = *n;
  return {};
}

// --- verify ------------------------------------------------------------------------

Status verify(std::optional<VerifyState>& st, ByteView data, ByteView sig) {
  FH_TRY(ready(st, Form::kSinglePart));
  VerifyState done = std::move(*st);
  st.reset();
  Status r = done.op->verify(data, sig);
  if (r.ok()) keep_spare(done.spare, std::move(done.op), std::move(done.key), done.mechanism, false);
  return r;
}

Status verify_update(std::optional<VerifyState>& st, ByteView data) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  Status r = st->op->update(data);
  if (!r.ok()) st.reset();
  return r;
}

Status verify_final(std::optional<VerifyState>& st, ByteView sig) {
  FH_TRY(ready(st, Form::kMultiPart));
  VerifyState done = std::move(*st);
  st.reset();
  Status r = done.op->final(sig);
  if (r.ok()) keep_spare(done.spare, std::move(done.op), std::move(done.key), done.mechanism, false);
  return r;
}

// --- encrypt / decrypt ---------------------------------------------------------------

Status cipher(std::optional<CipherState>& st, ByteView in, OutBuf out) {
  FH_TRY(ready(st, Form::kSinglePart));
  st->form = Form::kSinglePart;
  CipherState& c = *st;
  bool done = false;
  Status r = cipher_step(c, c.op->one_shot_size(in.size()), out, done,
                         [&](MutableByteView o) { return c.op->one_shot(in, o); });
  if (done && r.ok()) finish(st);
  else if (done) st.reset();
  return r;
}

Status cipher_update(std::optional<CipherState>& st, ByteView in, OutBuf out, std::optional<ByteView>* delivered) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  CipherState& c = *st;
  bool done = false;
  Status r = cipher_step(
      c, c.op->update_size(in.size()), out, done, [&](MutableByteView o) { return c.op->update(in, o); }, delivered);
  if (done && !r.ok()) st.reset();
  return r;
}

Status cipher_final(std::optional<CipherState>& st, OutBuf out) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  CipherState& c = *st;
  bool done = false;
  Status r = cipher_step(c, c.op->final_size(), out, done, [&](MutableByteView o) { return c.op->final(o); });
  if (done && r.ok()) finish(st);
  else if (done) st.reset();
  return r;
}

// --- digest ----------------------------------------------------------------------------

Status digest(std::optional<DigestState>& st, ByteView data, OutBuf out) {
  FH_TRY(ready(st, Form::kSinglePart));
  st->form = Form::kSinglePart;
  Status answer;
  if (!room_for(out, st->op->digest_size(), answer)) return answer;
  auto n = st->op->digest(data, MutableByteView(out.data, *out.len));
  if (!n.ok()) {
    st.reset();
    return n.error();
  }
  finish(st);
  *out.len = *n;
  return {};
}

Status digest_update(std::optional<DigestState>& st, ByteView data) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  Status r = st->op->update(data);
  if (!r.ok()) {
    st.reset();
    return r;
  }
  st->keep_for_saving(data);
  return {};
}

Status digest_final(std::optional<DigestState>& st, OutBuf out) {
  FH_TRY(ready(st, Form::kMultiPart));
  st->form = Form::kMultiPart;
  Status answer;
  if (!room_for(out, st->op->digest_size(), answer)) return answer;
  auto n = st->op->final(MutableByteView(out.data, *out.len));
  if (!n.ok()) {
    st.reset();
    return n.error();
  }
  finish(st);
  *out.len = *n;
  return {};
}

}  // namespace ferrohsm::steps
