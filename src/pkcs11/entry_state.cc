// C_GetOperationState / C_SetOperationState: digests only (see core/hsm_state.cc).
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

CK_RV fh_C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                             CK_ULONG_PTR pulOperationStateLen) {
  return guard("C_GetOperationState", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pulOperationStateLen);
    return h->get_operation_state(hSession, OutBuf{pOperationState, pulOperationStateLen});
  });
}

CK_RV fh_C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG ulOperationStateLen,
                             CK_OBJECT_HANDLE hEncryptionKey, CK_OBJECT_HANDLE hAuthenticationKey) {
  return guard("C_SetOperationState", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pOperationState);
    return h->set_operation_state(hSession, ByteView(pOperationState, ulOperationStateLen), hEncryptionKey,
                                  hAuthenticationKey);
  });
}
