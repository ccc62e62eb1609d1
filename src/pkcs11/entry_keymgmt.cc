// Key management: wrap, unwrap, derive, digest a key, sign-recover, verify-recover.
#include "core/attributes.h"
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

namespace {
// A wrapping adds at most an IV, padding and a tag to the key's value, which is an
// attribute value: anything longer cannot be a wrapped key (and is not copied).
constexpr CK_ULONG kMaxWrappedKeyBytes = kMaxAttributeValueBytes + 64;
}  // namespace

CK_RV fh_C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey,
                   CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen) {
  return guard("C_WrapKey", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    FH_NOT_NULL(pulWrappedKeyLen);
    return h->wrap_key(hSession, *pMechanism, hWrappingKey, hKey, OutBuf{pWrappedKey, pulWrappedKeyLen});
  });
}

CK_RV fh_C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey,
                     CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
                     CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey) {
  return guard("C_UnwrapKey", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    FH_NOT_NULL(pWrappedKey);
    FH_NOT_NULL(phKey);
    if (pTemplate == nullptr && ulAttributeCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session_slot(hSession));
    if (ulWrappedKeyLen > kMaxWrappedKeyBytes)
      return make_error(CKR_WRAPPED_KEY_LEN_RANGE, "longer than any wrapped key FerroHSM can unwrap");
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulAttributeCount));
    FH_ASSIGN_OR_RETURN(*phKey, h->unwrap_key(hSession, *pMechanism, hUnwrappingKey,
                                              ByteView(pWrappedKey, ulWrappedKeyLen), tmpl));
    return {};
  });
}

CK_RV fh_C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
                     CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey) {
  return guard("C_DeriveKey", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    FH_NOT_NULL(phKey);
    if (pTemplate == nullptr && ulAttributeCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session_slot(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulAttributeCount));
    FH_ASSIGN_OR_RETURN(*phKey, h->derive_key(hSession, *pMechanism, hBaseKey, tmpl));
    return {};
  });
}

CK_RV fh_C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey) {
  return guard("C_DigestKey", [&]() -> Status {
    FH_HSM(h);
    return h->digest_key(hSession, hKey);
  });
}

CK_RV fh_C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return guard("C_SignRecoverInit", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    return h->recover_init(OpKind::SignRecover, hSession, *pMechanism, hKey);
  });
}

CK_RV fh_C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                       CK_ULONG_PTR pulSignatureLen) {
  return guard("C_SignRecover", [&]() -> Status {
    FH_HSM(h);
    auto data = p11::in_bytes(pData, ulDataLen, "pData");
    if (!data.ok() || pulSignatureLen == nullptr) {
      h->end_operation(hSession, OpKind::SignRecover);
      return data.ok() ? make_error(CKR_ARGUMENTS_BAD, "pulSignatureLen is NULL") : data.error();
    }
    return h->recover(OpKind::SignRecover, hSession, *data, OutBuf{pSignature, pulSignatureLen});
  });
}

CK_RV fh_C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return guard("C_VerifyRecoverInit", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    return h->recover_init(OpKind::VerifyRecover, hSession, *pMechanism, hKey);
  });
}

CK_RV fh_C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                         CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen) {
  return guard("C_VerifyRecover", [&]() -> Status {
    FH_HSM(h);
    auto sig = p11::in_bytes(pSignature, ulSignatureLen, "pSignature");
    if (!sig.ok() || pulDataLen == nullptr) {
      h->end_operation(hSession, OpKind::VerifyRecover);
      return sig.ok() ? make_error(CKR_ARGUMENTS_BAD, "pulDataLen is NULL") : sig.error();
    }
    return h->recover(OpKind::VerifyRecover, hSession, *sig, OutBuf{pData, pulDataLen});
  });
}

// Ends the session's operations named by `flags` (CKF_ENCRYPT, CKF_SIGN …).
CK_RV fh_C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags) {
  return guard("C_SessionCancel", [&]() -> Status {
    FH_HSM(h);
    FH_TRY(h->session_slot(hSession));
    for (const OpKindInfo& k : kOpKinds)
      if (flags & k.cancel_flag) h->end_operation(hSession, k.kind);
    return {};
  });
}
