#include "core/app.h"

#include "core/core.h"
#include "core/hsm.h"
#include "core/policy_gate.h"

#include <algorithm>
#include <set>

namespace ferrohsm {

template <typename R, typename F>
R App::audited(AuditKind kind, const AuditCall& call, F&& act) {
  if (!audit_) return act();  // audit off: nothing else on the path
  return audit_->template run<R>(kind, call, std::forward<F>(act));
}

App::App(Core& core, AppOptions options, std::unique_ptr<Hsm> keystore, std::vector<std::unique_ptr<Backend>> bridges)
    : core_(core),
      options_(std::move(options)),
      keystore_(std::move(keystore)),
      bridges_(std::move(bridges)),
      has_policy_(core_.has_mechanism_policy()),
      policy_(std::make_unique<PolicyGate>(*this, core_)) {
  if (core_.audit() != nullptr && options_.audited) audit_ = std::make_unique<AppAudit>(*core_.audit(), *this, options_);
  core_.attach(this);
}

App::~App() {
  wipe();
  core_.detach(this);
}

Backend& App::of_session(CK_SESSION_HANDLE h) {
  if (h >= kBridgeBase) {
    const size_t i = (h - kBridgeBase) / kBridgeSpan;
    if (i < bridges_.size() && bridges_[i]) return *bridges_[i];
  }
  return *keystore_;  // it answers CKR_SESSION_HANDLE_INVALID for a handle it does not know
}

bool App::visible(Backend& b, CK_SLOT_ID slot) {
  if (!options_.sees_token) return true;
  std::optional<std::string> label = b.token_label(slot);
  if (!label) return options_.admin;  // an uninitialised token: only for those who may initialise it
  return options_.sees_token(*label);
}

Result<Backend*> App::of_slot(CK_SLOT_ID slot) {
  for (auto& b : bridges_) {
    if (!b) continue;
    auto ids = b->slots();
    if (ids.ok() && std::find(ids->begin(), ids->end(), slot) != ids->end()) {
      if (!visible(*b, slot)) break;
      return b.get();
    }
  }
  if (!visible(*keystore_, slot)) return make_error(CKR_SLOT_ID_INVALID, "no slot " + std::to_string(slot));
  return static_cast<Backend*>(keystore_.get());
}

bool App::mechanism_allowed(Backend& b, CK_SLOT_ID slot, CK_MECHANISM_TYPE type) {
  // A bridge's own list ([[bridge]] mechanisms) first: it needs no call to the library.
  if (&b != keystore_.get() && slot >= kBridgeBase) {
    const MechanismPolicy* own = core_.backend_policy((slot - kBridgeBase) / kBridgeSpan);
    if (own != nullptr && !own->permits(type)) return false;
  }
  const auto& policies = core_.config().token_policy;
  if (policies.empty()) return true;
  std::optional<std::string> label = b.token_label(slot);
  if (!label) return true;
  auto it = policies.find(*label);
  if (it == policies.end()) return true;
  return it->second.permits(type);
}

Status App::check_mechanism(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE m) {
  if (!has_policy_) return {};  // the common case costs nothing
  Backend& b = of_session(h);
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID slot, b.session_slot(h));
  if (!mechanism_allowed(b, slot, m))
    return make_error(CKR_MECHANISM_INVALID, "the mechanism policy (the bridge's or the token's) does not allow it");
  return {};
}

// --- slots ---------------------------------------------------------------------------

Result<std::vector<CK_SLOT_ID>> App::slots() { return slot_list(false); }

Result<std::vector<CK_SLOT_ID>> App::slot_list(bool token_present) {
  std::vector<CK_SLOT_ID> out;
  std::set<CK_SLOT_ID> bridged;
  for (auto& b : bridges_) {
    if (!b) continue;
    FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> ids, b->slots());
    for (CK_SLOT_ID id : ids) {
      bridged.insert(id);
      if ((!token_present || b->token_present(id)) && visible(*b, id)) out.push_back(id);
    }
  }
  FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> own, keystore_->slots());
  for (CK_SLOT_ID id : own)
    if (!bridged.count(id) && visible(*keystore_, id)) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

