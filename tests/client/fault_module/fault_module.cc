// A PKCS#11 module that forwards to a real one and injects faults on demand (test code).
// The function list is the real module's with a few entries replaced by the wrappers
// below; the knobs are atomics set through the exported ferrohsm_fault_* functions.
#include <ferrohsm/cryptoki.h>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

#include "fault_control.h"

#define FAULT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct Knobs {
  std::atomic<long> close_session_every{0}, logout_every{0}, refuse_logins{0}, device_fail_calls{0},
      device_fail_rv{static_cast<long>(CKR_DEVICE_REMOVED)}, slow_sign_ms{0}, max_sessions{0};
  std::atomic<long> sign_inits{0}, signs{0}, find_inits{0}, logins{0}, logouts{0}, opens{0}, faults{0};
} g;

CK_FUNCTION_LIST* g_real = nullptr;
CK_FUNCTION_LIST g_list{};
std::once_flag g_once;
std::atomic<bool> g_forward_finalize{true};
std::mutex g_sessions_mu;
std::set<CK_SESSION_HANDLE> g_sessions;  // sessions open through us

void load_real() {
  const char* target = std::getenv("FERROHSM_FAULT_TARGET");
  if (target == nullptr || *target == '\0') target = "/usr/lib/softhsm/libsofthsm2.so";
  void* h = dlopen(target, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (h == nullptr) return;
  auto get = reinterpret_cast<CK_C_GetFunctionList>(dlsym(h, "C_GetFunctionList"));
  if (get == nullptr || get(&g_real) != CKR_OK) g_real = nullptr;
}

std::atomic<long>* knob(std::string_view name) {
  struct Entry { std::string_view name; std::atomic<long>* value; };
  static const Entry table[] = {
      {"close_session_every", &g.close_session_every}, {"logout_every", &g.logout_every},
      {"refuse_logins", &g.refuse_logins}, {"device_fail_calls", &g.device_fail_calls},
      {"device_fail_rv", &g.device_fail_rv}, {"slow_sign_ms", &g.slow_sign_ms},
      {"max_sessions", &g.max_sessions}, {"sign_inits", &g.sign_inits}, {"signs", &g.signs},
      {"find_inits", &g.find_inits}, {"logins", &g.logins}, {"logouts", &g.logouts}, {"opens", &g.opens},
      {"faults", &g.faults},
  };
  for (const auto& e : table) {
    if (e.name == name) return e.value;
  }
  return nullptr;
}

// Takes one pending device failure, if any.
bool device_failure(CK_RV* rv) {
  long left = g.device_fail_calls.load();
  while (left > 0) {
    if (g.device_fail_calls.compare_exchange_weak(left, left - 1)) {
      ++g.faults;
      *rv = static_cast<CK_RV>(g.device_fail_rv.load());
      return true;
    }
  }
  return false;
}

bool every(std::atomic<long>& n, long count) {
  long every_n = n.load();
  return every_n > 0 && count % every_n == 0;
}

CK_RV forget_session(CK_SESSION_HANDLE h) {
  std::lock_guard lock(g_sessions_mu);
  g_sessions.erase(h);
  return CKR_OK;
}

CK_RV w_Initialize(CK_VOID_PTR args) {
  CK_RV rv = g_real->C_Initialize(args);
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    g_forward_finalize = false;  // someone else in the process owns the real module
    return CKR_OK;
  }
  g_forward_finalize = true;
  return rv;
}

CK_RV w_Finalize(CK_VOID_PTR reserved) {
  {
    std::lock_guard lock(g_sessions_mu);
    g_sessions.clear();
  }
  return g_forward_finalize ? g_real->C_Finalize(reserved) : CKR_OK;
}

CK_RV w_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  return g_real->C_GetTokenInfo(slot, info);
}

CK_RV w_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR out) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  long max = g.max_sessions.load();
  std::lock_guard lock(g_sessions_mu);
  if (max > 0 && static_cast<long>(g_sessions.size()) >= max) return CKR_SESSION_COUNT;
  rv = g_real->C_OpenSession(slot, flags, app, notify, out);
  if (rv == CKR_OK) {
    g_sessions.insert(*out);
    ++g.opens;
  }
  return rv;
}

