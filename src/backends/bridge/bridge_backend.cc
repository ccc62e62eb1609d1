// The bridge's slots, sessions, login and objects; the cryptography is in bridge_crypto.cc.
#include "backends/bridge/bridge_backend.h"

#include "backends/bridge/ck_template.h"
#include "core/core.h"
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

}  // namespace

std::function<Result<std::unique_ptr<Backend>>(CK_SESSION_HANDLE)> bridge_maker(BridgeConfig config) {
  struct Opened {
    std::mutex mu;
    std::shared_ptr<Bridge> bridge;
  };
  auto opened = std::make_shared<Opened>();
  return [config = std::move(config), opened](CK_SESSION_HANDLE base) -> Result<std::unique_ptr<Backend>> {
    std::lock_guard lock(opened->mu);
    if (!opened->bridge) {
      auto b = Bridge::open(config, base);
      if (!b.ok()) return b.error();
      opened->bridge = std::move(*b);
    }
    return std::unique_ptr<Backend>(std::make_unique<BridgeBackend>(opened->bridge, base));
  };
}

void add_bridges(Core& core, const std::vector<BridgeConfig>& bridges) {
  for (const BridgeConfig& b : bridges) core.add_backend(bridge_maker(b), MechanismPolicy{b.mechanisms, {}});
}

BridgeBackend::BridgeBackend(std::shared_ptr<Bridge> bridge, CK_SESSION_HANDLE base)
    : bridge_(std::move(bridge)), f_(bridge_->library().functions()), base_(base) {}

BridgeBackend::~BridgeBackend() { wipe(); }

Result<size_t> BridgeBackend::index_of(CK_SLOT_ID slot) const {
  if (slot < base_ || slot - base_ >= bridge_->slot_count())
    return make_error(CKR_SLOT_ID_INVALID, "no bridged slot " + std::to_string(slot));
  return static_cast<size_t>(slot - base_);
}

Result<BridgeBackend::Lease> BridgeBackend::lease_of(CK_SESSION_HANDLE h) const {
  std::shared_ptr<BridgeSession> s;
  {
    std::shared_lock lock(mu_);
    auto it = sessions_.find(h);
    if (it != sessions_.end()) s = it->second;
  }
  if (s != nullptr) {
    std::shared_lock hold(s->gate);
    if (!s->closed.load()) {
      const CK_SESSION_HANDLE under = s->under;
      return Lease{std::move(s), std::move(hold), under};
    }
  }
  return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
}

void BridgeBackend::settle(Lease& lease, CK_RV rv) const {
  lease.hold.unlock();  // the bridge may end the session: it waits for calls to let go
  bridge_->settle_session(*lease.s, rv);
}

void BridgeBackend::sweep_locked() {
  std::erase_if(sessions_, [](const auto& entry) { return entry.second->closed.load(); });
}

Result<CK_FUNCTION_LIST_3_0*> BridgeBackend::f3() const {
  if (bridge_->library().version().major < 3)
    return make_error(CKR_FUNCTION_NOT_SUPPORTED, "the bridged library has no PKCS#11 3.0 functions");
  return reinterpret_cast<CK_FUNCTION_LIST_3_0*>(f_);
}

// --- slots and tokens ---------------------------------------------------------------------

Result<std::vector<CK_SLOT_ID>> BridgeBackend::slots() {
  std::vector<CK_SLOT_ID> out(bridge_->slot_count());
  for (size_t j = 0; j < out.size(); ++j) out[j] = base_ + j;
  return out;
}

bool BridgeBackend::token_present(CK_SLOT_ID slot) {
  auto j = index_of(slot);
  return j.ok() && bridge_->bind(*j).ok();
}

// Always answers: a slot without its token is still a slot (CKF_TOKEN_PRESENT clear).
Result<CK_SLOT_INFO> BridgeBackend::slot_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(size_t j, index_of(slot));
  auto info = bridge_->with_token(j, [&](const Bridge::Binding& b) -> Result<CK_SLOT_INFO> {
    CK_SLOT_INFO si{};
    if (CK_RV rv = f_->C_GetSlotInfo(b.under, &si); rv != CKR_OK) {
      bridge_->lost(j, b.generation, std::string("C_GetSlotInfo: ") + rv_name(rv));
      return make_error(rv);
    }
    FH_TRY(bridge_->look(j, b));  // the token is still the one this slot serves
    si.flags |= CKF_REMOVABLE_DEVICE | CKF_TOKEN_PRESENT;
    bridge_->seen_slot_info(j, si);
    return si;
  });
  if (!info.ok()) return bridge_->absent_slot_info(j);
  return info;
}

Result<CK_TOKEN_INFO> BridgeBackend::token_info(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(size_t j, index_of(slot));
  return bridge_->with_token(j, [&](const Bridge::Binding& b) { return bridge_->look(j, b); });
}

std::optional<std::string> BridgeBackend::token_label(CK_SLOT_ID slot) {
  auto info = token_info(slot);
  if (!info.ok()) {
    auto j = index_of(slot);
    return j.ok() ? bridge_->last_label(*j) : std::nullopt;  // a lost token keeps its name
  }
  if (!(info->flags & CKF_TOKEN_INITIALIZED)) return std::nullopt;
  return client::trim_label(info->label, sizeof info->label);
}

