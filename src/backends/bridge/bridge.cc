#include "backends/bridge/bridge.h"

#include "base/log.h"
#include "core/app.h"
#include "base/names.h"

#include <ferrohsm/client/config.h>
#include <ferrohsm/client/recovery.h>

#include <algorithm>
#include <cstring>

namespace ferrohsm::bridge {

namespace {

using Clock = std::chrono::steady_clock;

// How often a lost token is looked for again: the client's backoff shape, never giving up.
constexpr client::Backoff kLookAgain{0, std::chrono::milliseconds(50), std::chrono::milliseconds(1000)};

// The ladder's codes for "the device or token is gone".
bool token_gone(CK_RV rv) { return client::recovery_step(rv) == client::RecoveryStep::reinitialize; }

void pad(CK_UTF8CHAR* field, size_t n, std::string_view text) {
  std::memset(field, ' ', n);
  std::memcpy(field, text.data(), std::min(n, text.size()));
}

}  // namespace

Status forward_rv(CK_RV rv, const char* function) {
  if (rv == CKR_OK) return {};
  return make_error(rv, std::string("bridged ") + function + ": " + rv_name(rv));
}

Result<std::shared_ptr<Bridge>> Bridge::open(const BridgeConfig& config, CK_SLOT_ID base) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Library> lib, Library::load(config.module));
  std::string name = "bridge " + config.module;
  if (!config.selector.empty()) name += " (" + config.selector.describe() + ")";
  std::shared_ptr<Bridge> bridge(new Bridge(lib, std::move(name), base));
  std::vector<Pin> pins;
  if (!config.selector.empty()) {
    pins.push_back(Pin{config.selector, std::nullopt});
  } else {
    auto ids = lib->module().slots(true);
    if (!ids.ok()) return make_error(ids.error().rv != CKR_OK ? ids.error().rv : CKR_DEVICE_ERROR, ids.error().message);
    for (CK_SLOT_ID id : *ids) pins.push_back(Pin{{}, id});
  }
  if (pins.size() >= App::kBridgeSpan) pins.resize(App::kBridgeSpan - 1);
  for (Pin& pin : pins) {
    auto slot = std::make_unique<Slot>();
    slot->pin = std::move(pin);
    slot->last_label = slot->pin.selector.label;
    bridge->slots_.push_back(std::move(slot));
  }
  for (size_t j = 0; j < bridge->slots_.size(); ++j) {
    if (bridge->bind(j).ok()) continue;
    log().warn("{}: no token yet; the slot waits for it", bridge->where(j));
    std::lock_guard lock(bridge->slots_[j]->mu);
    bridge->slots_[j]->missing = true;
  }
  return bridge;
}

std::string Bridge::where(size_t j) const {
  char id[32];
  std::snprintf(id, sizeof id, "%#lx", static_cast<unsigned long>(base_ + j));
  return name_ + ", slot " + id;
}

std::optional<Bridge::Found> Bridge::find(size_t j) {
  const Pin& pin = slots_[j]->pin;  // never changes after open
  auto held = lib_->calls();
  const uint64_t epoch = lib_->epoch();
  if (pin.library_slot) {
    auto info = lib_->module().token_info(*pin.library_slot);
    if (!info.ok()) return std::nullopt;
    return Found{*pin.library_slot, *info, epoch};
  }
  auto found = lib_->module().find_token(pin.selector);
  if (!found.ok()) return std::nullopt;
  return Found{found->first, found->second, epoch};
}

Result<Bridge::Binding> Bridge::bind(size_t j) {
  Slot& s = *slots_[j];
  const auto now = Clock::now();
  {
    std::lock_guard lock(s.mu);
    if (s.present && s.bound.epoch == lib_->epoch()) return s.bound;
    if (!s.present) {
      if (now < s.next_try) return make_error(CKR_TOKEN_NOT_PRESENT, where(j) + ": its token is not present");
      s.next_try = now + s.delay;  // this try; the next one waits longer
      s.delay = std::clamp(s.delay * 2, kLookAgain.initial, kLookAgain.max);
    }
    // Present but found in an older epoch: the library was re-initialised, which it
    // only is with no session open, so nothing ends — the token is found again now.
  }

  std::optional<Found> found = find(j);
  if (!found && lib_->reinitialize_if_idle()) found = find(j);

  std::lock_guard lock(s.mu);
  if (s.present && s.bound.epoch == lib_->epoch()) return s.bound;  // another call found it first
  if (!found || found->epoch != lib_->epoch()) {
    if (s.present) {
      s.present = false;
      ++s.bound.generation;
      s.next_try = now + s.delay;
      s.missing = true;
      log().warn("{}: the token is gone (not found after the library's re-initialisation)", where(j));
    }
    return make_error(CKR_TOKEN_NOT_PRESENT, where(j) + ": its token is not present");
  }
  s.present = true;
  s.bound.under = found->slot;
  s.bound.epoch = found->epoch;
  s.delay = kLookAgain.initial;
  if (found->info.flags & CKF_TOKEN_INITIALIZED)
    s.last_label = client::trim_label(found->info.label, sizeof found->info.label);
  if (s.missing) log().warn("{}: its token is back (the library's slot {})", where(j), found->slot);
  s.missing = false;
  return s.bound;
}

