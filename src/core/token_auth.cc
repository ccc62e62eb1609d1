// Token: authentication — the PIN check every path shares (C_Login for SO and user,
// the context-specific login, C_SetPIN, C_InitToken on an initialised token), login
// state, and the PIN changes.
//
// The PIN check counts the attempt in the store *before* the slow PBKDF2 starts
// (SqliteStore::take_pin_attempt, one write transaction that refuses at the limit) and
// clears the count only when the PIN was right. Concurrent attempts from any number
// of threads and processes are therefore never together granted more than
// max_failed_logins wrong guesses. An attempt in flight is counted: the token flags
// (CKF_USER_PIN_COUNT_LOW …) may show it before its answer, which is honest.
#include "base/log.h"
#include "core/object_mac.h"
#include "core/seal.h"
#include "core/token.h"

#include <mutex>

namespace ferrohsm {

std::string Token::label() const {
  std::shared_lock lock(auth_mu_);
  return row_.label;
}

std::string Token::serial() const {
  std::shared_lock lock(auth_mu_);
  return row_.serial;
}

Role Token::role() const {
  return login_state().role;
}

bool Token::user_pin_initialized() const {
  std::shared_lock lock(auth_mu_);
  return !row_.user_wrap.empty();
}

CK_FLAGS Token::token_flags() const {
  std::shared_lock lock(auth_mu_);
  CK_FLAGS f = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED;
  if (store_.read_only()) f |= CKF_WRITE_PROTECTED;
  if (!row_.user_wrap.empty()) f |= CKF_USER_PIN_INITIALIZED;
  const uint32_t max = cfg_.max_failed_logins;
  if (row_.user_failures > 0) f |= CKF_USER_PIN_COUNT_LOW;
  if (row_.user_failures + 1 == max) f |= CKF_USER_PIN_FINAL_TRY;
  if (row_.user_failures >= max) f |= CKF_USER_PIN_LOCKED;
  if (row_.so_failures > 0) f |= CKF_SO_PIN_COUNT_LOW;
  if (row_.so_failures + 1 == max) f |= CKF_SO_PIN_FINAL_TRY;
  if (row_.so_failures >= max) f |= CKF_SO_PIN_LOCKED;
  return f;
}

Status Token::refresh_row() {
  FH_ASSIGN_OR_RETURN(store::TokenRow r, store_.token(id_));
  std::unique_lock lock(auth_mu_);
  row_ = std::move(r);
  return {};
}

store::TokenRow Token::row_snapshot() const {
  std::shared_lock lock(auth_mu_);
  return row_;
}

void Token::note_failures(bool so, uint32_t n) {
  std::unique_lock lock(auth_mu_);
  (so ? row_.so_failures : row_.user_failures) = n;
}

Status Token::check_pin_length(std::string_view pin) const {
  if (pin.size() < cfg_.pin_min_length || pin.size() > cfg_.pin_max_length)
    return make_error(CKR_PIN_LEN_RANGE, "PIN length outside " + std::to_string(cfg_.pin_min_length) + ".." +
                                             std::to_string(cfg_.pin_max_length));
  return {};
}

Result<Token::PinCheck> Token::check_pin(bool so, std::string_view pin) {
  FH_TRY(refresh_row());
  const store::TokenRow row = row_snapshot();
  const Bytes& wrap = so ? row.so_wrap : row.user_wrap;
  const char* who = so ? "SO" : "user";
  if (wrap.empty()) return make_error(CKR_USER_PIN_NOT_INITIALIZED, "the user PIN is not initialised");
  if ((so ? row.so_failures : row.user_failures) >= cfg_.max_failed_logins)
    return make_error(CKR_PIN_LOCKED, std::string(who) + " PIN is locked");
  FH_TRY(check_pin_length(pin));
  // The configuration's bounds, before anything is counted or derived: a row asking
  // for 2,000,000,000 iterations must not hang the caller.
  const KdfBounds bounds{cfg_.dev_allow_weak_kdf ? 1 : kMinKdfIterations, kMaxKdfIterations};
  auto params = KdfParams::parse(so ? row.so_kdf : row.user_kdf, bounds);
  if (!params.ok()) {
    log().error("token {}: the stored {} PIN parameters are refused: {}", slot_id_, who, params.error().message);
    return params.error();
  }
  // Another application of this process holds the key this PIN unwrapped from this very
  // wrap: no derivation, nothing counted (the PIN was right; a wrong one never matches).
  if (keys_ != nullptr) {
    if (auto cached = keys_->lookup(id_, wrap, pin)) {
      if ((so ? row.so_failures : row.user_failures) != 0) {
        FH_TRY(store_.clear_pin_failures(id_, so));
        note_failures(so, 0);
      }
      PinCheck fast;
      fast.key = std::move(*cached);
      fast.wrap = wrap;
      return fast;
    }
  }
  // Counted before the derivation; CKR_PIN_LOCKED when another attempt took the last one.
  auto taken = store_.take_pin_attempt(id_, so, cfg_.max_failed_logins);
  if (!taken.ok()) {
    if (taken.rv() == CKR_PIN_LOCKED) note_failures(so, cfg_.max_failed_logins);
    return taken.error();
  }
  note_failures(so, *taken);
  PinCheck pc;
  FH_ASSIGN_OR_RETURN(pc.kek, derive_pin_key(pin, *params));
  auto key = unseal(pc.kek, wrap, token_key_aad(row.serial, so));
  if (!key.ok()) {
    key = unseal(pc.kek, wrap, token_key_aad(row.serial, so, 1));
    pc.legacy = key.ok();
  }
  if (!key.ok()) {
    log().warn("token {}: incorrect {} PIN ({} of {} attempts)", slot_id_, who, *taken, cfg_.max_failed_logins);
    return make_error(CKR_PIN_INCORRECT, "incorrect PIN");
  }
  FH_TRY(store_.clear_pin_failures(id_, so));
  note_failures(so, 0);
  if (keys_ != nullptr && !pc.legacy) keys_->remember(id_, wrap, pin, *key);
  pc.key = std::move(*key);
  pc.wrap = wrap;
  return pc;
}

bool Token::mac_objects(const PinCheck& pc, bool so, ByteView mac_key) {
  const std::string serial_no = serial();
  auto done = store_.mac_unmaced_objects(id_, [&](const store::ObjectRow& r) -> Result<Bytes> {
    if (!pc.legacy && !may_lack_mac(r.meta, r.attrs)) {
      log().error("token {}: object {} has no MAC but holds what only a login can write; it stays refused",
                  slot_id_, r.id);
      return Bytes{};
    }
    return object_mac(mac_key, serial_no, r.id, r.meta, r.attrs);
  });
  if (!done.ok()) {
    log().warn("token {}: objects written without a login cannot be given their MAC now: {}", slot_id_,
               done.error().message);
    return false;
  }
  if (*done > 0) log().info("token {}: {} objects given their integrity MAC", slot_id_, *done);
  if (pc.legacy) {
    // Only now that every object has its MAC: this role's logins become strict.
    auto upgraded = seal(pc.kek, pc.key, token_key_aad(serial_no, so));
    Status st = upgraded.ok() ? store_.replace_wrap(id_, so, pc.wrap, *upgraded) : Status(upgraded.error());
    if (!st.ok()) log().warn("token {}: the {} PIN's wrap stays version 1 for now: {}", slot_id_, so ? "SO" : "user",
                             st.error().message);
  }
  return true;
}

Status Token::login(Role role, std::string_view pin) {
  const bool so = role == Role::SO;
  FH_ASSIGN_OR_RETURN(PinCheck pc, check_pin(so, pin));
  FH_ASSIGN_OR_RETURN(SecureBytes mac_key, derive_object_mac_key(pc.key));
  const bool all_maced = mac_objects(pc, so, mac_key);
  {
    std::unique_lock lock(auth_mu_);
    const uint64_t epoch = login_state().epoch;
    set_login(role, so ? epoch : epoch + 1);
    token_key_ = std::move(pc.key);
    mac_key_ = std::move(mac_key);
    // A legacy token whose objects could not be MAC'd now (a read-only store, or one
    // another process holds): its objects from before MACs are taken as they are, as
    // before MACs existed, for this login only.
    trust_unmaced_ = pc.legacy && !all_maced;
    if (keys_ != nullptr && !holding_key_) {
      keys_->hold(id_);
      holding_key_ = true;
    }
  }
  // Objects cached before login lack their sealed values and private objects.
  std::unique_lock lock(obj_mu_);
  clear_cache();
  return {};
}

Status Token::verify_user_pin(std::string_view pin) {
  FH_TRY(check_pin(false, pin));
  return {};
}

void Token::logout() {
  {
    std::unique_lock lock(auth_mu_);
    set_login(Role::None, login_state().epoch);
    for (SecureBytes* k : {&token_key_, &mac_key_}) {
      secure_wipe(k->data(), k->size());
      k->clear();
      k->shrink_to_fit();
    }
    trust_unmaced_ = false;
    if (keys_ != nullptr && holding_key_) {
      keys_->release(id_);
      holding_key_ = false;
    }
  }
  std::unique_lock lock(obj_mu_);
  clear_cache();
  for (auto it = session_.begin(); it != session_.end();) {
    if (it->second->is_private()) {
      it->second->mark_destroyed();
      it = session_.erase(it);
    } else {
      ++it;
    }
  }
}

Status Token::init_pin(std::string_view pin) {
  FH_TRY(check_pin_length(pin));
  FH_TRY(refresh_row());
  store::TokenRow row;
  SecureBytes key;
  {
    std::shared_lock lock(auth_mu_);
    if (login_state().role != Role::SO) return make_error(CKR_USER_NOT_LOGGED_IN, "C_InitPIN needs the SO logged in");
    row = row_;
    key = token_key_;
  }
  KdfParams p = KdfParams::fresh(cfg_.kdf_iterations);
  FH_ASSIGN_OR_RETURN(SecureBytes kek, derive_pin_key(pin, p));
  FH_ASSIGN_OR_RETURN(row.user_wrap, seal(kek, key, token_key_aad(row.serial, false)));
  row.user_kdf = p.encode();
  FH_TRY(store_.update_token(row, store::TokenUpdate{.reset_user_failures = true}));
  row.user_failures = 0;
  std::unique_lock lock(auth_mu_);
  row_ = std::move(row);
  return {};
}

Status Token::set_pin(Role who, std::string_view old_pin, std::string_view new_pin) {
  const bool so = who == Role::SO;
  FH_ASSIGN_OR_RETURN(PinCheck pc, check_pin(so, old_pin));
  FH_TRY(check_pin_length(new_pin));
  if (pc.legacy) {
    // The new wrap is version 2: the objects from before MACs must have theirs first.
    FH_ASSIGN_OR_RETURN(SecureBytes mac_key, derive_object_mac_key(pc.key));
    if (!mac_objects(pc, so, mac_key))
      return make_error(CKR_DEVICE_ERROR, "the token's objects could not be given their MAC now; try again");
  }
  const SecureBytes& key = pc.key;
  store::TokenRow row = row_snapshot();
  KdfParams p = KdfParams::fresh(cfg_.kdf_iterations);
  FH_ASSIGN_OR_RETURN(SecureBytes kek, derive_pin_key(new_pin, p));
  FH_ASSIGN_OR_RETURN(Bytes new_wrap, seal(kek, key, token_key_aad(row.serial, so)));
  (so ? row.so_wrap : row.user_wrap) = std::move(new_wrap);
  (so ? row.so_kdf : row.user_kdf) = p.encode();
  FH_TRY(store_.update_token(row));
  if (keys_ != nullptr) keys_->forget(id_);  // the old PIN's verifier goes with its wrap
  std::unique_lock lock(auth_mu_);
  row_ = std::move(row);
  return {};
}

Status Token::reinitialize(std::string_view so_pin, const std::string& label) {
  FH_TRY(check_pin(true, so_pin));
  store::TokenRow row = row_snapshot();
  FH_ASSIGN_OR_RETURN(SecureBytes key, random_bytes(kTokenKeyBytes));
  KdfParams p = KdfParams::fresh(cfg_.kdf_iterations);
  FH_ASSIGN_OR_RETURN(SecureBytes kek, derive_pin_key(so_pin, p));
  FH_ASSIGN_OR_RETURN(row.so_wrap, seal(kek, key, token_key_aad(row.serial, true)));
  row.so_kdf = p.encode();
  row.user_wrap.clear();
  row.user_kdf.clear();
  row.so_failures = row.user_failures = 0;
  row.label = label;
  FH_TRY(store_.update_token(
      row, store::TokenUpdate{.drop_objects = true, .reset_so_failures = true, .reset_user_failures = true}));
  if (keys_ != nullptr) keys_->forget(id_);
  logout();
  {
    std::unique_lock lock(obj_mu_);
    for (auto& [h, o] : session_) o->mark_destroyed();
    session_.clear();
  }
  std::unique_lock lock(auth_mu_);
  row_ = std::move(row);
  return {};
}

}  // namespace ferrohsm