Result<std::vector<MechanismCaps>> BridgeBackend::mechanisms(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(size_t j, index_of(slot));
  return bridge_->with_token(j, [&](const Bridge::Binding& b) -> Result<std::vector<MechanismCaps>> {
    const CK_SLOT_ID u = b.under;
    auto checked = [&](CK_RV rv, const char* fn) { return forward_rv(bridge_->settle_slot(j, b, rv, fn), fn); };
    CK_ULONG n = 0;
    FH_TRY(checked(f_->C_GetMechanismList(u, nullptr, &n), "C_GetMechanismList"));
    std::vector<CK_MECHANISM_TYPE> types(n);
    FH_TRY(checked(f_->C_GetMechanismList(u, types.data(), &n), "C_GetMechanismList"));
    types.resize(n);
    std::vector<MechanismCaps> out;
    out.reserve(n);
    for (CK_MECHANISM_TYPE t : types) {
      MechanismCaps c{t, {}};
      FH_TRY(checked(f_->C_GetMechanismInfo(u, t, &c.info), "C_GetMechanismInfo"));
      out.push_back(c);
    }
    return out;
  });
}

Status BridgeBackend::init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) {
  FH_ASSIGN_OR_RETURN(size_t j, index_of(slot));
  std::string padded = client::padded_label(label);
  return bridge_->with_token(j, [&](const Bridge::Binding& b) {
    CK_RV rv =
        f_->C_InitToken(b.under, pin_ptr(so_pin), so_pin.size(), reinterpret_cast<CK_UTF8CHAR_PTR>(padded.data()));
    return forward_rv(bridge_->settle_slot(j, b, rv, "C_InitToken"), "C_InitToken");
  });
}

// --- sessions and login -----------------------------------------------------------------------

Result<CK_SESSION_HANDLE> BridgeBackend::open_session(CK_SLOT_ID slot, CK_FLAGS flags) {
  FH_ASSIGN_OR_RETURN(size_t j, index_of(slot));
  return bridge_->with_token(j, [&](const Bridge::Binding& b) -> Result<CK_SESSION_HANDLE> {
    FH_TRY(bridge_->look(j, b));  // the library's slot still holds this slot's token
    CK_SESSION_HANDLE uh = CK_INVALID_HANDLE;
    CK_RV rv = f_->C_OpenSession(b.under, flags, nullptr, nullptr, &uh);
    FH_TRY(forward_rv(bridge_->settle_slot(j, b, rv, "C_OpenSession"), "C_OpenSession"));
    Library& lib = bridge_->library();
    lib.session_opened();
    auto s = std::make_shared<BridgeSession>();
    s->under = uh;
    s->slot = slot;
    s->index = j;
    s->generation = b.generation;
    std::unique_lock lock(mu_);
    sweep_locked();
    const bool full = next_ >= App::kBridgeSpan;
    if (full || !bridge_->adopt(j, b, s)) {
      lock.unlock();
      bridge_->retire(*s);
      if (full) return make_error(CKR_SESSION_COUNT, "this application has used every session handle of the bridge");
      return make_error(CKR_TOKEN_NOT_PRESENT, "the token went away while the session was opened");
    }
    CK_SESSION_HANDLE h = base_ + next_++;
    sessions_.emplace(h, std::move(s));
    return h;
  });
}

Status BridgeBackend::close_session(CK_SESSION_HANDLE h) {
  std::shared_ptr<BridgeSession> s;
  {
    std::unique_lock lock(mu_);
    auto it = sessions_.find(h);
    if (it == sessions_.end()) return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
    s = std::move(it->second);
    sessions_.erase(it);
  }
  return forward_rv(bridge_->retire(*s), "C_CloseSession");
}

// Only this application's sessions: the library's C_CloseAllSessions would close those of
// every application of the process (a server's other connections).
Status BridgeBackend::close_all_sessions(CK_SLOT_ID slot) {
  FH_TRY(index_of(slot));
  std::vector<std::shared_ptr<BridgeSession>> closing;
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
  for (const auto& s : closing) bridge_->retire(*s);
  return {};
}

Result<CK_SESSION_INFO> BridgeBackend::session_info(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  CK_SESSION_INFO info{};
  if (CK_RV rv = f_->C_GetSessionInfo(lease.under, &info); rv != CKR_OK) {
    settle(lease, rv);
    return forward_rv(rv, "C_GetSessionInfo").error();
  }
  info.slotID = lease.s->slot;  // FerroHSM's id, not the library's
  return info;
}

Result<CK_SLOT_ID> BridgeBackend::session_slot(CK_SESSION_HANDLE h) {
  std::shared_lock lock(mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end() || it->second->closed.load())
    return make_error(CKR_SESSION_HANDLE_INVALID, "no session " + std::to_string(h));
  return it->second->slot;
}

size_t BridgeBackend::session_count() {
  std::shared_lock lock(mu_);
  return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                           [](const auto& entry) { return !entry.second->closed.load(); }));
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
  CK_RV rv = CKR_OK;
  if (auto f = f3(); f.ok()) {
    rv = (*f)->C_SessionCancel(lease->under, op_kind_info(kind).cancel_flag);
  } else if (kind == OpKind::Find) {
    rv = f_->C_FindObjectsFinal(lease->under);
  } else {
    // A 2.40 library has no way to end an operation but to finish it: it ends at the
    // application's next call of that operation (or the session's end).
    log().debug("bridge: a 2.40 library cannot cancel the operation of session {}", h);
  }
  {
    std::lock_guard lock(lease->s->mech_mu);
    if (kind == OpKind::MessageEncrypt) lease->s->message_mech[0].reset();
    if (kind == OpKind::MessageDecrypt) lease->s->message_mech[1].reset();
  }
  if (rv != CKR_OK) settle(*lease, rv);
}

void BridgeBackend::wipe() {
  std::unordered_map<CK_SESSION_HANDLE, std::shared_ptr<BridgeSession>> closing;
  {
    std::unique_lock lock(mu_);
    closing.swap(sessions_);
  }
  for (const auto& [h, s] : closing) bridge_->retire(*s);
}

}  // namespace ferrohsm::bridge
