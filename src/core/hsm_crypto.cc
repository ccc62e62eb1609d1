// Hsm: signatures, ciphers and digests. Each Init checks the key and the mechanism
// and makes the operation (one of each kind per session; init while active is
// CKR_OPERATION_ACTIVE); each later call finds the operation in its session and takes
// one step of it (op_steps.h has PKCS#11's rules for those).
#include "core/hsm.h"
#include "core/op_steps.h"

#include <cstring>
#include <mutex>

namespace ferrohsm {
namespace {

std::optional<CipherState>& slot_of(Session& s, CipherDir d) { return d == CipherDir::Encrypt ? s.encrypt : s.decrypt; }
OpKind kind_of(CipherDir d) { return d == CipherDir::Encrypt ? OpKind::Encrypt : OpKind::Decrypt; }
SpareOp<mech::CipherOp>& spare_of(Session& s, CipherDir d) {
  return d == CipherDir::Encrypt ? s.spare_encrypt : s.spare_decrypt;
}

// The session's kept operation (session.h SpareOp), re-armed for this *Init, when it
// was made for the object `key` names now and the same mechanism type: that immutable
// object passed every check of prepare_key_use for this usage. It is recognised by its
// handle and flags (Token::still_current), with no lock but the session's and no
// reference count touched, so that threads on their own sessions share no written
// memory here. `fresh`: other processes' changes were applied (Token::catch_up_for).
// On a hit `obj` takes the key object from the spare; null on a miss (the caller takes
// the full path); a failed re-arm answers the error a new operation would have. The
// caller holds s.mu.
template <class Op>
Result<std::unique_ptr<Op>> rearm_spare(SpareOp<Op>& spare, bool fresh, const Token& t, CK_OBJECT_HANDLE key,
                                        const CK_MECHANISM& m, ObjectPtr& obj) {
  if (!fresh || !spare.fits(key, m.mechanism) || !t.still_current(*spare.key) || !spare.here_to_stay())
    return std::unique_ptr<Op>();
  Status r = spare.op->rearm(m);
  if (!r.ok()) {
    spare.clear();
    return r.error();
  }
  obj = std::move(spare.key);
  return std::move(spare.op);
}

}  // namespace

Result<const mech::Entry*> Hsm::prepare_key_use(Session& s, const CK_MECHANISM& m, CK_OBJECT_HANDLE key,
                                                CK_ATTRIBUTE_TYPE usage, ObjectPtr& obj, mech::KeyPtr& k) {
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr)
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
  FH_TRY(check_key_use(cfg_.hardening, obj->attrs()));
  FH_ASSIGN_OR_RETURN(k, obj->key());
  if (k->bits < e->info.ulMinKeySize || k->bits > e->info.ulMaxKeySize)
    return make_error(CKR_KEY_SIZE_RANGE, "key size outside the mechanism's range");
  return e;
}

void Hsm::drop_spares_of(const Session& s, const Object* obj) {
  // After the object was marked destroyed or replaced; pairs with op_steps.cc keep_spare.
  if (!obj->spared_after_change()) return;  // no session kept an operation on it
  for (const SessionPtr& other : sessions_.on_slot(s.slot_id())) other->drop_spares_of(obj);
}

void Hsm::end_operation(CK_SESSION_HANDLE h, OpKind kind) {
  SessionPtr s = sessions_.get(h);
  if (!s) return;
  std::lock_guard<std::mutex> lock(s->mu);
  s->end(kind);
}

// --- sign ------------------------------------------------------------------------

Status Hsm::sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  // A failure here is answered by the full path, in its order.
  const bool fresh = s->token()->catch_up_for(key).ok();
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->sign) return make_error(CKR_OPERATION_ACTIVE, "a signature is already in progress");
    ObjectPtr kept;
    FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::SignOp> op, rearm_spare(s->spare_sign, fresh, *s->token(), key, m, kept));
    if (op) {
      const bool auth = s->spare_sign.always_authenticate;
      s->started(OpKind::Sign);
      s->sign = SignState{std::move(op), std::move(kept), auth, Form::kUndecided, &s->spare_sign, m.mechanism, auth};
      return {};
    }
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, CKA_SIGN, obj, k));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::SignOp> op, e->sign(m, std::move(k)));
  bool ctx_login = obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->sign) return make_error(CKR_OPERATION_ACTIVE, "a signature is already in progress");
  s->started(OpKind::Sign);
  s->sign = SignState{std::move(op), std::move(obj), ctx_login, Form::kUndecided, &s->spare_sign, m.mechanism, ctx_login};
  return {};
}

Status Hsm::sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(OpKind::Sign, "C_SignInit was not called");
  return steps::sign(s->sign, data, sig);
}

