// Loading and initialising a PKCS#11 library, shared process-wide by path.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/names.h>
#include <ferrohsm/client/session.h>

#include "base/pkcs11_library.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

namespace ferrohsm::client {
namespace {

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
// A load, by path, and the process that made it: after fork() the child inherits the
// parent's Modules (its PKCS#11 state is left behind, never finalised) but they are not
// the child's, which loads and initialises the library again.
struct Loaded {
  std::weak_ptr<Module> module;
  pid_t pid = 0;
};
std::map<std::string, Loaded>& cache() {
  static std::map<std::string, Loaded> c;
  return c;
}

}  // namespace

std::string padded_label(std::string_view label) {
  std::string out(label.substr(0, 32));
  out.resize(32, ' ');
  return out;
}

std::string trim_label(const CK_UTF8CHAR* field, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(field), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::shared_ptr<Module>> Module::load(const std::string& path) {
  std::lock_guard lock(cache_mutex());
  Loaded& entry = cache()[path];
  std::shared_ptr<Module> existing = entry.module.lock();
  if (existing != nullptr && entry.pid == getpid()) return existing;
  // The parent initialised the library before fork(): one that does not start afresh in a
  // child by itself (SoftHSMv2) still holds the parent's sessions and logins here.
  const bool parents = existing != nullptr && existing->owns_initialize_;

  auto loaded = load_pkcs11_library(path);
  if (!loaded) return Error{ErrorKind::load, CKR_OK, loaded.error().message};
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = loaded->functions->C_Initialize(&args);
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED && parents) {
    loaded->functions->C_Finalize(nullptr);
    rv = loaded->functions->C_Initialize(&args);
  }
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    Error e = pkcs11_error(rv, "C_Initialize of " + path);
    e.kind = ErrorKind::load;
    return e;
  }
  std::shared_ptr<Module> module(
      new Module(path, loaded->handle, loaded->functions, loaded->via_interface, loaded->version));
  module->owns_initialize_ = (rv == CKR_OK);
  entry = Loaded{module, getpid()};
  return module;
}

Module::Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool via_interface, CK_VERSION version)
    : path_(std::move(path)), handle_(handle), fn_(fn), via_interface_(via_interface), version_(version) {}

Status Module::reinitialize() {
  std::lock_guard lock(init_mu_);
  if (!owns_initialize_)
    return pkcs11_error(CKR_CRYPTOKI_ALREADY_INITIALIZED, "re-initialise " + path_ + ": another part of the process initialised it");
  if (initialized_) fn_->C_Finalize(nullptr);
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = fn_->C_Initialize(&args);
  initialized_ = rv == CKR_OK;
  if (rv != CKR_OK) return pkcs11_error(rv, "C_Initialize of " + path_ + " (re-initialisation)");
  return {};
}

Module::~Module() {
  std::lock_guard lock(cache_mutex());  // a concurrent load() waits until C_Finalize is done
  if (owns_initialize_ && initialized_) fn_->C_Finalize(nullptr);
  // The handle stays mapped (RTLD_NODELETE); dlclose drops our reference only.
  dlclose(handle_);
}

Result<std::vector<CK_SLOT_ID>> Module::slots(bool token_present) const {
  for (int attempt = 0; attempt < 4; ++attempt) {  // the list can grow between the two calls
    CK_ULONG count = 0;
    CK_RV rv = fn_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, nullptr, &count);
    if (rv != CKR_OK) return pkcs11_error(rv, "C_GetSlotList");
    std::vector<CK_SLOT_ID> ids(count);
    rv = fn_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, ids.data(), &count);
    if (rv == CKR_BUFFER_TOO_SMALL) continue;
    if (rv != CKR_OK) return pkcs11_error(rv, "C_GetSlotList");
    ids.resize(count);
    return ids;
  }
  return pkcs11_error(CKR_BUFFER_TOO_SMALL, "C_GetSlotList kept growing");
}

Result<CK_TOKEN_INFO> Module::token_info(CK_SLOT_ID slot) const {
  CK_TOKEN_INFO info{};
  CK_RV rv = fn_->C_GetTokenInfo(slot, &info);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_GetTokenInfo(slot " + std::to_string(slot) + ")");
  return info;
}

Result<CK_SLOT_ID> Module::find_token(std::string_view label) const {
  FH_ASSIGN_OR_RETURN(auto found, find_token(TokenSelector{std::string(label), {}, {}, {}}));
  return found.first;
}

Result<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> Module::find_token(const TokenSelector& selector) const {
  FH_ASSIGN_OR_RETURN(auto ids, slots(true));
  for (CK_SLOT_ID id : ids) {
    auto info = token_info(id);
    if (info && selector.matches(*info)) return std::pair{id, *info};
  }
  return Error{ErrorKind::pkcs11, CKR_TOKEN_NOT_PRESENT,
               "no token with " + selector.describe() + " in " + path_ + ": CKR_TOKEN_NOT_PRESENT"};
}

Result<Session> Module::open_session(CK_SLOT_ID slot, bool read_write) {
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  CK_RV rv = fn_->C_OpenSession(slot, flags, nullptr, nullptr, &h);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_OpenSession(slot " + std::to_string(slot) + ")");
  return Session(shared_from_this(), slot, h);
}

Status Module::close_all_sessions(CK_SLOT_ID slot) const {
  CK_RV rv = fn_->C_CloseAllSessions(slot);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_CloseAllSessions");
  return {};
}

Status Module::init_token(CK_SLOT_ID slot, const Secret& so_pin, std::string_view label, const Secret& user_pin) {
  std::string padded = padded_label(label);
  CK_RV rv = fn_->C_InitToken(slot, reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(so_pin.data())), so_pin.size(),
                              reinterpret_cast<CK_UTF8CHAR*>(padded.data()));
  if (rv != CKR_OK) return pkcs11_error(rv, "C_InitToken");
  // Some modules (SoftHSMv2) move an initialised token to a new slot id.
  FH_ASSIGN_OR_RETURN(CK_SLOT_ID token_slot, find_token(label));
  FH_ASSIGN_OR_RETURN(Session session, open_session(token_slot, true));
  FH_TRY(session.login(CKU_SO, so_pin));
  FH_TRY(session.init_pin(user_pin));
  FH_TRY(session.logout());
  return {};
}

}  // namespace ferrohsm::client
