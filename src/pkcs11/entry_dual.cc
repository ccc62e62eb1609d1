// The dual-function calls (PKCS#11 3.0 §5.13 and following). An argument error
// ends both operations, as it would end each of the two updates the call stands for.
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

namespace {

CK_RV dual(const char* name, DualKind d, CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
           CK_ULONG_PTR out_len) {
  return guard(name, [&]() -> Status {
    FH_HSM(h);
    auto input = p11::in_bytes(in, in_len, "input part");
    if (out_len == nullptr || !input.ok()) {
      h->end_operation(s, dual_ops(d).cipher);
      h->end_operation(s, dual_ops(d).other);
      return out_len == nullptr ? make_error(CKR_ARGUMENTS_BAD, "the output length pointer is NULL") : input.error();
    }
    return h->dual_update(d, s, *input, OutBuf{out, out_len});
  });
}

}  // namespace

CK_RV fh_C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                               CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen) {
  return dual("C_DigestEncryptUpdate", DualKind::DigestEncrypt, hSession, pPart, ulPartLen, pEncryptedPart,
              pulEncryptedPartLen);
}

CK_RV fh_C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                               CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return dual("C_DecryptDigestUpdate", DualKind::DecryptDigest, hSession, pEncryptedPart, ulEncryptedPartLen, pPart,
              pulPartLen);
}

CK_RV fh_C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                             CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen) {
  return dual("C_SignEncryptUpdate", DualKind::SignEncrypt, hSession, pPart, ulPartLen, pEncryptedPart,
              pulEncryptedPartLen);
}

CK_RV fh_C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                               CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return dual("C_DecryptVerifyUpdate", DualKind::DecryptVerify, hSession, pEncryptedPart, ulEncryptedPartLen, pPart,
              pulPartLen);
}
