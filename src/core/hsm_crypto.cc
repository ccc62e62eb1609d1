// Hsm: signatures, ciphers and digests, with PKCS#11's rules for operations: one of
// each kind per session, init while active is CKR_OPERATION_ACTIVE, the length
// query and CKR_BUFFER_TOO_SMALL leave the operation alive, and any other failure
// ends it.
#include "core/hsm.h"
#include "core/out_buf.h"

#include <cstring>
#include <mutex>

namespace ferrohsm {
namespace {

Status key_gone() { return make_error(CKR_KEY_HANDLE_INVALID, "the key was destroyed during the operation"); }

}  // namespace

Result<const mech::Entry*> Hsm::prepare_key_use(Session& s, const CK_MECHANISM& m, CK_OBJECT_HANDLE key,
                                                CK_ATTRIBUTE_TYPE usage, ObjectPtr& obj, mech::KeyPtr& k) {
  const mech::Entry* e = mech::Registry::global().find(m.mechanism);
  if (e == nullptr || !mechanism_allowed(s.token().get(), m.mechanism))
    return make_error(CKR_MECHANISM_INVALID, "mechanism not supported");
  bool can = usage == CKA_SIGN             ? e->sign != nullptr
             : usage == CKA_VERIFY         ? e->verify != nullptr
             : usage == CKA_ENCRYPT        ? e->encrypt != nullptr
             : usage == CKA_SIGN_RECOVER   ? e->sign_recover != nullptr
             : usage == CKA_VERIFY_RECOVER ? e->verify_recover != nullptr
                                           : e->decrypt != nullptr;
  if (!can) return make_error(CKR_MECHANISM_INVALID, "the mechanism does not do this operation");
  auto o = s.token()->object(key);
  if (!o.ok()) {
    if (o.rv() == CKR_OBJECT_HANDLE_INVALID) return make_error(CKR_KEY_HANDLE_INVALID, "no such key");
    return o.error();
  }
  obj = *o;
  CK_OBJECT_CLASS cls = obj->cls();
  if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY)
    return make_error(CKR_KEY_HANDLE_INVALID, "the object is not a key");
  CK_KEY_TYPE kt = obj->attrs().get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  bool type_ok = false;
  for (CK_KEY_TYPE t : e->key_types) type_ok |= t == kt;
  if (!type_ok) return make_error(CKR_KEY_TYPE_INCONSISTENT, "the key's type does not fit the mechanism");
  bool priv_use = usage == CKA_SIGN || usage == CKA_DECRYPT || usage == CKA_SIGN_RECOVER;
  bool class_ok = priv_use ? cls != CKO_PUBLIC_KEY : cls != CKO_PRIVATE_KEY;
  if (!class_ok) return make_error(CKR_KEY_TYPE_INCONSISTENT, "the key's class does not fit the operation");
  if (!obj->attrs().get_bool_or(usage, false))
    return make_error(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's usage attributes do not allow this");
  if (!obj->allows_mechanism(m.mechanism))
    return make_error(CKR_MECHANISM_INVALID, "the key's CKA_ALLOWED_MECHANISMS exclude this mechanism");
  FH_ASSIGN_OR_RETURN(k, obj->key());
  if (k->bits < e->info.ulMinKeySize || k->bits > e->info.ulMaxKeySize)
    return make_error(CKR_KEY_SIZE_RANGE, "key size outside the mechanism's range");
  return e;
}

void Hsm::end_operation(CK_SESSION_HANDLE h, OpKind kind) {
  SessionPtr s = sessions_.get(h);
  if (!s) return;
  std::lock_guard<std::mutex> lock(s->mu);
  switch (kind) {
    case OpKind::Sign: s->sign.reset(); break;
    case OpKind::Verify: s->verify.reset(); break;
    case OpKind::Encrypt: s->encrypt.reset(); break;
    case OpKind::Decrypt: s->decrypt.reset(); break;
    case OpKind::Digest: s->digest.reset(); break;
    case OpKind::SignRecover: s->sign_recover.reset(); break;
    case OpKind::VerifyRecover: s->verify_recover.reset(); break;
    case OpKind::MessageEncrypt: s->message_encrypt.reset(); break;
    case OpKind::MessageDecrypt: s->message_decrypt.reset(); break;
  }
}

// --- sign ------------------------------------------------------------------------

Status Hsm::sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->sign) return make_error(CKR_OPERATION_ACTIVE, "a signature is already in progress");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, CKA_SIGN, obj, k));
  if (e->sign == nullptr) return make_error(CKR_MECHANISM_INVALID, "mechanism cannot sign");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::SignOp> op, e->sign(m, std::move(k)));
  bool ctx_login = obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->sign) return make_error(CKR_OPERATION_ACTIVE, "a signature is already in progress");
  s->started(Session::kSign);
  s->sign = SignState{std::move(op), std::move(obj), false, ctx_login};
  return {};
}

