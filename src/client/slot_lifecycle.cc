// The slot server's state machine edges: open, login, logout-by-timeout, and the
// recovery ladder's steps (reopen, reauthenticate, reinitialise with backoff, refind).
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/names.h>
#include <ferrohsm/client/pin_chain.h>

#include <thread>

#include "slot_live.h"

namespace ferrohsm::client {

using Clock = std::chrono::steady_clock;

const char* slot_state_name(SlotState state) {
  switch (state) {
    case SlotState::uninitialized: return "uninitialized";
    case SlotState::open: return "open";
    case SlotState::logged_in: return "logged_in";
    case SlotState::terminated: return "terminated";
  }
  return "unknown";
}

void SlotActivity::touch() { last_ns.store(Clock::now().time_since_epoch().count()); }
Clock::time_point SlotActivity::last() const { return Clock::time_point(Clock::duration(last_ns.load())); }

std::string SlotServer::where() const {
  return "slot '" + config_->slot_ref + "' worker " + std::to_string(worker_index_);
}

void SlotServer::emit(const char* name, const std::string& mechanism, Clock::time_point start,
                      const std::string& result, const char* step) const {
  if (!telemetry_) return;
  telemetry_->emit(Event{name, config_->slot_ref, worker_index_, mechanism,
                         std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start), result, step});
}

// uninitialized → open: load the module (shared), find the slot, open the session.
Status SlotServer::open_locked() {
  if (!module_) {
    FH_ASSIGN_OR_RETURN(module_, Module::load(config_->module_path));
  }
  CK_SLOT_ID slot = 0;
  if (config_->token_label) {
    FH_ASSIGN_OR_RETURN(slot, module_->find_token(*config_->token_label));
  } else {
    slot = *config_->slot_id;
  }
  FH_ASSIGN_OR_RETURN(Session session, module_->open_session(slot, config_->read_write));
  live_ = std::make_unique<Live>(std::move(session));
  state_ = SlotState::open;
  failed_ = false;
  return {};
}

Status SlotServer::ensure_open_locked() {
  if (state_ == SlotState::terminated) return Error{ErrorKind::shut_down, CKR_OK, where() + " is shut down"};
  if (state_ == SlotState::uninitialized || !live_) {
    auto opened = open_locked();
    if (!opened) return Error{opened.error().kind, opened.rv(), where() + ": " + opened.error().message};
  }
  return {};
}

Status SlotServer::login_locked(const std::optional<Secret>& pin, PinReason reason) {
  Clock::time_point start = Clock::now();
  const char* event = reason == PinReason::reauth ? "slot.reauth" : "slot.login";
  auto resolved = resolve_pin(pin, config_->pin_callback, PinRequest{config_->slot_ref, worker_index_, reason});
  if (!resolved) {
    emit(event, "", start, error_kind_name(resolved.error().kind));
    return resolved.error();
  }
  Secret secret = std::move(resolved).value();
  Status s = live_->session.login(CKU_USER, secret);
  secret.wipe();
  if (!s) {
    emit(event, "", start, rv_name(s.rv()));
    return Error{s.error().kind, s.rv(), where() + ": " + s.error().message};
  }
  state_ = SlotState::logged_in;
  lost_login_ = false;
  ++activity_->login_epoch;
  emit(event, "", start, "ok");
  return {};
}

// open → logged_in, following the state the token reports first (login is per token:
// another worker's login counts), then the reauthentication policy, then the PIN chain.
Status SlotServer::ensure_logged_in_locked(const std::optional<Secret>& pin) {
  if (state_ == SlotState::logged_in) return {};
  auto token_logged_in = live_->session.logged_in();
  if (!token_logged_in) return Error{token_logged_in.error().kind, token_logged_in.rv(), where() + ": " + token_logged_in.error().message};
  if (*token_logged_in) {
    state_ = SlotState::logged_in;
    lost_login_ = false;
    return {};
  }
  if (lost_login_ && config_->reauthentication == ReauthPolicy::fail) {
    return Error{ErrorKind::reauth_required, CKR_USER_NOT_LOGGED_IN,
                 where() + ": the login was lost (idle timeout or token logout) and the reauthentication policy is "
                           "'fail': call login(slot_ref, pin) first"};
  }
  return login_locked(pin, lost_login_ ? PinReason::reauth : PinReason::login);
}

void SlotServer::drop_session_locked() {
  if (live_) (void)live_->session.close();  // a dead session reports an error here; it goes either way
  live_.reset();
  if (state_ != SlotState::terminated) state_ = SlotState::uninitialized;
}

