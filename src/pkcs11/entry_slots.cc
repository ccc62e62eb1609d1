// Slots, tokens, sessions and login.
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

#include <cstring>

using namespace ferrohsm;
using p11::guard;

template <typename T>
static Status write_list(const std::vector<T>& items, T* out, CK_ULONG_PTR count) {
  if (out == nullptr) {
    *count = items.size();
    return {};
  }
  if (*count < items.size()) {
    *count = items.size();
    return make_error(CKR_BUFFER_TOO_SMALL, "list buffer too small");
  }
  std::copy(items.begin(), items.end(), out);
  *count = items.size();
  return {};
}

CK_RV fh_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount) {
  return guard("C_GetSlotList", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pulCount);
    // A keystore slot always holds a token (the free slot an uninitialised one); a
    // bridged slot may have lost its token.
    FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, h->slot_list(tokenPresent != CK_FALSE));
    return write_list(slots, pSlotList, pulCount);
  });
}

CK_RV fh_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo) {
  return guard("C_GetSlotInfo", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pInfo);
    FH_ASSIGN_OR_RETURN(*pInfo, h->slot_info(slotID));
    return {};
  });
}

CK_RV fh_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo) {
  return guard("C_GetTokenInfo", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pInfo);
    FH_ASSIGN_OR_RETURN(*pInfo, h->token_info(slotID));
    return {};
  });
}

CK_RV fh_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount) {
  return guard("C_GetMechanismList", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pulCount);
    FH_ASSIGN_OR_RETURN(std::vector<CK_MECHANISM_TYPE> list, h->mechanism_list(slotID));
    return write_list(list, pMechanismList, pulCount);
  });
}

CK_RV fh_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo) {
  return guard("C_GetMechanismInfo", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pInfo);
    FH_ASSIGN_OR_RETURN(*pInfo, h->mechanism_info(slotID, type));
    return {};
  });
}

CK_RV fh_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel) {
  return guard("C_InitToken", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pLabel);
    FH_NOT_NULL(pPin);
    FH_ASSIGN_OR_RETURN(std::string_view pin, p11::in_pin(pPin, ulPinLen, CKR_PIN_LEN_RANGE));
    return h->init_token(slotID, pin, std::string_view(reinterpret_cast<const char*>(pLabel), 32));
  });
}

CK_RV fh_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen) {
  return guard("C_InitPIN", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pPin);
    FH_ASSIGN_OR_RETURN(std::string_view pin, p11::in_pin(pPin, ulPinLen, CKR_PIN_LEN_RANGE));
    return h->init_pin(hSession, pin);
  });
}

CK_RV fh_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
                  CK_ULONG ulNewLen) {
  return guard("C_SetPIN", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pOldPin);
    FH_NOT_NULL(pNewPin);
    FH_ASSIGN_OR_RETURN(std::string_view old_pin, p11::in_pin(pOldPin, ulOldLen, CKR_PIN_INCORRECT));
    FH_ASSIGN_OR_RETURN(std::string_view new_pin, p11::in_pin(pNewPin, ulNewLen, CKR_PIN_LEN_RANGE));
    return h->set_pin(hSession, old_pin, new_pin);
  });
}

CK_RV fh_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                       CK_SESSION_HANDLE_PTR phSession) {
  return guard("C_OpenSession", [&]() -> Status {
    FH_HSM(h);
    (void)pApplication;
    (void)Notify;  // FerroHSM makes no callbacks
    FH_NOT_NULL(phSession);
    FH_ASSIGN_OR_RETURN(*phSession, h->open_session(slotID, flags));
    return {};
  });
}

CK_RV fh_C_CloseSession(CK_SESSION_HANDLE hSession) {
  return guard("C_CloseSession", [&]() -> Status {
    FH_HSM(h);
    return h->close_session(hSession);
  });
}

CK_RV fh_C_CloseAllSessions(CK_SLOT_ID slotID) {
  return guard("C_CloseAllSessions", [&]() -> Status {
    FH_HSM(h);
    return h->close_all_sessions(slotID);
  });
}

CK_RV fh_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo) {
  return guard("C_GetSessionInfo", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pInfo);
    FH_ASSIGN_OR_RETURN(*pInfo, h->session_info(hSession));
    return {};
  });
}

CK_RV fh_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen) {
  return guard("C_Login", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pPin);  // FerroHSM has no protected authentication path
    FH_ASSIGN_OR_RETURN(std::string_view pin, p11::in_pin(pPin, ulPinLen, CKR_PIN_INCORRECT));
    return h->login(hSession, userType, pin);
  });
}

CK_RV fh_C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                     CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen) {
  return guard("C_LoginUser", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pPin);
    if (pUsername == nullptr && ulUsernameLen != 0) return make_error(CKR_ARGUMENTS_BAD, "pUsername is NULL");
    FH_ASSIGN_OR_RETURN(std::string_view pin, p11::in_pin(pPin, ulPinLen, CKR_PIN_INCORRECT));
    // Tokens have one user and one SO; a user name is accepted and not used.
    return h->login(hSession, userType, pin);
  });
}

CK_RV fh_C_Logout(CK_SESSION_HANDLE hSession) {
  return guard("C_Logout", [&]() -> Status {
    FH_HSM(h);
    return h->logout(hSession);
  });
}

CK_RV fh_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen) {
  return guard("C_GenerateRandom", [&]() -> Status {
    FH_HSM(h);
    if (RandomData == nullptr && ulRandomLen != 0) return make_error(CKR_ARGUMENTS_BAD, "RandomData is NULL");
    return h->generate_random(hSession, MutableByteView(RandomData, RandomData ? ulRandomLen : 0));
  });
}

CK_RV fh_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen) {
  return guard("C_SeedRandom", [&]() -> Status {
    FH_HSM(h);
    FH_ASSIGN_OR_RETURN(ByteView seed, p11::in_bytes(pSeed, ulSeedLen, "pSeed"));
    return h->seed_random(hSession, seed);
  });
}

CK_RV fh_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved) {
  return guard("C_WaitForSlotEvent", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pSlot);
    if (pReserved != nullptr) return make_error(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
    FH_ASSIGN_OR_RETURN(std::optional<CK_SLOT_ID> slot, h->slot_event(!(flags & CKF_DONT_BLOCK)));
    if (!slot) return make_error(CKR_NO_EVENT, "no slot event");
    *pSlot = *slot;
    return {};
  });
}

CK_RV fh_C_GetFunctionStatus(CK_SESSION_HANDLE hSession) {
  return guard("C_GetFunctionStatus", [&]() -> Status {
    FH_HSM(h);
    FH_TRY(h->session_slot(hSession));
    return make_error(CKR_FUNCTION_NOT_PARALLEL, "legacy function");
  });
}

CK_RV fh_C_CancelFunction(CK_SESSION_HANDLE hSession) {
  return guard("C_CancelFunction", [&]() -> Status {
    FH_HSM(h);
    FH_TRY(h->session_slot(hSession));
    return make_error(CKR_FUNCTION_NOT_PARALLEL, "legacy function");
  });
}