Status Hsm::sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(Session::kSign, "C_SignInit was not called");
  SignState& st = *s->sign;
  // C_Sign cannot finish a multi-part signature; the multi-part one stays active.
  if (st.updated) return make_error(CKR_OPERATION_ACTIVE, "C_Sign cannot finish a multi-part signature");
  if (st.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (st.key->destroyed()) {
    s->sign.reset();
    return key_gone();
  }
  Status answer;
  if (!room_for(sig, st.op->signature_size(), answer)) return answer;
  auto n = st.op->sign(data, MutableByteView(sig.data, *sig.len));
  s->sign.reset();
  if (!n.ok()) return n.error();
  *sig.len = *n;
  return {};
}

Status Hsm::sign_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(Session::kSign, "C_SignInit was not called");
  SignState& st = *s->sign;
  if (st.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (!st.op->multipart()) {
    s->sign.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism signs in one part only");
  }
  if (st.key->destroyed()) {
    s->sign.reset();
    return key_gone();
  }
  Status r = st.op->update(data);
  if (!r.ok()) {
    s->sign.reset();
    return r;
  }
  st.updated = true;
  return {};
}

Status Hsm::sign_final(CK_SESSION_HANDLE h, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(Session::kSign, "C_SignInit was not called");
  SignState& st = *s->sign;
  if (st.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (!st.op->multipart()) {
    s->sign.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism signs in one part only");
  }
  if (st.key->destroyed()) {
    s->sign.reset();
    return key_gone();
  }
  Status answer;
  if (!room_for(sig, st.op->signature_size(), answer)) return answer;
  auto n = st.op->final(MutableByteView(sig.data, *sig.len));
  s->sign.reset();
  if (!n.ok()) return n.error();
  *sig.len = *n;
  return {};
}

// --- verify ------------------------------------------------------------------------

Status Hsm::verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->verify) return make_error(CKR_OPERATION_ACTIVE, "a verification is already in progress");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, CKA_VERIFY, obj, k));
  if (e->verify == nullptr) return make_error(CKR_MECHANISM_INVALID, "mechanism cannot verify");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::VerifyOp> op, e->verify(m, std::move(k)));
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->verify) return make_error(CKR_OPERATION_ACTIVE, "a verification is already in progress");
  s->started(Session::kVerify);
  s->verify = VerifyState{std::move(op), std::move(obj), false};
  return {};
}

Status Hsm::verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(Session::kVerify, "C_VerifyInit was not called");
  VerifyState& st = *s->verify;
  std::unique_ptr<mech::VerifyOp> op = std::move(st.op);
  bool updated = st.updated, gone = st.key->destroyed();
  s->verify.reset();
  if (updated) return make_error(CKR_FUNCTION_FAILED, "C_Verify cannot finish a multi-part verification");
  if (gone) return key_gone();
  return op->verify(data, sig);
}

Status Hsm::verify_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(Session::kVerify, "C_VerifyInit was not called");
  VerifyState& st = *s->verify;
  if (!st.op->multipart()) {
    s->verify.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism verifies in one part only");
  }
  if (st.key->destroyed()) {
    s->verify.reset();
    return key_gone();
  }
  Status r = st.op->update(data);
  if (!r.ok()) {
    s->verify.reset();
    return r;
  }
  st.updated = true;
  return {};
}

Status Hsm::verify_final(CK_SESSION_HANDLE h, ByteView sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(Session::kVerify, "C_VerifyInit was not called");
  std::unique_ptr<mech::VerifyOp> op = std::move(s->verify->op);
  bool gone = s->verify->key->destroyed();
  s->verify.reset();
  if (!op->multipart()) return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism verifies in one part only");
  if (gone) return key_gone();
  return op->final(sig);
}

