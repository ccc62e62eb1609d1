// The module's process-wide state: the one Hsm between C_Initialize and C_Finalize.
//
// A call reaches the Hsm only inside a CallScope (FH_HSM declares one). The scope
// counts the call in its thread's shard of an in-flight counter, then reads the
// pointer; C_Finalize swaps the pointer to null, wakes threads blocked in
// C_WaitForSlotEvent, and deletes the Hsm only once every shard is back to zero. So a
// call racing C_Finalize either finishes on a live Hsm or answers
// CKR_CRYPTOKI_NOT_INITIALIZED; it never touches a freed one. The hot path takes no
// lock and writes only its own shard's cache line. After fork() the child sees an
// uninitialised module.
#pragma once

#include "core/hsm.h"

#include <atomic>

namespace ferrohsm::p11 {

class CallScope {
 public:
  CallScope() noexcept;
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // The initialised Hsm (alive until this scope ends), or CKR_CRYPTOKI_NOT_INITIALIZED.
  Result<Hsm*> hsm() const;

 private:
  std::atomic<long>* calls_;
  Hsm* hsm_;
};

Status initialize(CK_VOID_PTR init_args);
Status finalize(CK_VOID_PTR reserved);

}  // namespace ferrohsm::p11

// Declares the call's scope and `var`, the Hsm it may use until the shim returns.
#define FH_HSM(var)                                 \
  ::ferrohsm::p11::CallScope fh_call_scope_;        \
  FH_ASSIGN_OR_RETURN(::ferrohsm::Hsm* var, fh_call_scope_.hsm())
