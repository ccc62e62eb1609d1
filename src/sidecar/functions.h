// The sidecar implementation of every PKCS#11 function that crosses the wire: sc_C_*,
// one per remote row of base/pkcs11_functions.inc, each encoding its arguments with the
// row's codecs and sending the call on the active Client. The module's function table
// calls these in sidecar mode (src/pkcs11/entry_general.cc).
#pragma once

#include "base/pkcs11_table.h"
#include "sidecar/client.h"

namespace ferrohsm::sidecar {

// The client of the initialised library, or nullptr (set by the module at C_Initialize,
// cleared at C_Finalize; the module keeps calls and finalisation apart).
Client* active();
void set_active(Client* c);

// A few rows are wrapped by hand (src/sidecar/local.cc): their generated call is named
// sc_wire_C_*, and sc_C_* is the hand-written function around it. FH_SC_HAND_<name>
// marks them.
#define FH_SC_HAND_C_GetSlotList ~, 1
#define FH_SC_HAND_C_GenerateRandom ~, 1
#define FH_SC_NAME_0(name) sc_##name
#define FH_SC_NAME_1(name) sc_wire_##name
#define FH_SC_NAME(name) FH_TBL_CAT(FH_SC_NAME_, FH_TBL_SECOND(FH_SC_HAND_##name, 0))(name)

#define FH_FN(name, params, args, codecs) FH_IF_REMOTE(codecs)(CK_RV FH_SC_NAME(name) params;)
#include "base/pkcs11_functions.inc"
#undef FH_FN
CK_RV sc_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount);
CK_RV sc_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen);

// The functions the library answers itself in sidecar mode.
CK_RV sc_local_C_GetInfo(CK_INFO_PTR pInfo);
CK_RV sc_local_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved);
// Takes the slots as they are now as what C_WaitForSlotEvent compares with (C_Initialize:
// events are changes since the library was initialised, as in embedded mode).
void begin_watch();
// Wakes threads waiting in C_WaitForSlotEvent (C_Finalize).
void wake_waiters();

}  // namespace ferrohsm::sidecar
