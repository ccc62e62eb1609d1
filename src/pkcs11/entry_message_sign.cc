// Message-based signatures and verification (PKCS#11 3.0 §5.14, §5.15). As for
// message-based encryption, an argument error fails the call and leaves the context
// (and a message in progress) as they were.
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

namespace {

CK_RV init(const char* name, OpKind kind, CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(m);
    return h->message_sig_init(kind, s, *m, key);
  });
}

CK_RV begin(const char* name, OpKind kind, CK_SESSION_HANDLE s, CK_VOID_PTR param, CK_ULONG param_len) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    return h->message_sig_begin(kind, s, param, param_len);
  });
}

CK_RV final(const char* name, OpKind kind, CK_SESSION_HANDLE s) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    return h->message_sig_final(kind, s);
  });
}

}  // namespace

CK_RV fh_C_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return init("C_MessageSignInit", OpKind::MessageSign, hSession, pMechanism, hKey);
}

CK_RV fh_C_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData,
                       CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen) {
  return guard("C_SignMessage", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pulSignatureLen);
    FH_ASSIGN_OR_RETURN(ByteView data, p11::in_bytes(pData, ulDataLen, "pData"));
    return h->sign_message(hSession, pParameter, ulParameterLen, data, OutBuf{pSignature, pulSignatureLen});
  });
}

CK_RV fh_C_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen) {
  return begin("C_SignMessageBegin", OpKind::MessageSign, hSession, pParameter, ulParameterLen);
}

// A NULL pulSignatureLen marks a part that is not the last.
CK_RV fh_C_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                           CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                           CK_ULONG_PTR pulSignatureLen) {
  return guard("C_SignMessageNext", [&]() -> Status {
    FH_HSM(h);
    if (pulSignatureLen == nullptr && pSignature != nullptr)
      return make_error(CKR_ARGUMENTS_BAD, "pSignature without pulSignatureLen");
    FH_ASSIGN_OR_RETURN(ByteView data, p11::in_bytes(pData, ulDataLen, "pData"));
    const OutBuf sig{pSignature, pulSignatureLen};
    return h->sign_message_next(hSession, pParameter, ulParameterLen, data, pulSignatureLen ? &sig : nullptr);
  });
}

CK_RV fh_C_MessageSignFinal(CK_SESSION_HANDLE hSession) {
  return final("C_MessageSignFinal", OpKind::MessageSign, hSession);
}

CK_RV fh_C_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return init("C_MessageVerifyInit", OpKind::MessageVerify, hSession, pMechanism, hKey);
}

CK_RV fh_C_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                         CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen) {
  return guard("C_VerifyMessage", [&]() -> Status {
    FH_HSM(h);
    FH_ASSIGN_OR_RETURN(ByteView data, p11::in_bytes(pData, ulDataLen, "pData"));
    FH_ASSIGN_OR_RETURN(ByteView sig, p11::in_bytes(pSignature, ulSignatureLen, "pSignature"));
    return h->verify_message(hSession, pParameter, ulParameterLen, data, sig);
  });
}

CK_RV fh_C_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen) {
  return begin("C_VerifyMessageBegin", OpKind::MessageVerify, hSession, pParameter, ulParameterLen);
}

// A NULL pSignature marks a part that is not the last.
CK_RV fh_C_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                             CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                             CK_ULONG ulSignatureLen) {
  return guard("C_VerifyMessageNext", [&]() -> Status {
    FH_HSM(h);
    FH_ASSIGN_OR_RETURN(ByteView data, p11::in_bytes(pData, ulDataLen, "pData"));
    FH_ASSIGN_OR_RETURN(ByteView sig, p11::in_bytes(pSignature, ulSignatureLen, "pSignature"));
    return h->verify_message_next(hSession, pParameter, ulParameterLen, data, pSignature ? &sig : nullptr);
  });
}

CK_RV fh_C_MessageVerifyFinal(CK_SESSION_HANDLE hSession) {
  return final("C_MessageVerifyFinal", OpKind::MessageVerify, hSession);
}
