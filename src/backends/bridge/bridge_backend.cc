// The bridge's slots, sessions, login and objects; the cryptography is in bridge_crypto.cc.
#include "backends/bridge/bridge_backend.h"

#include "backends/bridge/ck_template.h"
#include "base/log.h"
#include "base/names.h"
#include "core/app.h"

#include <algorithm>
#include <cstring>

#include <mutex>

namespace ferrohsm::bridge {

namespace {

CK_UTF8CHAR_PTR pin_ptr(std::string_view pin) {
  return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data()));
}

Error from_client(const client::Error& e) {
  return make_error(e.rv != CKR_OK ? e.rv : CKR_DEVICE_ERROR, e.message);
}

}  // namespace

Status forward_rv(CK_RV rv, const char* function) {
  if (rv == CKR_OK) return {};
  return make_error(rv, std::string("bridged ") + function + ": " + rv_name(rv));
}

Result<std::unique_ptr<BridgeBackend>> BridgeBackend::open(const BridgeConfig& config, CK_SESSION_HANDLE base) {
  auto module = client::Module::load(config.module);
  if (!module.ok()) return from_client(module.error());
  std::vector<CK_SLOT_ID> under;
  if (!config.token.empty()) {
    auto slot = (*module)->find_token(config.token);
    if (!slot.ok()) return from_client(slot.error());
    under.push_back(*slot);
  } else {
    auto slots = (*module)->slots(true);
    if (!slots.ok()) return from_client(slots.error());
    under = std::move(*slots);
  }
  if (under.size() >= App::kBridgeSpan) under.resize(App::kBridgeSpan - 1);
  return std::unique_ptr<BridgeBackend>(new BridgeBackend(std::move(*module), base, std::move(under)));
}

BridgeBackend::BridgeBackend(std::shared_ptr<client::Module> module, CK_SESSION_HANDLE base,
                             std::vector<CK_SLOT_ID> under_slots)
    : module_(std::move(module)),
      f_(module_ ? module_->functions() : nullptr),
      base_(base),
      under_slots_(std::move(under_slots)) {}

BridgeBackend::~BridgeBackend() { wipe(); }

std::function<Result<std::unique_ptr<Backend>>(CK_SESSION_HANDLE)> bridge_maker(BridgeConfig config) {
  return [config = std::move(config)](CK_SESSION_HANDLE base) -> Result<std::unique_ptr<Backend>> {
    auto b = BridgeBackend::open(config, base);
    if (!b.ok()) {
      return make_error(b.error().rv, "bridge " + config.module +
                                          (config.token.empty() ? "" : " token \"" + config.token + "\"") + ": " +
                                          b.error().message);
    }
    return std::unique_ptr<Backend>(std::move(*b));
  };
}

Result<CK_SLOT_ID> BridgeBackend::under_slot(CK_SLOT_ID slot) const {
  if (slot < base_ || slot - base_ >= under_slots_.size())
    return make_error(CKR_SLOT_ID_INVALID, "no bridged slot " + std::to_string(slot));
  return under_slots_[slot - base_];
}

Result<BridgeBackend::Lease> BridgeBackend::lease_of(CK_SESSION_HANDLE h) const {
  std::shared_ptr<Sess> s;
  {
    std::shared_lock lock(mu_);
    auto it = sessions_.find(h);
    if (it != sessions_.end()) s = it->second;
  }
  if (s != nullptr) {
    std::shared_lock hold(s->gate);
    if (!s->closed) return Lease{s, std::move(hold), s->under};
  }
  return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
}

CK_RV BridgeBackend::retire(const std::shared_ptr<Sess>& s) {
  std::unique_lock hold(s->gate);
  if (s->closed) return CKR_SESSION_HANDLE_INVALID;
  s->closed = true;
  return f_->C_CloseSession(s->under);
}

Result<CK_FUNCTION_LIST_3_0*> BridgeBackend::f3() const {
  if (module_ == nullptr || module_->version().major < 3)
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "the bridged library has no PKCS#11 3.0 functions");
  return reinterpret_cast<CK_FUNCTION_LIST_3_0*>(f_);
}