Result<CK_TOKEN_INFO> Bridge::look(size_t j, const Binding& b) {
  CK_TOKEN_INFO info{};
  CK_RV rv = lib_->functions()->C_GetTokenInfo(b.under, &info);
  if (rv == CKR_OK && slots_[j]->pin.matches(b.under, info)) {
    if (info.flags & CKF_TOKEN_INITIALIZED) {
      std::lock_guard lock(slots_[j]->mu);
      slots_[j]->last_label = client::trim_label(info.label, sizeof info.label);
    }
    return info;
  }
  const std::string why =
      rv == CKR_OK ? "another token is in the library's slot" : std::string("C_GetTokenInfo: ") + rv_name(rv);
  lost(j, b.generation, why);
  return make_error(token_gone(rv) ? rv : CKR_TOKEN_NOT_PRESENT, where(j) + ": " + why);
}

void Bridge::lost(size_t j, uint64_t generation, const std::string& why) {
  Slot& s = *slots_[j];
  std::vector<std::shared_ptr<BridgeSession>> ending;
  {
    std::lock_guard lock(s.mu);
    if (!s.present || s.bound.generation != generation) return;  // already lost (and perhaps back)
    s.present = false;
    ++s.bound.generation;
    s.next_try = Clock::now();  // the next slot-level call looks for it
    s.delay = kLookAgain.initial;
    s.missing = true;
    for (auto& w : s.sessions)
      if (auto p = w.lock()) ending.push_back(std::move(p));
    s.sessions.clear();
  }
  log().warn("{}: the token is gone ({}); {} session(s) on it end", where(j), why, ending.size());
  for (auto& p : ending) retire(*p);
}

CK_RV Bridge::settle_slot(size_t j, const Binding& b, CK_RV rv, const char* function) {
  if (token_gone(rv)) lost(j, b.generation, std::string(function) + ": " + rv_name(rv));
  return rv;
}

bool Bridge::adopt(size_t j, const Binding& b, const std::shared_ptr<BridgeSession>& session) {
  Slot& s = *slots_[j];
  std::lock_guard lock(s.mu);
  if (!s.present || s.bound.generation != b.generation) return false;
  std::erase_if(s.sessions, [](const std::weak_ptr<BridgeSession>& w) { return w.expired(); });
  s.sessions.push_back(session);
  return true;
}

CK_RV Bridge::retire(BridgeSession& s, bool close_under) {
  std::unique_lock hold(s.gate);
  if (s.closed.load()) return CKR_SESSION_HANDLE_INVALID;
  s.closed = true;
  CK_RV rv = close_under ? lib_->functions()->C_CloseSession(s.under) : CKR_OK;
  lib_->session_closed();
  return rv;
}

void Bridge::settle_session(BridgeSession& session, CK_RV rv) {
  if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED) {
    log().warn("{}: the library ended its session {:#x} ({})", where(session.index), session.under, rv_name(rv));
    retire(session, false);
    return;
  }
  if (token_gone(rv)) {
    lost(session.index, session.generation, rv_name(rv));
    return;
  }
  if (rv != CKR_GENERAL_ERROR) return;
  // SoftHSMv2 answers CKR_GENERAL_ERROR on the sessions of a token whose files are
  // gone: whether that is what happened, the token itself tells.
  Slot& s = *slots_[session.index];
  Binding b;
  {
    std::lock_guard lock(s.mu);
    if (!s.present || s.bound.generation != session.generation) return;
    b = s.bound;
  }
  auto held = lib_->calls();
  if (lib_->epoch() == b.epoch) (void)look(session.index, b);
}

CK_SLOT_INFO Bridge::absent_slot_info(size_t j) {
  Slot& s = *slots_[j];
  std::lock_guard lock(s.mu);
  CK_SLOT_INFO info{};
  if (s.last_slot_info) {
    info = *s.last_slot_info;
  } else {
    pad(info.slotDescription, sizeof info.slotDescription, name_);
    pad(info.manufacturerID, sizeof info.manufacturerID, "FerroHSM");
  }
  info.flags = (info.flags & ~CK_FLAGS{CKF_TOKEN_PRESENT}) | CKF_REMOVABLE_DEVICE;
  return info;
}

void Bridge::seen_slot_info(size_t j, const CK_SLOT_INFO& info) {
  std::lock_guard lock(slots_[j]->mu);
  slots_[j]->last_slot_info = info;
}

std::optional<std::string> Bridge::last_label(size_t j) {
  std::lock_guard lock(slots_[j]->mu);
  return slots_[j]->last_label;
}

}  // namespace ferrohsm::bridge
