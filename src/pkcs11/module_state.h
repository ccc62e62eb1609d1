// The module's process-wide state: the one Hsm between C_Initialize and C_Finalize.
// Reading it takes no lock (an atomic pointer); only C_Initialize and C_Finalize
// serialise. After fork() the child sees an uninitialised module.
#pragma once

#include "core/hsm.h"

namespace ferrohsm::p11 {

// The initialised Hsm, or CKR_CRYPTOKI_NOT_INITIALIZED.
Result<Hsm*> hsm();

Status initialize(CK_VOID_PTR init_args);
Status finalize(CK_VOID_PTR reserved);

}  // namespace ferrohsm::p11

#define FH_HSM(var) FH_ASSIGN_OR_RETURN(::ferrohsm::Hsm* var, ::ferrohsm::p11::hsm())
