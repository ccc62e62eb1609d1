// General-purpose functions and the three exported symbols: C_GetFunctionList
// (which honestly reports 2.40), C_GetInterfaceList and C_GetInterface (which offer
// "PKCS 11" 3.0 and 2.40). Every other C_* is reached only through these tables.
#include "base/pkcs11_table.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"
#include "sidecar/functions.h"

#include <cstring>

using namespace ferrohsm;

#define FH_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// The mode's choice, once per call: in sidecar mode a function that crosses the wire
// goes to its sc_C_* (src/sidecar), inside a call scope that C_Finalize waits for;
// otherwise to the embedded shim.
#define FH_FN(name, params, args, codecs)                                           \
  FH_IF_REMOTE(codecs)                                                              \
  (CK_RV tr_##name params {                                                       \
    if (p11::sidecar_mode()) {                                                    \
      p11::CallScope scope;                                                       \
      if (scope.sidecar() == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;        \
      return sidecar::sc_##name args;                                             \
    }                                                                             \
    return fh_##name args;                                                        \
  })
#include "base/pkcs11_functions.inc"
#undef FH_FN

// The local functions that differ by mode.
CK_RV tr_C_GetInfo(CK_INFO_PTR pInfo) {
  return p11::sidecar_mode() ? sidecar::sc_local_C_GetInfo(pInfo) : fh_C_GetInfo(pInfo);
}
CK_RV tr_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved) {
  if (p11::sidecar_mode()) {
    p11::CallScope scope;
    if (scope.sidecar() == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;
    return sidecar::sc_local_C_WaitForSlotEvent(flags, pSlot, pReserved);
  }
  return fh_C_WaitForSlotEvent(flags, pSlot, pReserved);
}

CK_FUNCTION_LIST_3_0 make_list_30() {
  CK_FUNCTION_LIST_3_0 l{};
  l.version = {3, 0};
#define FH_FN(name, params, args, codecs) FH_IF_LOCAL(codecs)(l.name = fh_##name;) FH_IF_REMOTE(codecs)(l.name = tr_##name;)
#include "base/pkcs11_functions.inc"
#undef FH_FN
  l.C_GetInfo = tr_C_GetInfo;
  l.C_WaitForSlotEvent = tr_C_WaitForSlotEvent;
  return l;
}

CK_FUNCTION_LIST make_list_240() {
  CK_FUNCTION_LIST l{};
  CK_FUNCTION_LIST_3_0 full = make_list_30();
  static_assert(sizeof(CK_FUNCTION_LIST) <= sizeof(CK_FUNCTION_LIST_3_0));
  std::memcpy(&l, &full, sizeof l);  // the 2.40 list is the 3.0 list's prefix
  l.version = {2, 40};
  return l;
}

CK_FUNCTION_LIST_3_0 g_list_30 = make_list_30();
CK_FUNCTION_LIST g_list_240 = make_list_240();

CK_CHAR g_name[] = "PKCS 11";
CK_INTERFACE g_interfaces[] = {
    {g_name, &g_list_30, 0},
    {g_name, &g_list_240, 0},
};
constexpr CK_ULONG kInterfaceCount = sizeof g_interfaces / sizeof g_interfaces[0];

void pad(CK_UTF8CHAR* dst, size_t n, const char* s) {
  std::memset(dst, ' ', n);
  std::memcpy(dst, s, std::min(n, std::strlen(s)));
}

}  // namespace

CK_RV fh_C_Initialize(CK_VOID_PTR pInitArgs) {
  return p11::guard("C_Initialize", [&] { return p11::initialize(pInitArgs); });
}

CK_RV fh_C_Finalize(CK_VOID_PTR pReserved) {
  return p11::guard("C_Finalize", [&] { return p11::finalize(pReserved); });
}

CK_RV fh_C_GetInfo(CK_INFO_PTR pInfo) {
  return p11::guard("C_GetInfo", [&]() -> Status {
    FH_HSM(h);
    (void)h;
    if (pInfo == nullptr) return make_error(CKR_ARGUMENTS_BAD, "pInfo is NULL");
    std::memset(pInfo, 0, sizeof *pInfo);
    pInfo->cryptokiVersion = {3, 0};
    pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "FerroHSM");
    pad(pInfo->libraryDescription, sizeof pInfo->libraryDescription, "FerroHSM PKCS#11 library");
    pInfo->libraryVersion = {0, 1};
    return {};
  });
}

CK_RV fh_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  if (ppFunctionList == nullptr) return CKR_ARGUMENTS_BAD;
  *ppFunctionList = &g_list_240;
  return CKR_OK;
}

CK_RV fh_C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount) {
  if (pulCount == nullptr) return CKR_ARGUMENTS_BAD;
  if (pInterfacesList == nullptr) {
    *pulCount = kInterfaceCount;
    return CKR_OK;
  }
  if (*pulCount < kInterfaceCount) {
    *pulCount = kInterfaceCount;
    return CKR_BUFFER_TOO_SMALL;
  }
  for (CK_ULONG i = 0; i < kInterfaceCount; ++i) pInterfacesList[i] = g_interfaces[i];
  *pulCount = kInterfaceCount;
  return CKR_OK;
}

CK_RV fh_C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                        CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags) {
  if (ppInterface == nullptr) return CKR_ARGUMENTS_BAD;
  for (CK_INTERFACE& i : g_interfaces) {
    if (pInterfaceName != nullptr &&
        std::strcmp(reinterpret_cast<const char*>(pInterfaceName), reinterpret_cast<const char*>(i.pInterfaceName)))
      continue;
    const CK_VERSION* v = static_cast<const CK_VERSION*>(i.pFunctionList);
    if (pVersion != nullptr && (pVersion->major != v->major || pVersion->minor != v->minor)) continue;
    if ((flags & i.flags) != flags) continue;
    *ppInterface = &i;
    return CKR_OK;
  }
  return CKR_ARGUMENTS_BAD;
}

// The three exported symbols.
FH_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  return fh_C_GetFunctionList(ppFunctionList);
}
FH_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount) {
  return fh_C_GetInterfaceList(pInterfacesList, pulCount);
}
FH_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                               CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags) {
  return fh_C_GetInterface(pInterfaceName, pVersion, ppInterface, flags);
}
