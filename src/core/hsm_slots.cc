// Hsm: slots, tokens, sessions and login state.
#include "core/hsm.h"

#include "core/core.h"

#include "base/log.h"
#include "core/mech/registry.h"
#include "core/seal.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace ferrohsm {
namespace {

void pad(CK_UTF8CHAR* dst, size_t n, std::string_view s) {
  std::memset(dst, ' ', n);
  std::memcpy(dst, s.data(), std::min(n, s.size()));
}

std::string unpad(std::string_view label) {
  size_t end = label.size();
  while (end > 0 && (label[end - 1] == ' ' || label[end - 1] == '\0')) --end;
  return std::string(label.substr(0, end));
}

}  // namespace

Hsm::Hsm(Core& core) : core_(core), cfg_(core.config()), store_(core.store_ptr()) {
  // The tokens present now are no slot event. A store that cannot be read now answers
  // at the first call that needs it.
  auto tokens = token_ids();
  if (tokens.ok()) events_.baseline(std::move(*tokens));
  else log().warn("keystore: the tokens cannot be read yet: {}", tokens.error().message);
}

Hsm::~Hsm() { wipe(); }

void Hsm::wipe() {
  for (const SessionPtr& s : sessions_.all()) s->reset_operations();
  std::shared_lock lock(tokens_mu_);
  for (auto& [slot, t] : tokens_) t->logout();
}

Status Hsm::reload_tokens() {
  FH_ASSIGN_OR_RETURN(std::vector<store::TokenRow> rows, store_->tokens());
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID free_slot, store_->next_slot_id());
  std::unique_lock lock(tokens_mu_);
  std::map<CK_SLOT_ID, std::shared_ptr<Token>> next;
  for (store::TokenRow& r : rows) {
    auto it = tokens_.find(r.slot_id);
    if (it != tokens_.end() && it->second->id() == r.id) {
      next.emplace(r.slot_id, it->second);
    } else {
      next.emplace(r.slot_id, std::make_shared<Token>(*store_, cfg_, std::move(r), &core_.keys()));
    }
  }
  tokens_ = std::move(next);
  free_slot_ = free_slot;
  return {};
}

Result<std::vector<CK_SLOT_ID>> Hsm::slots() {
  FH_TRY(reload_tokens());
  std::shared_lock lock(tokens_mu_);
  std::vector<CK_SLOT_ID> out;
  for (const auto& [slot, t] : tokens_) out.push_back(slot);
  out.push_back(free_slot_);
  return out;
}

Result<std::shared_ptr<Token>> Hsm::token(CK_SLOT_ID slot) {
  {
    std::shared_lock lock(tokens_mu_);
    auto it = tokens_.find(slot);
    if (it != tokens_.end()) return it->second;
    if (slot == free_slot_) return make_error(CKR_TOKEN_NOT_RECOGNIZED, "the token in this slot is not initialised");
  }
  FH_TRY(reload_tokens());
  std::shared_lock lock(tokens_mu_);
  auto it = tokens_.find(slot);
  if (it != tokens_.end()) return it->second;
  if (slot == free_slot_) return make_error(CKR_TOKEN_NOT_RECOGNIZED, "the token in this slot is not initialised");
  return make_error(CKR_SLOT_ID_INVALID, "no slot " + std::to_string(slot));
}

Result<CK_SLOT_INFO> Hsm::slot_info(CK_SLOT_ID slot) {
  auto t = token(slot);
  if (!t.ok() && t.rv() != CKR_TOKEN_NOT_RECOGNIZED) return t.error();
  CK_SLOT_INFO info{};
  pad(info.slotDescription, sizeof info.slotDescription, "FerroHSM slot " + std::to_string(slot));
  pad(info.manufacturerID, sizeof info.manufacturerID, "FerroHSM");
  info.flags = CKF_TOKEN_PRESENT;
  info.hardwareVersion = {0, 1};
  info.firmwareVersion = {0, 1};
  return info;
}

Result<CK_TOKEN_INFO> Hsm::token_info(CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  pad(info.manufacturerID, sizeof info.manufacturerID, "FerroHSM");
  pad(info.model, sizeof info.model, "FerroHSM soft");
  info.ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
  info.ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
  info.ulMaxPinLen = cfg_.pin_max_length;
  info.ulMinPinLen = cfg_.pin_min_length;
  info.ulTotalPublicMemory = info.ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
  info.ulTotalPrivateMemory = info.ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info.hardwareVersion = {0, 1};
  info.firmwareVersion = {0, 1};
  auto t = token(slot);
  if (!t.ok()) {
    if (t.rv() != CKR_TOKEN_NOT_RECOGNIZED) return t.error();
    pad(info.label, sizeof info.label, "");
    pad(info.serialNumber, sizeof info.serialNumber, "");
    info.flags = CKF_RNG | CKF_LOGIN_REQUIRED;
    if (store_->read_only()) info.flags |= CKF_WRITE_PROTECTED;
    return info;
  }
  Token& tok = **t;
  FH_TRY(tok.refresh_row());
  pad(info.label, sizeof info.label, tok.label());
  pad(info.serialNumber, sizeof info.serialNumber, tok.serial());
  info.flags = tok.token_flags();
  size_t count = 0, rw = 0;
  for (const SessionPtr& s : sessions_.on_slot(slot)) {
    ++count;
    if (s->rw()) ++rw;
  }
  info.ulSessionCount = count;
  info.ulRwSessionCount = rw;
  return info;
}