Status Hsm::sign_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(OpKind::Sign, "C_SignInit was not called");
  return steps::sign_update(s->sign, data);
}

Status Hsm::sign_final(CK_SESSION_HANDLE h, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->sign) return s->not_active(OpKind::Sign, "C_SignInit was not called");
  return steps::sign_final(s->sign, sig);
}

// --- verify ------------------------------------------------------------------------

Status Hsm::verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const bool fresh = s->token()->catch_up_for(key).ok();
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->verify) return make_error(CKR_OPERATION_ACTIVE, "a verification is already in progress");
    ObjectPtr kept;
    FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::VerifyOp> op,
                        rearm_spare(s->spare_verify, fresh, *s->token(), key, m, kept));
    if (op) {
      s->started(OpKind::Verify);
      s->verify = VerifyState{std::move(op), std::move(kept), Form::kUndecided, &s->spare_verify, m.mechanism};
      return {};
    }
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, CKA_VERIFY, obj, k));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::VerifyOp> op, e->verify(m, std::move(k)));
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->verify) return make_error(CKR_OPERATION_ACTIVE, "a verification is already in progress");
  s->started(OpKind::Verify);
  s->verify = VerifyState{std::move(op), std::move(obj), Form::kUndecided, &s->spare_verify, m.mechanism};
  return {};
}

Status Hsm::verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(OpKind::Verify, "C_VerifyInit was not called");
  return steps::verify(s->verify, data, sig);
}

Status Hsm::verify_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(OpKind::Verify, "C_VerifyInit was not called");
  return steps::verify_update(s->verify, data);
}

Status Hsm::verify_final(CK_SESSION_HANDLE h, ByteView sig) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->verify) return s->not_active(OpKind::Verify, "C_VerifyInit was not called");
  return steps::verify_final(s->verify, sig);
}

// --- encrypt / decrypt ---------------------------------------------------------------

Status Hsm::cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const bool fresh = s->token()->catch_up_for(key).ok();
  SpareOp<mech::CipherOp>& spare = spare_of(*s, d);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (slot_of(*s, d)) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is already in progress");
    ObjectPtr kept;
    FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, rearm_spare(spare, fresh, *s->token(), key, m, kept));
    if (op) {
      const bool auth = spare.always_authenticate;
      s->started(kind_of(d));
      slot_of(*s, d) =
          CipherState{std::move(op), std::move(kept), auth, Form::kUndecided, std::nullopt, &spare, m.mechanism, auth};
      return {};
    }
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e,
                      prepare_key_use(*s, m, key, d == CipherDir::Encrypt ? CKA_ENCRYPT : CKA_DECRYPT, obj, k));
  mech::CipherFactory f = d == CipherDir::Encrypt ? e->encrypt : e->decrypt;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, f(m, std::move(k)));
  bool ctx_login = d == CipherDir::Decrypt && obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (slot) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is already in progress");
  s->started(kind_of(d));
  slot = CipherState{std::move(op), std::move(obj), ctx_login, Form::kUndecided, std::nullopt, &spare, m.mechanism, ctx_login};
  return {};
}

Status Hsm::cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(kind_of(d), "the operation was not initialised");
  return steps::cipher(slot, in, out);
}

Status Hsm::cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(kind_of(d), "the operation was not initialised");
  return steps::cipher_update(slot, in, out);
}

Status Hsm::cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = slot_of(*s, d);
  if (!slot) return s->not_active(kind_of(d), "the operation was not initialised");
  return steps::cipher_final(slot, out);
}

// --- digest ----------------------------------------------------------------------------

Status Hsm::digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->digest == nullptr)
    return make_error(CKR_MECHANISM_INVALID, "not a digest mechanism");
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->digest) return make_error(CKR_OPERATION_ACTIVE, "a digest is already in progress");
  std::unique_ptr<mech::DigestOp> op;
  if (s->spare_digest.op && s->spare_digest.here_to_stay()) op = s->spare_digest.take(nullptr, m.mechanism);
  if (op) {
    Status r = op->rearm(m);
    if (!r.ok()) return r.error();  // the spare is gone with it
  } else {
    FH_ASSIGN_OR_RETURN(op, e->digest(m));
  }
  s->digest = DigestState{std::move(op), Form::kUndecided, m.mechanism};
  s->digest->spare = &s->spare_digest;
  return {};
}

Status Hsm::digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  return steps::digest(s->digest, data, out);
}

Status Hsm::digest_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  return steps::digest_update(s->digest, data);
}

Status Hsm::digest_final(CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  return steps::digest_final(s->digest, out);
}

}  // namespace ferrohsm
