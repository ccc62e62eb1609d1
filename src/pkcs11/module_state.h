// The module's process-wide state: between C_Initialize and C_Finalize, either the
// embedded core (one Core and this process's one App) or, with mode = "sidecar", the
// client of a ferrohsm-server (src/sidecar). The exported functions go to one or the
// other (entry_general.cc); the embedded shims reach the App through FH_HSM.
//
// A call reaches that state only inside a CallScope. The scope counts the call in its
// thread's shard of an in-flight counter, then reads the pointer; C_Finalize swaps the
// pointer to null, wakes threads blocked in C_WaitForSlotEvent, and frees the state only
// once every shard is back to zero. So a call racing C_Finalize either finishes on a live
// state or answers CKR_CRYPTOKI_NOT_INITIALIZED. The hot path takes no lock and writes
// only its own shard's cache line. After fork() the child sees an uninitialised module.
//
// ferrohsm-server runs the same shims for each connection's App: an AppScope makes that
// App the one FH_HSM finds on this thread for the duration of a call.
#pragma once

#include "core/app.h"
#include "wire/args.h"

#include <atomic>
#include <optional>

namespace ferrohsm::sidecar {
class Client;
}

namespace ferrohsm::p11 {

struct ModuleState;

class CallScope {
 public:
  CallScope() noexcept;
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // The application the embedded shims work on (alive until this scope ends), or
  // CKR_CRYPTOKI_NOT_INITIALIZED.
  Result<App*> hsm() const;
  // The sidecar client, when the module runs in sidecar mode.
  sidecar::Client* sidecar() const;

 private:
  std::atomic<long>* calls_;
  ModuleState* state_;
};

// True when the initialised module runs in sidecar mode (a relaxed read: the function
// table's choice; the call then still checks inside its CallScope).
bool sidecar_mode();

// For ferrohsm-server: the App of the connection whose call this thread runs.
class AppScope {
 public:
  explicit AppScope(App* app) noexcept;
  ~AppScope();
  AppScope(const AppScope&) = delete;
  AppScope& operator=(const AppScope&) = delete;

 private:
  App* previous_;
};

// The mechanism of the current application's message-based operation on the session
// (the server lays out per-message parameters by it).
std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, wire::MsgKind kind);

Status initialize(CK_VOID_PTR init_args);
Status finalize(CK_VOID_PTR reserved);

}  // namespace ferrohsm::p11

// Declares the call's scope and `var`, the App it may use until the shim returns.
#define FH_HSM(var)                          \
  ::ferrohsm::p11::CallScope fh_call_scope_; \
  FH_ASSIGN_OR_RETURN(::ferrohsm::App* var, fh_call_scope_.hsm())