Result<CK_SLOT_INFO> App::slot_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  return b->slot_info(slot);
}

Result<CK_TOKEN_INFO> App::token_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  return b->token_info(slot);
}

std::optional<std::string> App::token_label(CK_SLOT_ID slot) {
  auto b = of_slot(slot);
  return b.ok() ? (*b)->token_label(slot) : std::nullopt;
}

Result<std::vector<MechanismCaps>> App::mechanisms(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  FH_ASSIGN_OR_RETURN(std::vector<MechanismCaps> caps, b->mechanisms(slot));
  std::erase_if(caps, [&](const MechanismCaps& c) { return !mechanism_allowed(*b, slot, c.type); });
  return caps;
}

Result<std::vector<CK_MECHANISM_TYPE>> App::mechanism_list(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(std::vector<MechanismCaps> caps, mechanisms(slot));
  std::vector<CK_MECHANISM_TYPE> out;
  out.reserve(caps.size());
  for (const MechanismCaps& c : caps) out.push_back(c.type);
  return out;
}

Result<CK_MECHANISM_INFO> App::mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type) {
  FH_ASSIGN_OR_RETURN(std::vector<MechanismCaps> caps, mechanisms(slot));
  for (const MechanismCaps& c : caps)
    if (c.type == type) return c.info;
  return make_error(CKR_MECHANISM_INVALID, "mechanism not supported");
}

Status App::init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  if (!options_.admin)
    return make_error(CKR_TOKEN_WRITE_PROTECTED, options_.identity + " may not initialise tokens");
  if (audit_) audit_->forget_tokens();
  return audited(AuditKind::kChange, {"C_InitToken", {}, slot, nullptr, 0, {}, "label " + std::string(label.substr(0, label.find_last_not_of(' ') + 1))}, [&] { return b->init_token(slot, so_pin, label); });
}

Status App::delete_token(CK_SLOT_ID slot) {
  if (!options_.admin) return make_error(CKR_TOKEN_WRITE_PROTECTED, options_.identity + " may not delete tokens");
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  if (b != keystore_.get()) return make_error(CKR_FUNCTION_NOT_SUPPORTED, "a bridged token is deleted where it lives");
  return keystore_->delete_token(slot);
}

std::vector<std::string> App::logged_in_tokens() { return keystore_->logged_in_tokens(); }

Result<std::optional<CK_SLOT_ID>> App::slot_event(bool block) {
  for (;;) {
    FH_ASSIGN_OR_RETURN(std::optional<CK_SLOT_ID> slot, keystore_->slot_event(block));
    // An event on a slot this application may not see is no event of its own.
    if (!slot || visible(*keystore_, *slot) || !block) return slot;
  }
}

void App::shutdown() { keystore_->shutdown(); }

// --- sessions ----------------------------------------------------------------------------

Result<CK_SESSION_HANDLE> App::open_session(CK_SLOT_ID slot, CK_FLAGS flags) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  if (options_.max_sessions != 0 && session_count() >= options_.max_sessions)
    return make_error(CKR_SESSION_COUNT, "this connection has " + std::to_string(options_.max_sessions) + " sessions open");
  return b->open_session(slot, flags);
}

size_t App::session_count() {
  size_t n = keystore_->session_count();
  for (auto& b : bridges_)
    if (b) n += b->session_count();
  return n;
}

Status App::close_session(CK_SESSION_HANDLE h) { return of_session(h).close_session(h); }

Status App::close_all_sessions(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(Backend * b, of_slot(slot));
  return b->close_all_sessions(slot);
}

