// Hsm: key management — wrap, unwrap, derive, digest a key, and the RSA
// sign-recover / verify-recover operations — with the guards PKCS#11 puts on them:
// an unextractable key is never wrapped out, CKA_WRAP_WITH_TRUSTED needs a trusted
// wrapping key, CKA_WRAP/UNWRAP/DERIVE_TEMPLATE bind what a key wraps or makes, and
// usage attributes decide what each key may do. Private keys travel as PKCS#8; the
// mechanisms that do not pad (ECB, CBC, RFC 3394 KW) zero-pad the key
// (mech/wrap_padding.h).
#include "base/names.h"
#include "core/hsm.h"
#include "core/hardening.h"
#include "core/mech/pkcs8.h"
#include "core/mech/wrap_padding.h"
#include "core/object_policy.h"
#include "core/out_buf.h"

#include <mutex>

namespace ferrohsm {
namespace {

std::optional<CipherState>& recover_slot(Session& s, OpKind kind) {
  return kind == OpKind::SignRecover ? s.sign_recover : s.verify_recover;
}

// The wrapping, unwrapping or base key is used with the mechanism: its
// CKA_ALLOWED_MECHANISMS must name it, as for any other operation.
Status check_allowed(const Object& key, CK_MECHANISM_TYPE m) {
  if (key.allows_mechanism(m)) return {};
  return make_error(CKR_MECHANISM_INVALID, "the key's CKA_ALLOWED_MECHANISMS exclude this mechanism");
}

// A private key from its unwrapped PKCS#8 form and the caller's template: the
// template may not contradict the key (its type, its material).
Result<AttrMap> private_key_from_unwrapped(const AttrMap& tmpl, ByteView pkcs8, bool so) {
  FH_ASSIGN_OR_RETURN(AttrMap material, mech::private_key_from_pkcs8(pkcs8));
  AttrMap attrs = tmpl;
  for (const auto& [t, v] : material) {
    if (const SecureBytes* given = tmpl.get(t); given != nullptr && *given != v)
      return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(t) + " does not match the unwrapped key");
    attrs.set(t, ByteView(v.data(), v.size()));
  }
  return complete_created(attrs, so);
}

}  // namespace