// --- slots and tokens ---------------------------------------------------------------------

Result<std::vector<CK_SLOT_ID>> BridgeBackend::slots() {
  std::vector<CK_SLOT_ID> out(under_slots_.size());
  for (size_t j = 0; j < out.size(); ++j) out[j] = base_ + j;
  return out;
}

Result<CK_SLOT_INFO> BridgeBackend::slot_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID u, under_slot(slot));
  CK_SLOT_INFO info{};
  FH_TRY(forward_rv(f_->C_GetSlotInfo(u, &info), "C_GetSlotInfo"));
  return info;
}

Result<CK_TOKEN_INFO> BridgeBackend::token_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID u, under_slot(slot));
  CK_TOKEN_INFO info{};
  FH_TRY(forward_rv(f_->C_GetTokenInfo(u, &info), "C_GetTokenInfo"));
  return info;
}

std::optional<std::string> BridgeBackend::token_label(CK_SLOT_ID slot) {
  auto info = token_info(slot);
  if (!info.ok() || !(info->flags & CKF_TOKEN_INITIALIZED)) return std::nullopt;
  return client::trim_label(info->label, sizeof info->label);
}

Result<std::vector<MechanismCaps>> BridgeBackend::mechanisms(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID u, under_slot(slot));
  CK_ULONG n = 0;
  FH_TRY(forward_rv(f_->C_GetMechanismList(u, nullptr, &n), "C_GetMechanismList"));
  std::vector<CK_MECHANISM_TYPE> types(n);
  FH_TRY(forward_rv(f_->C_GetMechanismList(u, types.data(), &n), "C_GetMechanismList"));
  types.resize(n);
  std::vector<MechanismCaps> out;
  out.reserve(n);
  for (CK_MECHANISM_TYPE t : types) {
    MechanismCaps c{t, {}};
    FH_TRY(forward_rv(f_->C_GetMechanismInfo(u, t, &c.info), "C_GetMechanismInfo"));
    out.push_back(c);
  }
  return out;
}

Status BridgeBackend::init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) {
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID u, under_slot(slot));
  std::string padded = client::padded_label(label);
  return forward_rv(f_->C_InitToken(u, pin_ptr(so_pin), so_pin.size(), reinterpret_cast<CK_UTF8CHAR_PTR>(padded.data())),
                    "C_InitToken");
}

// --- sessions and login -----------------------------------------------------------------------

Result<CK_SESSION_HANDLE> BridgeBackend::open_session(CK_SLOT_ID slot, CK_FLAGS flags) {
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID u, under_slot(slot));
  CK_SESSION_HANDLE uh = CK_INVALID_HANDLE;
  FH_TRY(forward_rv(f_->C_OpenSession(u, flags, nullptr, nullptr, &uh), "C_OpenSession"));
  std::unique_lock lock(mu_);
  if (next_ >= App::kBridgeSpan) {
    lock.unlock();
    f_->C_CloseSession(uh);
    return make_error(CKR_SESSION_COUNT, "this application has used every session handle of the bridge");
  }
  CK_SESSION_HANDLE h = base_ + next_++;
  auto s = std::make_shared<Sess>();
  s->under = uh;
  s->slot = slot;
  sessions_.emplace(h, std::move(s));
  return h;
}

Status BridgeBackend::close_session(CK_SESSION_HANDLE h) {
  std::shared_ptr<Sess> s;
  {
    std::unique_lock lock(mu_);
    auto it = sessions_.find(h);
    if (it == sessions_.end()) return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
    s = std::move(it->second);
    sessions_.erase(it);
  }
  return forward_rv(retire(s), "C_CloseSession");
}

// Only this application's sessions: the library's C_CloseAllSessions would close those of
// every application of the process (a server's other connections).
Status BridgeBackend::close_all_sessions(CK_SLOT_ID slot) {
  FH_TRY(under_slot(slot));
  std::vector<std::shared_ptr<Sess>> closing;
  {
    std::unique_lock lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second->slot == slot) {
        closing.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& s : closing) retire(s);
  return {};
}