Result<CK_SESSION_INFO> App::session_info(CK_SESSION_HANDLE h) { return of_session(h).session_info(h); }
Result<CK_SLOT_ID> App::session_slot(CK_SESSION_HANDLE h) { return of_session(h).session_slot(h); }
Status App::login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) {
  const char* who = user == CKU_SO ? "CKU_SO" : user == CKU_USER ? "CKU_USER" : "CKU_CONTEXT_SPECIFIC";
  return audited(AuditKind::kChange, {"C_Login", h, {}, nullptr, 0, {}, std::string("user ") + who},
                 [&] { return of_session(h).login(h, user, pin); });
}
Status App::logout(CK_SESSION_HANDLE h) {
  return audited(AuditKind::kChange, {"C_Logout", h}, [&] { return of_session(h).logout(h); });
}
Status App::init_pin(CK_SESSION_HANDLE h, std::string_view pin) {
  return audited(AuditKind::kChange, {"C_InitPIN", h}, [&] { return of_session(h).init_pin(h, pin); });
}
Status App::set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) {
  return audited(AuditKind::kChange, {"C_SetPIN", h}, [&] { return of_session(h).set_pin(h, old_pin, new_pin); });
}

// --- objects ------------------------------------------------------------------------------

Result<CK_OBJECT_HANDLE> App::create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  return audited<Result<CK_OBJECT_HANDLE>>(AuditKind::kChange, {"C_CreateObject", h},
                                           [&]() -> Result<CK_OBJECT_HANDLE> {
    FH_TRY(policy_->check_new(h, nullptr, tmpl));
    return of_session(h).create_object(h, tmpl); });
}
Result<CK_OBJECT_HANDLE> App::copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  // The record names the copy; its detail, the original.
  return audited<Result<CK_OBJECT_HANDLE>>(AuditKind::kChange,
                                           {"C_CopyObject", h, {}, nullptr, 0, {}, "from handle " + std::to_string(o)},
                                           [&] { return of_session(h).copy_object(h, o, tmpl); });
}
Status App::destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  Status st = audited(AuditKind::kChange, {"C_DestroyObject", h, {}, nullptr, o}, [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Destroy, nullptr, o));
    policy_->forget(o);
    return of_session(h).destroy_object(h, o);
  });
  if (audit_) audit_->forget_object(o);
  return st;
}
Result<CK_ULONG> App::object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) { return of_session(h).object_size(h, o); }
Status App::get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) {
  return audited(AuditKind::kErrors, {"C_GetAttributeValue", h}, [&] { return of_session(h).get_attributes(h, o, tmpl); });
}
Status App::set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  policy_->forget(o);
  Status st = audited(AuditKind::kChange, {"C_SetAttributeValue", h, {}, nullptr, o},
                      [&] { return of_session(h).set_attributes(h, o, tmpl); });
  if (audit_) audit_->forget_object(o);  // its label may have changed
  return st;
}
Status App::find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  return audited(AuditKind::kErrors, {"C_FindObjectsInit", h}, [&] { return of_session(h).find_init(h, tmpl); });
}
Result<std::vector<CK_OBJECT_HANDLE>> App::find_next(CK_SESSION_HANDLE h, CK_ULONG max) {
  return of_session(h).find_next(h, max);
}
Status App::find_final(CK_SESSION_HANDLE h) { return of_session(h).find_final(h); }

// --- keys and random ---------------------------------------------------------------------

Result<CK_OBJECT_HANDLE> App::generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited<Result<CK_OBJECT_HANDLE>>(AuditKind::kChange, {"C_GenerateKey", h, {}, &m},
                                           [&]() -> Result<CK_OBJECT_HANDLE> {
    FH_TRY(policy_->check_new(h, &m, tmpl));
    return of_session(h).generate_key(h, m, tmpl); });
}
Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> App::generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                                              const AttrMap& pub, const AttrMap& priv) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited<Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>>>(
      AuditKind::kChange, {"C_GenerateKeyPair", h, {}, &m}, [&]() -> Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> {
    FH_TRY(policy_->check_new(h, &m, priv, &pub));
    return of_session(h).generate_key_pair(h, m, pub, priv); });
}
Status App::generate_random(CK_SESSION_HANDLE h, MutableByteView out) {
  return audited(AuditKind::kErrors, {"C_GenerateRandom", h}, [&] { return of_session(h).generate_random(h, out); });
}
Status App::seed_random(CK_SESSION_HANDLE h, ByteView seed) { return of_session(h).seed_random(h, seed); }