std::optional<std::string> Hsm::token_label(CK_SLOT_ID slot) {
  auto t = token(slot);
  if (!t.ok()) return std::nullopt;
  return (*t)->label();
}

// Every mechanism of the registry: the keystore can do all of them on any of its
// tokens (the App filters them by the token's policy).
Result<std::vector<MechanismCaps>> Hsm::mechanisms(CK_SLOT_ID slot) {
  auto t = token(slot);
  if (!t.ok() && t.rv() != CKR_TOKEN_NOT_RECOGNIZED) return t.error();
  std::vector<MechanismCaps> out;
  for (const mech::Entry& e : registry().entries()) out.push_back(MechanismCaps{e.type, e.info});
  return out;
}

std::vector<std::string> Hsm::logged_in_tokens() {
  std::vector<std::string> out;
  std::shared_lock lock(tokens_mu_);
  for (const auto& [slot, t] : tokens_)
    if (t->role() != Role::None) out.push_back(t->label());
  return out;
}

Result<CK_SLOT_ID> Hsm::session_slot(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  return s->slot_id();
}

size_t Hsm::session_count() { return sessions_.all().size(); }

Status Hsm::init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label32) {
  std::string label = unpad(label32);
  if (store_->read_only()) return make_error(CKR_TOKEN_WRITE_PROTECTED, "the store is open read-only");
  if (so_pin.size() < cfg_.pin_min_length || so_pin.size() > cfg_.pin_max_length)
    return make_error(CKR_PIN_LEN_RANGE, "SO PIN length out of range");
  auto existing = token(slot);
  if (existing.ok()) {
    if (!sessions_.on_slot(slot).empty()) return make_error(CKR_SESSION_EXISTS, "close the token's sessions first");
    FH_TRY((*existing)->reinitialize(so_pin, label));
    log().info("token in slot {} re-initialised", slot);
    return {};
  }
  if (existing.rv() != CKR_TOKEN_NOT_RECOGNIZED) return existing.error();
  FH_ASSIGN_OR_RETURN(SecureBytes key, random_bytes(kTokenKeyBytes));
  FH_ASSIGN_OR_RETURN(SecureBytes serial_raw, random_bytes(8));
  store::TokenRow row;
  row.slot_id = slot;
  row.label = label;
  row.serial = to_hex(serial_raw);
  KdfParams p = KdfParams::fresh(cfg_.kdf_iterations);
  FH_ASSIGN_OR_RETURN(SecureBytes kek, derive_pin_key(so_pin, p));
  FH_ASSIGN_OR_RETURN(row.so_wrap, seal(kek, key, token_key_aad(row.serial, true)));
  row.so_kdf = p.encode();
  FH_TRY(store_->create_token(row));
  FH_TRY(reload_tokens());
  log().info("token '{}' initialised in slot {}", label, slot);
  return {};
}

Status Hsm::delete_token(CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Token> t, token(slot));
  if (!sessions_.on_slot(slot).empty()) return make_error(CKR_SESSION_EXISTS, "the token has open sessions");
  FH_TRY(store_->delete_token(t->id()));
  return reload_tokens();
}

Result<CK_SESSION_HANDLE> Hsm::open_session(CK_SLOT_ID slot, CK_FLAGS flags) {
  if (!(flags & CKF_SERIAL_SESSION))
    return make_error(CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKF_SERIAL_SESSION must be set");
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Token> t, token(slot));
  // A write-protected token opens only read-only sessions (PKCS#11 3.0, C_OpenSession).
  if ((flags & CKF_RW_SESSION) && store_->read_only())
    return make_error(CKR_TOKEN_WRITE_PROTECTED, "the store is open read-only: open a read-only session");
  if (!(flags & CKF_RW_SESSION) && t->role() == Role::SO)
    return make_error(CKR_SESSION_READ_WRITE_SO_EXISTS, "the SO is logged in: only R/W sessions may open");
  CK_SESSION_HANDLE h = sessions_.next_handle();
  sessions_.add(std::make_shared<Session>(h, std::move(t), flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION)));
  return h;
}