Result<CK_SESSION_INFO> BridgeBackend::session_info(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  CK_SESSION_INFO info{};
  FH_TRY(forward_rv(f_->C_GetSessionInfo(u, &info), "C_GetSessionInfo"));
  info.slotID = lease.s->slot;  // FerroHSM's id, not the library's
  return info;
}

Result<CK_SLOT_ID> BridgeBackend::session_slot(CK_SESSION_HANDLE h) {
  std::shared_lock lock(mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end()) return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
  return it->second->slot;
}

size_t BridgeBackend::session_count() {
  std::shared_lock lock(mu_);
  return sessions_.size();
}

Status BridgeBackend::login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) {
  return FH_BRIDGE(C_Login, user, pin_ptr(pin), pin.size());
}

Status BridgeBackend::logout(CK_SESSION_HANDLE h) {
  return FH_BRIDGE(C_Logout);
}

Status BridgeBackend::init_pin(CK_SESSION_HANDLE h, std::string_view pin) {
  return FH_BRIDGE(C_InitPIN, pin_ptr(pin), pin.size());
}

Status BridgeBackend::set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) {
  return FH_BRIDGE(C_SetPIN, pin_ptr(old_pin), old_pin.size(), pin_ptr(new_pin), new_pin.size());
}

// --- objects --------------------------------------------------------------------------------------

Result<CK_OBJECT_HANDLE> BridgeBackend::create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_CreateObject, t.data(), t.size(), &o));
  return o;
}

Result<CK_OBJECT_HANDLE> BridgeBackend::copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_CopyObject, o, t.data(), t.size(), &copy));
  return copy;
}

Status BridgeBackend::destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  return FH_BRIDGE(C_DestroyObject, o);
}

Result<CK_ULONG> BridgeBackend::object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  CK_ULONG size = 0;
  FH_TRY(FH_BRIDGE(C_GetObjectSize, o, &size));
  return size;
}

Status BridgeBackend::get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) {
  return FH_BRIDGE(C_GetAttributeValue, o, tmpl.data(), tmpl.size());
}

Status BridgeBackend::set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  return FH_BRIDGE(C_SetAttributeValue, o, t.data(), t.size());
}

Status BridgeBackend::find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  return FH_BRIDGE(C_FindObjectsInit, t.data(), t.size());
}

Result<std::vector<CK_OBJECT_HANDLE>> BridgeBackend::find_next(CK_SESSION_HANDLE h, CK_ULONG max) {
  std::vector<CK_OBJECT_HANDLE> found(std::max<CK_ULONG>(max, 1));
  CK_ULONG n = 0;
  FH_TRY(FH_BRIDGE(C_FindObjects, found.data(), max, &n));
  found.resize(std::min(n, max));
  return found;
}

Status BridgeBackend::find_final(CK_SESSION_HANDLE h) {
  return FH_BRIDGE(C_FindObjectsFinal);
}

// --- the application's end ----------------------------------------------------------------------------

void BridgeBackend::end_operation(CK_SESSION_HANDLE h, OpKind kind) {
  auto lease = lease_of(h);
  if (!lease.ok()) return;
  if (auto f = f3(); f.ok()) {
    (*f)->C_SessionCancel(lease->under, op_kind_info(kind).cancel_flag);
  } else if (kind == OpKind::Find) {
    f_->C_FindObjectsFinal(lease->under);
  } else {
    // A 2.40 library has no way to end an operation but to finish it: it ends at the
    // application's next call of that operation (or the session's end).
    log().debug("bridge: a 2.40 library cannot cancel the operation of session {}", h);
  }
  std::lock_guard lock(lease->s->mech_mu);
  if (kind == OpKind::MessageEncrypt) lease->s->message_mech[0].reset();
  if (kind == OpKind::MessageDecrypt) lease->s->message_mech[1].reset();
}

void BridgeBackend::wipe() {
  std::unordered_map<CK_SESSION_HANDLE, std::shared_ptr<Sess>> closing;
  {
    std::unique_lock lock(mu_);
    closing.swap(sessions_);
  }
  for (const auto& [h, s] : closing) retire(s);
}

}  // namespace ferrohsm::bridge