// --- signatures, ciphers, digests ---------------------------------------------------------

Status App::sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited(AuditKind::kUse, {"C_SignInit", h, {}, &m, key, OpKind::Sign},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).sign_init(h, m, key); });
}
Status App::sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) {
  return audited(AuditKind::kErrors, {"C_Sign", h}, [&] { return of_session(h).sign(h, data, sig); });
}
Status App::sign_update(CK_SESSION_HANDLE h, ByteView data) {
  return audited(AuditKind::kErrors, {"C_SignUpdate", h}, [&] { return of_session(h).sign_update(h, data); });
}
Status App::sign_final(CK_SESSION_HANDLE h, OutBuf sig) {
  return audited(AuditKind::kErrors, {"C_SignFinal", h}, [&] { return of_session(h).sign_final(h, sig); });
}
Status App::verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited(AuditKind::kUse, {"C_VerifyInit", h, {}, &m, key, OpKind::Verify},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).verify_init(h, m, key); });
}
Status App::verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) {
  return audited(AuditKind::kErrors, {"C_Verify", h}, [&] { return of_session(h).verify(h, data, sig); });
}
Status App::verify_update(CK_SESSION_HANDLE h, ByteView data) {
  return audited(AuditKind::kErrors, {"C_VerifyUpdate", h}, [&] { return of_session(h).verify_update(h, data); });
}
Status App::verify_final(CK_SESSION_HANDLE h, ByteView sig) {
  return audited(AuditKind::kErrors, {"C_VerifyFinal", h}, [&] { return of_session(h).verify_final(h, sig); });
}
Status App::cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  const bool enc = d == CipherDir::Encrypt;
  return audited(AuditKind::kUse,
                 {enc ? "C_EncryptInit" : "C_DecryptInit", h, {}, &m, key, enc ? OpKind::Encrypt : OpKind::Decrypt},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).cipher_init(d, h, m, key); });
}
Status App::cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  return audited(AuditKind::kErrors, {d == CipherDir::Encrypt ? "C_Encrypt" : "C_Decrypt", h},
                 [&] { return of_session(h).cipher(d, h, in, out); });
}
Status App::cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  return of_session(h).cipher_update(d, h, in, out);
}
Status App::cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) { return of_session(h).cipher_final(d, h, out); }
Status App::digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return of_session(h).digest_init(h, m);
}
Status App::digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  return audited(AuditKind::kErrors, {"C_Digest", h}, [&] { return of_session(h).digest(h, data, out); });
}
Status App::digest_update(CK_SESSION_HANDLE h, ByteView data) { return of_session(h).digest_update(h, data); }
Status App::digest_final(CK_SESSION_HANDLE h, OutBuf out) { return of_session(h).digest_final(h, out); }
Status App::digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  return audited(AuditKind::kUse, {"C_DigestKey", h, {}, nullptr, key}, [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, nullptr, key));
    return of_session(h).digest_key(h, key); });
}
Status App::recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited(AuditKind::kUse,
                 {kind == OpKind::SignRecover ? "C_SignRecoverInit" : "C_VerifyRecoverInit", h, {}, &m, key, kind},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).recover_init(kind, h, m, key); });
}
Status App::recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  return of_session(h).recover(kind, h, in, out);
}

Status App::dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  return of_session(h).dual_update(d, h, in, out);
}

Status App::get_operation_state(CK_SESSION_HANDLE h, OutBuf out) { return of_session(h).get_operation_state(h, out); }
Status App::set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key) {
  return of_session(h).set_operation_state(h, state, enc_key, auth_key);
}

