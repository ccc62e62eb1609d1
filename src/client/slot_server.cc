// The slot server's calls: each takes the worker lock, runs through the recovery
// ladder (run_locked) and ends in one telemetry event.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/names.h>

#include "slot_live.h"

namespace ferrohsm::client {

using Clock = std::chrono::steady_clock;

namespace {
std::string result_name(const Error& e) { return e.rv != CKR_OK ? rv_name(e.rv) : error_kind_name(e.kind); }
}  // namespace

SlotServer::SlotServer(std::shared_ptr<const SlotConfig> config, int worker_index,
                       std::shared_ptr<Telemetry> telemetry, std::shared_ptr<SlotActivity> activity)
    : config_(std::move(config)),
      worker_index_(worker_index),
      telemetry_(std::move(telemetry)),
      activity_(activity ? std::move(activity) : std::make_shared<SlotActivity>()) {
  activity_->touch();
}

SlotServer::~SlotServer() { shutdown(); }

Status SlotServer::start() {
  FH_TRY(validate(*config_));
  if (worker_index_ < 1 || worker_index_ > config_->session_pool_size) {
    return Error{ErrorKind::config, CKR_OK,
                 where() + ": worker index must be in 1.." + std::to_string(config_->session_pool_size)};
  }
  std::lock_guard lock(mu_);
  activity_->touch();
  return ensure_open_locked();
}

template <typename T, typename Op>
Result<T> SlotServer::run_locked(const std::optional<Secret>& pin, bool needs_login, const std::string& mechanism,
                                 Op&& op) {
  if (state_ == SlotState::terminated) return Error{ErrorKind::shut_down, CKR_OK, where() + " is shut down"};
  expire_locked(Clock::now());
  activity_->touch();
  for (int steps = 0;; ++steps) {
    std::uint64_t epoch = activity_->login_epoch.load();
    Result<T> r = [&]() -> Result<T> {
      FH_TRY(ensure_open_locked());
      if (needs_login) FH_TRY(ensure_logged_in_locked(pin));
      return op(*live_);
    }();
    if (r.ok()) return r;
    RecoveryStep step = recovery_step(r.rv());
    if (step == RecoveryStep::none && needs_login && r.error().kind == ErrorKind::pkcs11 && live_) {
      // Some modules report a login lost mid-call (another session logged the token out,
      // perhaps in again) as a generic error: if the slot's login moved during the call,
      // or the token says we are logged out, it is a login problem.
      auto still = live_->session.logged_in();
      if (activity_->login_epoch.load() != epoch || (still.ok() && !*still)) step = RecoveryStep::reauthenticate;
    }
    // Only an error the module returned climbs the ladder; our own verdicts (reauth_required,
    // no_pin, a refused PIN, device_unavailable) are the answer.
    if (r.error().kind != ErrorKind::pkcs11 || step == RecoveryStep::none || step == RecoveryStep::report_pin ||
        steps >= kMaxRecoveriesPerCall) {
      return r;
    }
    Status recovered = recover_locked(step, mechanism);
    if (!recovered) return recovered.error();
  }
}

Result<Bytes> SlotServer::sign(std::string_view key_ref, std::span<const std::uint8_t> data,
                               const Mechanism& mechanism, std::optional<Secret> pin) {
  Clock::time_point start = Clock::now();
  std::string mech = mechanism_name(mechanism.type);
  std::lock_guard lock(mu_);
  auto r = run_locked<Bytes>(pin, true, mech, [&](Live& live) -> Result<Bytes> {
    FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, find_key_locked(CKO_PRIVATE_KEY, key_ref));
    auto sig = live.session.sign(mechanism, key, data);
    if (!sig) return Error{sig.error().kind, sig.rv(), where() + ": " + sig.error().message};
    return sig;
  });
  emit("slot.sign", mech, start, r ? "ok" : result_name(r.error()));
  return r;
}

Result<bool> SlotServer::verify(std::string_view key_ref, std::span<const std::uint8_t> data,
                                std::span<const std::uint8_t> signature, const Mechanism& mechanism,
                                std::optional<Secret> pin) {
  Clock::time_point start = Clock::now();
  std::string mech = mechanism_name(mechanism.type);
  std::lock_guard lock(mu_);
  // Public keys need no login; a per-call PIN still logs in (private public-key objects).
  auto r = run_locked<bool>(pin, pin.has_value(), mech, [&](Live& live) -> Result<bool> {
    FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, find_key_locked(CKO_PUBLIC_KEY, key_ref));
    auto ok = live.session.verify(mechanism, key, data, signature);
    if (!ok) return Error{ok.error().kind, ok.rv(), where() + ": " + ok.error().message};
    return ok;
  });
  emit("slot.verify", mech, start, r ? (*r ? "ok" : "CKR_SIGNATURE_INVALID") : result_name(r.error()));
  return r;
}

Status SlotServer::run(std::string_view operation, const SessionOp& op, bool needs_login,
                       std::optional<Secret> pin) {
  Clock::time_point start = Clock::now();
  std::string name(operation);
  std::lock_guard lock(mu_);
  auto r = run_locked<bool>(pin, needs_login, name, [&](Live& live) -> Result<bool> {
    Status s = op(live.session);
    if (!s) return Error{s.error().kind, s.rv(), where() + ": " + s.error().message};
    return true;
  });
  emit("slot.run", name, start, r ? "ok" : result_name(r.error()));
  if (!r) return r.error();
  return {};
}

Status SlotServer::login(std::optional<Secret> pin) {
  std::lock_guard lock(mu_);
  auto r = run_locked<bool>(std::nullopt, false, "", [&](Live& live) -> Result<bool> {
    if (state_ == SlotState::logged_in) {
      auto still = live.session.logged_in();
      if (still.ok() && *still) return true;
      state_ = SlotState::open;
    }
    FH_TRY(login_locked(pin, PinReason::login));  // explicit: the policy does not apply
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status SlotServer::logout() {
  Clock::time_point start = Clock::now();
  std::lock_guard lock(mu_);
  if (state_ == SlotState::terminated) return Error{ErrorKind::shut_down, CKR_OK, where() + " is shut down"};
  activity_->touch();
  Status s;
  if (live_) {
    s = live_->session.logout();
    live_->keys.clear();
    if (s || recovery_step(s.rv()) == RecoveryStep::reopen_session) {
      state_ = SlotState::open;  // explicit: the next sign needs a PIN again, through the PIN chain
      lost_login_ = false;
    }
  }
  emit("slot.logout", "", start, s ? "ok" : result_name(s.error()));
  if (!s && recovery_step(s.rv()) == RecoveryStep::reopen_session) {
    drop_session_locked();  // the session was gone anyway; the next call reopens
    return {};
  }
  return s;
}

SlotState SlotServer::status() {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (lock.owns_lock()) expire_locked(Clock::now());
  return state_.load();
}

bool SlotServer::expire_if_idle(Clock::time_point now) {
  std::unique_lock lock(mu_, std::try_to_lock);  // a busy worker is not idle
  return lock.owns_lock() && expire_locked(now);
}

void SlotServer::shutdown() {
  std::lock_guard lock(mu_);
  if (state_ == SlotState::terminated) return;
  live_.reset();  // closes the session
  state_ = SlotState::terminated;
  module_.reset();
}

std::size_t SlotServer::cached_key_count() const {
  std::lock_guard lock(mu_);
  return live_ ? live_->keys.size() : 0;
}

}  // namespace ferrohsm::client