CK_RV w_CloseSession(CK_SESSION_HANDLE h) {
  CK_RV rv = g_real->C_CloseSession(h);
  forget_session(h);
  return rv;
}

CK_RV w_CloseAllSessions(CK_SLOT_ID slot) {
  CK_RV rv = g_real->C_CloseAllSessions(slot);
  std::lock_guard lock(g_sessions_mu);
  g_sessions.clear();  // tests use one slot per fault module
  return rv;
}

CK_RV w_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  return g_real->C_GetSessionInfo(h, info);
}

CK_RV w_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  ++g.logins;
  long left = g.refuse_logins.load();
  while (left > 0) {
    if (g.refuse_logins.compare_exchange_weak(left, left - 1)) {
      ++g.faults;
      return CKR_PIN_INCORRECT;
    }
  }
  return g_real->C_Login(h, user, pin, len);
}

CK_RV w_Logout(CK_SESSION_HANDLE h) {
  ++g.logouts;
  return g_real->C_Logout(h);
}

CK_RV w_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  ++g.find_inits;
  return g_real->C_FindObjectsInit(h, t, n);
}

CK_RV w_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  long count = ++g.sign_inits;
  if (every(g.close_session_every, count)) {
    ++g.faults;
    g_real->C_CloseSession(h);
    forget_session(h);
    return CKR_SESSION_CLOSED;
  }
  if (every(g.logout_every, count)) {
    ++g.faults;
    g_real->C_Logout(h);
    return CKR_USER_NOT_LOGGED_IN;
  }
  return g_real->C_SignInit(h, m, key);
}

CK_RV w_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  if (long ms = g.slow_sign_ms.load(); ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  ++g.signs;
  return g_real->C_Sign(h, data, len, sig, sig_len);
}

CK_RV w_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key) {
  CK_RV rv;
  if (device_failure(&rv)) return rv;
  return g_real->C_VerifyInit(h, m, key);
}

}  // namespace

FAULT_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {
  if (out == nullptr) return CKR_ARGUMENTS_BAD;
  std::call_once(g_once, [] {
    load_real();
    if (g_real == nullptr) return;
    g_list = *g_real;
    g_list.C_Initialize = w_Initialize;
    g_list.C_Finalize = w_Finalize;
    g_list.C_GetFunctionList = C_GetFunctionList;
    g_list.C_GetTokenInfo = w_GetTokenInfo;
    g_list.C_OpenSession = w_OpenSession;
    g_list.C_CloseSession = w_CloseSession;
    g_list.C_CloseAllSessions = w_CloseAllSessions;
    g_list.C_GetSessionInfo = w_GetSessionInfo;
    g_list.C_Login = w_Login;
    g_list.C_Logout = w_Logout;
    g_list.C_FindObjectsInit = w_FindObjectsInit;
    g_list.C_SignInit = w_SignInit;
    g_list.C_Sign = w_Sign;
    g_list.C_VerifyInit = w_VerifyInit;
  });
  if (g_real == nullptr) return CKR_GENERAL_ERROR;
  *out = &g_list;
  return CKR_OK;
}

FAULT_EXPORT void ferrohsm_fault_set(const char* name, long value) {
  if (auto* k = knob(name ? name : "")) k->store(value);
}

FAULT_EXPORT long ferrohsm_fault_get(const char* name) {
  if (std::string_view(name ? name : "") == "open_sessions") {
    std::lock_guard lock(g_sessions_mu);
    return static_cast<long>(g_sessions.size());
  }
  auto* k = knob(name ? name : "");
  return k ? k->load() : -1;
}

FAULT_EXPORT void ferrohsm_fault_reset() {
  for (const char* name : {"close_session_every", "logout_every", "refuse_logins", "device_fail_calls", "slow_sign_ms",
                           "max_sessions", "sign_inits", "signs", "find_inits", "logins", "logouts", "opens",
                           "faults"}) {
    knob(name)->store(0);
  }
  g.device_fail_rv = static_cast<long>(CKR_DEVICE_REMOVED);
}

FAULT_EXPORT void ferrohsm_fault_close_all() {
  std::set<CK_SESSION_HANDLE> sessions;
  {
    std::lock_guard lock(g_sessions_mu);
    sessions.swap(g_sessions);
  }
  for (CK_SESSION_HANDLE h : sessions) g_real->C_CloseSession(h);
  ++g.faults;
}