Status App::message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  const bool enc = d == CipherDir::Encrypt;
  return audited(AuditKind::kUse,
                 {enc ? "C_MessageEncryptInit" : "C_MessageDecryptInit", h, {}, &m, key,
                  enc ? OpKind::MessageEncrypt : OpKind::MessageDecrypt},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).message_init(d, h, m, key); });
}
Status App::message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad, ByteView in,
                    OutBuf out) {
  return of_session(h).message(d, h, param, param_len, aad, in, out);
}
Status App::message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) {
  return of_session(h).message_begin(d, h, param, param_len, aad);
}
Status App::message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in, OutBuf out,
                         CK_FLAGS flags) {
  return of_session(h).message_next(d, h, param, param_len, in, out, flags);
}
Status App::message_final(CipherDir d, CK_SESSION_HANDLE h) { return of_session(h).message_final(d, h); }
std::optional<CK_MECHANISM_TYPE> App::message_mechanism(CK_SESSION_HANDLE h, CipherDir d) {
  return of_session(h).message_mechanism(h, d);
}

// --- message-based signatures --------------------------------------------------------------

Status App::message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited(AuditKind::kUse,
                 {kind == OpKind::MessageSign ? "C_MessageSignInit" : "C_MessageVerifyInit", h, {}, &m, key, kind},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, key));
    return of_session(h).message_sig_init(kind, h, m, key); });
}
Status App::sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, OutBuf sig) {
  return of_session(h).sign_message(h, param, param_len, data, sig);
}
Status App::verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, ByteView sig) {
  return of_session(h).verify_message(h, param, param_len, data, sig);
}
Status App::message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) {
  return of_session(h).message_sig_begin(kind, h, param, param_len);
}
Status App::sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                              const OutBuf* sig) {
  return of_session(h).sign_message_next(h, param, param_len, data, sig);
}
Status App::verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                const ByteView* sig) {
  return of_session(h).verify_message_next(h, param, param_len, data, sig);
}
Status App::message_sig_final(OpKind kind, CK_SESSION_HANDLE h) { return of_session(h).message_sig_final(kind, h); }

// --- key management -----------------------------------------------------------------------

Status App::wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                     OutBuf out) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited(AuditKind::kChange,
                 {"C_WrapKey", h, {}, &m, key, {}, "wrapping key handle " + std::to_string(wrapping)},
                 [&]() -> Status {
    FH_TRY(policy_->check(h, KeyAction::Wrap, &m, wrapping));
    FH_TRY(policy_->check(h, KeyAction::Export, &m, key));
    return of_session(h).wrap_key(h, m, wrapping, key, out); });
}
Result<CK_OBJECT_HANDLE> App::unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                         ByteView wrapped, const AttrMap& tmpl) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited<Result<CK_OBJECT_HANDLE>>(
      AuditKind::kChange, {"C_UnwrapKey", h, {}, &m, 0, {}, "unwrapping key handle " + std::to_string(unwrapping)},
      [&]() -> Result<CK_OBJECT_HANDLE> {
    FH_TRY(policy_->check(h, KeyAction::Wrap, &m, unwrapping));
    return of_session(h).unwrap_key(h, m, unwrapping, wrapped, tmpl); });
}
Result<CK_OBJECT_HANDLE> App::derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                         const AttrMap& tmpl) {
  FH_TRY(check_mechanism(h, m.mechanism));
  return audited<Result<CK_OBJECT_HANDLE>>(
      AuditKind::kChange, {"C_DeriveKey", h, {}, &m, 0, {}, "base key handle " + std::to_string(base)},
      [&]() -> Result<CK_OBJECT_HANDLE> {
    FH_TRY(policy_->check(h, KeyAction::Use, &m, base));
    return of_session(h).derive_key(h, m, base, tmpl); });
}

void App::end_operation(CK_SESSION_HANDLE h, OpKind kind) { of_session(h).end_operation(h, kind); }

void App::wipe() {
  keystore_->wipe();
  for (auto& b : bridges_)
    if (b) b->wipe();
}

}  // namespace ferrohsm