bool SlotServer::expire_locked(Clock::time_point now) {
  if (config_->idle_timeout.count() <= 0 || state_ != SlotState::logged_in) return false;
  if (now - activity_->last() < config_->idle_timeout) return false;
  Clock::time_point start = Clock::now();
  if (live_) (void)live_->session.logout();  // the session stays open: timeout → open
  if (live_) live_->keys.clear();            // private handles may not survive a logout
  state_ = SlotState::open;
  lost_login_ = true;
  ++activity_->login_epoch;
  emit("slot.logout", "", start, "idle_timeout");
  return true;
}

Status SlotServer::recover_locked(RecoveryStep step, const std::string& mechanism) {
  Clock::time_point start = Clock::now();
  bool was_logged_in = state_ == SlotState::logged_in || lost_login_;
  Status result;
  switch (step) {
    case RecoveryStep::reopen_session: {
      drop_session_locked();  // the broken session never serves another call
      result = open_locked();
      break;
    }
    case RecoveryStep::reauthenticate: {
      ++activity_->login_epoch;
      if (live_) live_->keys.clear();
      state_ = SlotState::open;
      break;
    }
    case RecoveryStep::refind_key: {
      if (live_) live_->keys.clear();
      auto still = live_ ? live_->session.logged_in() : Result<bool>(false);
      if (still.ok() && !*still && state_ == SlotState::logged_in) {
        state_ = SlotState::open;
        ++activity_->login_epoch;
      }
      break;
    }
    case RecoveryStep::reinitialize: {
      drop_session_locked();
      std::chrono::milliseconds delay = config_->backoff.initial;
      for (int attempt = 1; attempt <= config_->backoff.attempts; ++attempt) {
        std::this_thread::sleep_for(delay);
        result = open_locked();
        if (result) break;
        delay = std::min(delay * 2, config_->backoff.max);
      }
      if (!result) {
        failed_ = true;
        result = Error{ErrorKind::device_unavailable, result.rv(),
                       where() + ": re-initialisation gave up after " + std::to_string(config_->backoff.attempts) +
                           " attempts: " + result.error().message};
      }
      break;
    }
    case RecoveryStep::none:
    case RecoveryStep::report_pin:
      return {};
  }
  if (result && state_ == SlotState::open && was_logged_in) lost_login_ = true;
  emit("slot.recover", mechanism, start, result ? "ok" : (result.rv() != CKR_OK ? rv_name(result.rv()) : error_kind_name(result.error().kind)),
       recovery_step_name(step));
  return result;
}

Result<CK_OBJECT_HANDLE> SlotServer::find_key_locked(CK_OBJECT_CLASS klass, std::string_view key_ref) {
  FH_ASSIGN_OR_RETURN(std::string label, resolve_key_label(*config_, key_ref));
  auto cache_key = std::pair{klass, label};
  if (auto it = live_->keys.find(cache_key); it != live_->keys.end()) return it->second;

  CK_ATTRIBUTE templ[] = {
      {CKA_CLASS, &klass, sizeof klass},
      {CKA_LABEL, label.data(), static_cast<CK_ULONG>(label.size())},
  };
  std::vector<CK_OBJECT_HANDLE> found;
  // A private key is invisible while the token is logged out, and in a pool another
  // session may log it out and back in around our search: look again (bounded) while
  // the token says we are logged in, and call it a login problem when it says we are not.
  for (int look = 0; look < 3 && found.empty(); ++look) {
    auto searched = live_->session.find(templ, 2);
    if (!searched) return Error{searched.error().kind, searched.rv(), where() + ": " + searched.error().message};
    found = std::move(searched).value();
    if (!found.empty() || klass != CKO_PRIVATE_KEY) break;
    auto logged_in = live_->session.logged_in();
    if (logged_in.ok() && !*logged_in) {
      return Error{ErrorKind::pkcs11, CKR_USER_NOT_LOGGED_IN, where() + ": token logged out: CKR_USER_NOT_LOGGED_IN"};
    }
  }
  if (found.empty()) {
    return Error{ErrorKind::key_not_found, CKR_OK,
                 where() + ": no " + (klass == CKO_PRIVATE_KEY ? "private" : "public") + " key labelled '" + label +
                     "' (key ref '" + std::string(key_ref) + "')"};
  }
  if (found.size() > 1) {
    return Error{ErrorKind::key_not_found, CKR_OK,
                 where() + ": more than one key labelled '" + label + "': labels of configured keys must be unique"};
  }
  live_->keys.emplace(cache_key, found.front());
  return found.front();
}

}  // namespace ferrohsm::client