Result<SessionPtr> Hsm::session(CK_SESSION_HANDLE h) {
  SessionPtr s = sessions_.get(h);
  if (!s) return make_error(CKR_SESSION_HANDLE_INVALID, "no such session");
  return s;
}

Status Hsm::close_session(CK_SESSION_HANDLE h) {
  SessionPtr s = sessions_.remove(h);
  if (!s) return make_error(CKR_SESSION_HANDLE_INVALID, "no such session");
  s->reset_operations();
  s->token()->drop_session_objects(h);
  if (sessions_.on_slot(s->slot_id()).empty() && s->token()->role() != Role::None) s->token()->logout();
  return {};
}

Status Hsm::close_all_sessions(CK_SLOT_ID slot) {
  auto t = token(slot);
  if (!t.ok() && t.rv() != CKR_TOKEN_NOT_RECOGNIZED) return t.error();
  for (const SessionPtr& s : sessions_.on_slot(slot)) {
    sessions_.remove(s->handle());
    s->reset_operations();
  }
  if (t.ok()) {
    (*t)->drop_session_objects(0);
    if ((*t)->role() != Role::None) (*t)->logout();
  }
  return {};
}

Result<CK_SESSION_INFO> Hsm::session_info(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  CK_SESSION_INFO info{};
  info.slotID = s->slot_id();
  info.flags = s->flags();
  Role r = s->token()->role();
  if (s->rw())
    info.state = r == Role::SO ? CKS_RW_SO_FUNCTIONS : r == Role::User ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
  else
    info.state = r == Role::User ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
  return info;
}

Status Hsm::login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  Token& t = *s->token();
  Role current = t.role();
  switch (user) {
    case CKU_SO:
      if (current == Role::SO) return make_error(CKR_USER_ALREADY_LOGGED_IN, "the SO is already logged in");
      if (current == Role::User) return make_error(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "the user is logged in");
      for (const SessionPtr& other : sessions_.on_slot(s->slot_id()))
        if (!other->rw()) return make_error(CKR_SESSION_READ_ONLY_EXISTS, "an R/O session is open");
      return t.login(Role::SO, pin);
    case CKU_USER:
      if (current == Role::User) return make_error(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in");
      if (current == Role::SO) return make_error(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "the SO is logged in");
      return t.login(Role::User, pin);
    case CKU_CONTEXT_SPECIFIC: {
      if (current != Role::User) return make_error(CKR_USER_NOT_LOGGED_IN, "log in as user first");
      std::lock_guard<std::mutex> lock(s->mu);
      bool* flag = s->context_login_flag();
      if (flag == nullptr)
        return make_error(CKR_OPERATION_NOT_INITIALIZED, "no operation waits for a context-specific login");
      FH_TRY(t.verify_user_pin(pin));
      *flag = false;
      return {};
    }
    default:
      return make_error(CKR_USER_TYPE_INVALID, "unknown user type");
  }
}

Status Hsm::logout(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  if (s->token()->role() == Role::None) return make_error(CKR_USER_NOT_LOGGED_IN, "nobody is logged in");
  for (const SessionPtr& other : sessions_.on_slot(s->slot_id())) other->end_operations_at_logout();
  s->token()->logout();
  return {};
}

Status Hsm::init_pin(CK_SESSION_HANDLE h, std::string_view pin) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  if (!s->rw()) return make_error(CKR_SESSION_READ_ONLY, "C_InitPIN needs an R/W session");
  if (s->token()->role() != Role::SO) return make_error(CKR_USER_NOT_LOGGED_IN, "C_InitPIN needs the SO logged in");
  return s->token()->init_pin(pin);
}

Status Hsm::set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  if (!s->rw()) return make_error(CKR_SESSION_READ_ONLY, "C_SetPIN needs an R/W session");
  Role who = s->token()->role() == Role::SO ? Role::SO : Role::User;
  return s->token()->set_pin(who, old_pin, new_pin);
}

Status Hsm::generate_random(CK_SESSION_HANDLE h, MutableByteView out) {
  FH_TRY(session(h));
  // Straight into the caller's buffer, in pieces RAND_bytes takes (its length is an
  // int): every byte asked for is random, however long the request.
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t at = 0; at < out.size(); at += kPiece) {
    const size_t n = std::min(kPiece, out.size() - at);
    if (RAND_bytes(out.data() + at, static_cast<int>(n)) != 1)
      return make_error(CKR_FUNCTION_FAILED, "the random generator failed");
  }
  return {};
}

Status Hsm::seed_random(CK_SESSION_HANDLE h, ByteView seed) {
  FH_TRY(session(h));
  (void)seed;
  return make_error(CKR_RANDOM_SEED_NOT_SUPPORTED, "the generator is OpenSSL's DRBG and takes no seed");
}

}  // namespace ferrohsm