Result<ObjectPtr> Hsm::key_for(Session& s, CK_OBJECT_HANDLE key, CK_ATTRIBUTE_TYPE usage, CK_RV bad_handle) {
  auto o = s.token()->object(key);
  if (!o.ok()) {
    if (o.rv() == CKR_OBJECT_HANDLE_INVALID) return make_error(bad_handle, "no such key");
    return o.error();
  }
  CK_OBJECT_CLASS cls = (*o)->cls();
  if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
    return make_error(bad_handle, "the object is not a key");
  if (usage != 0 && !(*o)->attrs().get_bool_or(usage, false))
    return make_error(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's usage attributes do not allow this");
  return *o;
}

Status Hsm::wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                     OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->encrypt == nullptr || !(e->info.flags & CKF_WRAP))
    return make_error(CKR_MECHANISM_INVALID, "the mechanism cannot wrap keys");
  FH_ASSIGN_OR_RETURN(ObjectPtr wk, key_for(*s, wrapping, CKA_WRAP, CKR_WRAPPING_KEY_HANDLE_INVALID));
  FH_TRY(check_allowed(*wk, m.mechanism));
  FH_TRY(check_key_use(cfg_.hardening, wk->attrs()));
  FH_ASSIGN_OR_RETURN(ObjectPtr target, key_for(*s, key, 0, CKR_KEY_HANDLE_INVALID));
  if (target->cls() != CKO_SECRET_KEY && target->cls() != CKO_PRIVATE_KEY)
    return make_error(CKR_KEY_NOT_WRAPPABLE, "only secret and private keys can be wrapped");
  if (!target->attrs().get_bool_or(CKA_EXTRACTABLE, false))
    return make_error(CKR_KEY_UNEXTRACTABLE, "the key is not extractable");
  if (target->attrs().get_bool_or(CKA_WRAP_WITH_TRUSTED, false) && !wk->attrs().get_bool_or(CKA_TRUSTED, false))
    return make_error(CKR_KEY_NOT_WRAPPABLE, "the key may only be wrapped by a trusted key");
  if (!matches_template(target->attrs(), wk->attrs().view(CKA_WRAP_TEMPLATE)))
    return make_error(CKR_KEY_NOT_WRAPPABLE, "the key does not match the wrapping key's CKA_WRAP_TEMPLATE");
  CK_KEY_TYPE wkt = wk->attrs().get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  bool type_ok = false;
  for (CK_KEY_TYPE t : e->key_types) type_ok |= t == wkt;
  if (!type_ok || wk->cls() == CKO_PRIVATE_KEY)
    return make_error(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "the wrapping key does not fit the mechanism");
  if (!target->complete()) return make_error(CKR_USER_NOT_LOGGED_IN, "the key's value is sealed until login");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, wk->key());
  if (k->bits < e->info.ulMinKeySize || k->bits > e->info.ulMaxKeySize)
    return make_error(CKR_WRAPPING_KEY_SIZE_RANGE, "wrapping key size outside the mechanism's range");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr tk, target->key());
  FH_TRY(check_wrap(cfg_.hardening, wk->attrs(), k->bits, target->attrs(), tk->bits));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, e->encrypt(m, k));
  // A secret key is wrapped as its value, a private key as its PKCS#8 PrivateKeyInfo.
  SecureBytes pkcs8;
  if (target->cls() == CKO_PRIVATE_KEY) {
    FH_ASSIGN_OR_RETURN(mech::KeyPtr pk, target->key());
    FH_ASSIGN_OR_RETURN(pkcs8, mech::private_key_to_pkcs8(*pk));
  }
  ByteView material = target->cls() == CKO_PRIVATE_KEY ? ByteView(pkcs8.data(), pkcs8.size())
                                                       : target->attrs().view(CKA_VALUE);
  SecureBytes padded;
  if (e->wrap_pad_block != 0) {
    padded = mech::zero_pad(material, e->wrap_pad_block);
    material = padded;
  }
  CipherState tmp{std::move(op), wk};
  bool done = false;
  Status st = cipher_step(tmp, tmp.op->one_shot_size(material.size()), out, done,
                          [&](MutableByteView o) { return tmp.op->one_shot(material, o); });
  // C_WrapKey has no CKR_DATA_LEN_RANGE: a key the mechanism cannot take is out of its range.
  if (st.rv() == CKR_DATA_LEN_RANGE) return make_error(CKR_KEY_SIZE_RANGE, st.error().message);
  return st;  // a too-small buffer keeps nothing: wrapping has no operation state
}