// --- encrypt / decrypt ---------------------------------------------------------------

static std::optional<CipherState>& slot_of(Session& s, CipherDir d) {
  return d == CipherDir::Encrypt ? s.encrypt : s.decrypt;
}

static Session::Op op_of(CipherDir d) { return d == CipherDir::Encrypt ? Session::kEncrypt : Session::kDecrypt; }

Status Hsm::cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (slot_of(*s, d)) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is already in progress");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e,
                      prepare_key_use(*s, m, key, d == CipherDir::Encrypt ? CKA_ENCRYPT : CKA_DECRYPT, obj, k));
  mech::CipherFactory f = d == CipherDir::Encrypt ? e->encrypt : e->decrypt;
  if (f == nullptr) return make_error(CKR_MECHANISM_INVALID, "mechanism cannot do this");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, f(m, std::move(k)));
  bool ctx_login = d == CipherDir::Decrypt && obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (slot) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is already in progress");
  s->started(op_of(d));
  slot = CipherState{std::move(op), std::move(obj), false, ctx_login, std::nullopt};
  return {};
}

Status Hsm::cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(op_of(d), "the operation was not initialised");
  CipherState& c = *slot;
  if (c.updated) {
    slot.reset();
    return make_error(CKR_FUNCTION_FAILED, "a single-part call cannot finish a multi-part operation");
  }
  if (c.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (c.key->destroyed()) {
    slot.reset();
    return key_gone();
  }
  bool done = false;
  Status st = cipher_step(c, c.op->one_shot_size(in.size()), out, done,
                          [&](MutableByteView o) { return c.op->one_shot(in, o); });
  if (done) slot.reset();
  return st;
}

Status Hsm::cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(op_of(d), "the operation was not initialised");
  CipherState& c = *slot;
  if (c.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (!c.op->multipart()) {
    slot.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism works in one part only");
  }
  if (c.key->destroyed()) {
    slot.reset();
    return key_gone();
  }
  bool done = false;
  Status st = cipher_step(c, c.op->update_size(in.size()), out, done,
                          [&](MutableByteView o) { return c.op->update(in, o); });
  if (done && st.ok()) c.updated = true;
  else if (done) slot.reset();
  return st;
}

Status Hsm::cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(op_of(d), "the operation was not initialised");
  CipherState& c = *slot;
  if (c.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (!c.op->multipart()) {
    slot.reset();
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism works in one part only");
  }
  if (c.key->destroyed()) {
    slot.reset();
    return key_gone();
  }
  bool done = false;
  Status st = cipher_step(c, c.op->final_size(), out, done, [&](MutableByteView o) { return c.op->final(o); });
  if (done) slot.reset();
  return st;
}

// --- digest ----------------------------------------------------------------------------

Status Hsm::digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = mech::Registry::global().find(m.mechanism);
  if (e == nullptr || e->digest == nullptr || !mechanism_allowed(s->token().get(), m.mechanism))
    return make_error(CKR_MECHANISM_INVALID, "not a digest mechanism");
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->digest) return make_error(CKR_OPERATION_ACTIVE, "a digest is already in progress");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::DigestOp> op, e->digest(m));
  s->digest = DigestState{std::move(op), false, m.mechanism, true, SecureBytes()};
  return {};
}

Status Hsm::digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  if (s->digest->updated) {
    s->digest.reset();
    return make_error(CKR_FUNCTION_FAILED, "C_Digest cannot finish a multi-part digest");
  }
  Status answer;
  if (!room_for(out, s->digest->op->digest_size(), answer)) return answer;
  auto n = s->digest->op->digest(data, MutableByteView(out.data, *out.len));
  s->digest.reset();
  if (!n.ok()) return n.error();
  *out.len = *n;
  return {};
}

Status Hsm::digest_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  Status r = s->digest->op->update(data);
  if (!r.ok()) {
    s->digest.reset();
    return r;
  }
  s->digest->updated = true;
  s->digest->keep_for_saving(data);
  return {};
}

Status Hsm::digest_final(CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  Status answer;
  if (!room_for(out, s->digest->op->digest_size(), answer)) return answer;
  auto n = s->digest->op->final(MutableByteView(out.data, *out.len));
  s->digest.reset();
  if (!n.ok()) return n.error();
  *out.len = *n;
  return {};
}

}  // namespace ferrohsm
