// Message-based encryption and decryption (PKCS#11 3.0 §5.13, §5.15). An argument
// error fails the call but, unlike the single-message operations, leaves the
// context active: it belongs to many messages.
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

namespace {

CK_RV message_init(const char* name, CipherDir d, CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(m);
    return h->message_init(d, s, *m, key);
  });
}

CK_RV message(const char* name, CipherDir d, CK_SESSION_HANDLE s, CK_VOID_PTR param, CK_ULONG param_len,
              CK_BYTE_PTR aad, CK_ULONG aad_len, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
              CK_ULONG_PTR out_len) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(out_len);
    FH_ASSIGN_OR_RETURN(ByteView a, p11::in_bytes(aad, aad_len, "pAssociatedData"));
    FH_ASSIGN_OR_RETURN(ByteView i, p11::in_bytes(in, in_len, "input"));
    return h->message(d, s, param, param_len, a, i, OutBuf{out, out_len});
  });
}

CK_RV begin(const char* name, CipherDir d, CK_SESSION_HANDLE s, CK_VOID_PTR param, CK_ULONG param_len,
            CK_BYTE_PTR aad, CK_ULONG aad_len) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    FH_ASSIGN_OR_RETURN(ByteView a, p11::in_bytes(aad, aad_len, "pAssociatedData"));
    return h->message_begin(d, s, param, param_len, a);
  });
}

CK_RV next(const char* name, CipherDir d, CK_SESSION_HANDLE s, CK_VOID_PTR param, CK_ULONG param_len,
           CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len, CK_FLAGS flags) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(out_len);
    FH_ASSIGN_OR_RETURN(ByteView i, p11::in_bytes(in, in_len, "input part"));
    return h->message_next(d, s, param, param_len, i, OutBuf{out, out_len}, flags);
  });
}

CK_RV final(const char* name, CipherDir d, CK_SESSION_HANDLE s) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    return h->message_final(d, s);
  });
}

}  // namespace

CK_RV fh_C_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return message_init("C_MessageEncryptInit", CipherDir::Encrypt, hSession, pMechanism, hKey);
}

CK_RV fh_C_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                          CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext,
                          CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen) {
  return message("C_EncryptMessage", CipherDir::Encrypt, hSession, pParameter, ulParameterLen, pAssociatedData,
                 ulAssociatedDataLen, pPlaintext, ulPlaintextLen, pCiphertext, pulCiphertextLen);
}

CK_RV fh_C_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                               CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen) {
  return begin("C_EncryptMessageBegin", CipherDir::Encrypt, hSession, pParameter, ulParameterLen, pAssociatedData,
               ulAssociatedDataLen);
}

CK_RV fh_C_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                              CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart,
                              CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags) {
  return next("C_EncryptMessageNext", CipherDir::Encrypt, hSession, pParameter, ulParameterLen, pPlaintextPart,
              ulPlaintextPartLen, pCiphertextPart, pulCiphertextPartLen, flags);
}

CK_RV fh_C_MessageEncryptFinal(CK_SESSION_HANDLE hSession) {
  return final("C_MessageEncryptFinal", CipherDir::Encrypt, hSession);
}

CK_RV fh_C_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return message_init("C_MessageDecryptInit", CipherDir::Decrypt, hSession, pMechanism, hKey);
}

CK_RV fh_C_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                          CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext,
                          CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen) {
  return message("C_DecryptMessage", CipherDir::Decrypt, hSession, pParameter, ulParameterLen, pAssociatedData,
                 ulAssociatedDataLen, pCiphertext, ulCiphertextLen, pPlaintext, pulPlaintextLen);
}

CK_RV fh_C_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                               CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen) {
  return begin("C_DecryptMessageBegin", CipherDir::Decrypt, hSession, pParameter, ulParameterLen, pAssociatedData,
               ulAssociatedDataLen);
}

CK_RV fh_C_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                              CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart,
                              CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags) {
  return next("C_DecryptMessageNext", CipherDir::Decrypt, hSession, pParameter, ulParameterLen, pCiphertextPart,
              ulCiphertextPartLen, pPlaintextPart, pulPlaintextPartLen, flags);
}

CK_RV fh_C_MessageDecryptFinal(CK_SESSION_HANDLE hSession) {
  return final("C_MessageDecryptFinal", CipherDir::Decrypt, hSession);
}