Result<CK_OBJECT_HANDLE> Hsm::unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                         ByteView wrapped, const AttrMap& caller_tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->decrypt == nullptr || !(e->info.flags & CKF_UNWRAP))
    return make_error(CKR_MECHANISM_INVALID, "the mechanism cannot unwrap keys");
  FH_ASSIGN_OR_RETURN(ObjectPtr uk, key_for(*s, unwrapping, CKA_UNWRAP, CKR_UNWRAPPING_KEY_HANDLE_INVALID));
  FH_TRY(check_allowed(*uk, m.mechanism));
  FH_TRY(check_key_use(cfg_.hardening, uk->attrs()));
  CK_KEY_TYPE ukt = uk->attrs().get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  bool type_ok = false;
  for (CK_KEY_TYPE t : e->key_types) type_ok |= t == ukt;
  if (!type_ok || uk->cls() == CKO_PUBLIC_KEY)
    return make_error(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "the unwrapping key does not fit the mechanism");
  FH_ASSIGN_OR_RETURN(const AttrMap merged, apply_key_template(caller_tmpl, uk->attrs().view(CKA_UNWRAP_TEMPLATE)));
  const AttrMap tmpl =
      harden_defaults(cfg_.hardening, merged.get_ulong(CKA_CLASS).value_or(CKO_SECRET_KEY), merged);
  FH_TRY(check_writable(*s, tmpl.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, tmpl.get_bool_or(CKA_PRIVATE, true)));
  const CK_OBJECT_CLASS cls = tmpl.get_ulong(CKA_CLASS).value_or(CKO_SECRET_KEY);
  if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "only secret and private keys can be unwrapped");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, uk->key());
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, e->decrypt(m, k));
  SecureBytes value(op->one_shot_size(wrapped.size()));
  auto n = op->one_shot(wrapped, MutableByteView(value.data(), value.size()));
  if (!n.ok()) {
    CK_RV rv = n.rv();
    if (rv == CKR_ENCRYPTED_DATA_INVALID) rv = CKR_WRAPPED_KEY_INVALID;
    if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE) rv = CKR_WRAPPED_KEY_LEN_RANGE;
    return make_error(rv, n.error().message);
  }
  value.resize(*n);
  ByteView key_bytes = value;
  if (e->wrap_pad_block != 0 && cls == CKO_PRIVATE_KEY) {
    FH_ASSIGN_OR_RETURN(key_bytes, mech::unpad_der(value, e->wrap_pad_block));
  } else if (e->wrap_pad_block != 0) {
    if (tmpl.has(CKA_VALUE_LEN) && !tmpl.get_ulong(CKA_VALUE_LEN))
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be a CK_ULONG");
    FH_ASSIGN_OR_RETURN(key_bytes, mech::unpad_secret(value, e->wrap_pad_block,
                                                      tmpl.get_ulong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET),
                                                      tmpl.get_ulong(CKA_VALUE_LEN).value_or(0)));
  }
  const bool so = s->token()->role() == Role::SO;
  AttrMap attrs;
  if (cls == CKO_PRIVATE_KEY) {
    FH_ASSIGN_OR_RETURN(attrs, private_key_from_unwrapped(tmpl, key_bytes, so));
  } else {
    FH_ASSIGN_OR_RETURN(attrs, complete_secret_from_value(tmpl, key_bytes, nullptr, so));
  }
  FH_TRY(check_new_object(cfg_.hardening, attrs, KeyOrigin::Unwrapped));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->create_object(std::move(attrs), h));
  return obj->handle();
}

Result<CK_OBJECT_HANDLE> Hsm::derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                         const AttrMap& caller_tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->derive == nullptr)
    return make_error(CKR_MECHANISM_INVALID, "the mechanism cannot derive keys");
  FH_ASSIGN_OR_RETURN(ObjectPtr bk, key_for(*s, base, CKA_DERIVE, CKR_KEY_HANDLE_INVALID));
  FH_TRY(check_allowed(*bk, m.mechanism));
  FH_TRY(check_key_use(cfg_.hardening, bk->attrs()));
  CK_KEY_TYPE bkt = bk->attrs().get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  bool type_ok = e->key_types.empty();
  for (CK_KEY_TYPE t : e->key_types) type_ok |= t == bkt;
  if (!type_ok) return make_error(CKR_KEY_TYPE_INCONSISTENT, "the base key does not fit the mechanism");
  FH_ASSIGN_OR_RETURN(const AttrMap tmpl, apply_key_template(caller_tmpl, bk->attrs().view(CKA_DERIVE_TEMPLATE)));
  FH_TRY(check_writable(*s, tmpl.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, tmpl.get_bool_or(CKA_PRIVATE, true)));
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, bk->key());
  mech::DeriveContext ctx;
  Session* sp = s.get();
  ctx.resolve_key = [this, sp](CK_OBJECT_HANDLE other) -> Result<mech::KeyPtr> {
    FH_ASSIGN_OR_RETURN(ObjectPtr o, key_for(*sp, other, 0, CKR_KEY_HANDLE_INVALID));
    return o->key();
  };
  AttrMap t = tmpl;
  const bool data_out = t.get_ulong(CKA_CLASS) == CK_ULONG{CKO_DATA};
  // CKM_HKDF_DATA makes a data object holding the output (§2.43.7); everything else a secret key.
  if (data_out && m.mechanism != CKM_HKDF_DATA)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "only CKM_HKDF_DATA derives a data object");
  if (!data_out && !t.has(CKA_KEY_TYPE)) t.set_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  if (!data_out) t = harden_defaults(cfg_.hardening, CKO_SECRET_KEY, t);
  FH_ASSIGN_OR_RETURN(SecureBytes value, e->derive(m, k, t.get_ulong(CKA_VALUE_LEN).value_or(0), ctx));
  const bool so = s->token()->role() == Role::SO;
  AttrMap attrs;
  if (data_out) {
    t.erase(CKA_VALUE_LEN);
    t.set(CKA_VALUE, std::move(value));
    FH_ASSIGN_OR_RETURN(attrs, complete_created(t, so));
  } else {
    FH_ASSIGN_OR_RETURN(attrs, complete_secret_from_value(t, value, &bk->attrs(), so));
  }
  FH_TRY(check_new_object(cfg_.hardening, attrs, KeyOrigin::Derived));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->create_object(std::move(attrs), h));
  return obj->handle();
}

Status Hsm::digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
    FH_TRY(admit(s->digest->form, Form::kMultiPart));  // no C_DigestKey in a single-part digest
  }
  auto o = key_for(*s, key, 0, CKR_KEY_HANDLE_INVALID);
  Status st = o.ok() ? Status() : Status(o.error());
  if (st.ok() && (*o)->cls() != CKO_SECRET_KEY) st = make_error(CKR_KEY_INDIGESTIBLE, "only secret keys can be digested");
  if (st.ok() && !(*o)->complete()) st = make_error(CKR_USER_NOT_LOGGED_IN, "the key's value is sealed until login");
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "C_DigestInit was not called");
  if (st.ok()) st = admit(s->digest->form, Form::kMultiPart);  // a C_Digest may have come in between
  if (st.rv() == CKR_OPERATION_ACTIVE) return st;
  if (st.ok()) st = s->digest->op->update((*o)->attrs().view(CKA_VALUE));
  if (!st.ok()) {
    s->digest.reset();
    return st;
  }
  s->digest->form = Form::kMultiPart;
  // The state would now hold key bytes: it can no longer be handed out.
  s->digest->saveable = false;
  s->digest->input = SecureBytes();
  return {};
}

Status Hsm::recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (recover_slot(*s, kind)) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is in progress");
  }
  ObjectPtr obj;
  mech::KeyPtr k;
  CK_ATTRIBUTE_TYPE usage = kind == OpKind::SignRecover ? CKA_SIGN_RECOVER : CKA_VERIFY_RECOVER;
  FH_ASSIGN_OR_RETURN(const mech::Entry* e, prepare_key_use(*s, m, key, usage, obj, k));
  mech::CipherFactory f = kind == OpKind::SignRecover ? e->sign_recover : e->verify_recover;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::CipherOp> op, f(m, std::move(k)));
  bool ctx_login = kind == OpKind::SignRecover && obj->attrs().get_bool_or(CKA_ALWAYS_AUTHENTICATE, false);
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = recover_slot(*s, kind);
  if (slot) return make_error(CKR_OPERATION_ACTIVE, "an operation of this kind is in progress");
  s->started(kind);
  slot = CipherState{std::move(op), std::move(obj), ctx_login};
  return {};
}

Status Hsm::recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  auto& slot = recover_slot(*s, kind);
  if (!slot) return s->not_active(kind, "the operation was not initialised");
  CipherState& c = *slot;
  if (c.needs_context_login) return make_error(CKR_USER_NOT_LOGGED_IN, "the key needs a context-specific login");
  if (c.key->destroyed()) {
    slot.reset();
    return make_error(CKR_KEY_HANDLE_INVALID, "the key was destroyed during the operation");
  }
  bool done = false;
  Status st = cipher_step(c, c.op->one_shot_size(in.size()), out, done,
                          [&](MutableByteView o) { return c.op->one_shot(in, o); });
  if (done) slot.reset();
  if (kind == OpKind::VerifyRecover && st.rv() == CKR_ENCRYPTED_DATA_INVALID)
    return make_error(CKR_SIGNATURE_INVALID, "the signature does not verify");
  return st;
}

}  // namespace ferrohsm
