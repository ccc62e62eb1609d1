// Key generation, signatures, ciphers and digests.
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

using namespace ferrohsm;
using p11::guard;

namespace {

Status out_args(CK_BYTE_PTR data, CK_ULONG_PTR len) {
  (void)data;
  FH_NOT_NULL(len);
  return {};
}

}  // namespace

// An argument error ends the operation, like any failure but CKR_BUFFER_TOO_SMALL.
#define FH_ARGS_OR_END(h, sess, kind, expr)   \
  do {                                         \
    Status fh_a_ = (expr);                     \
    if (!fh_a_.ok()) {                         \
      (h)->end_operation(sess, kind);          \
      return fh_a_;                            \
    }                                          \
  } while (0)
#define FH_BYTES_OR_END(var, h, sess, kind, expr) \
  auto var##_r = (expr);                          \
  if (!var##_r.ok()) {                            \
    (h)->end_operation(sess, kind);               \
    return var##_r.error();                       \
  }                                               \
  ByteView var = *var##_r

CK_RV fh_C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate,
                       CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey) {
  return guard("C_GenerateKey", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    FH_NOT_NULL(phKey);
    if (pTemplate == nullptr && ulCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session_slot(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulCount));
    FH_ASSIGN_OR_RETURN(*phKey, h->generate_key(hSession, *pMechanism, tmpl));
    return {};
  });
}

CK_RV fh_C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                           CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                           CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                           CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey) {
  return guard("C_GenerateKeyPair", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    FH_NOT_NULL(phPublicKey);
    FH_NOT_NULL(phPrivateKey);
    if (pPublicKeyTemplate == nullptr && ulPublicKeyAttributeCount != 0)
      return make_error(CKR_ARGUMENTS_BAD, "pPublicKeyTemplate is NULL");
    if (pPrivateKeyTemplate == nullptr && ulPrivateKeyAttributeCount != 0)
      return make_error(CKR_ARGUMENTS_BAD, "pPrivateKeyTemplate is NULL");
    FH_TRY(h->session_slot(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap pub, parse_template(pPublicKeyTemplate, ulPublicKeyAttributeCount));
    FH_ASSIGN_OR_RETURN(AttrMap priv, parse_template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount));
    FH_ASSIGN_OR_RETURN(auto handles, h->generate_key_pair(hSession, *pMechanism, pub, priv));
    *phPublicKey = handles.first;
    *phPrivateKey = handles.second;
    return {};
  });
}

// --- sign / verify ---------------------------------------------------------------

CK_RV fh_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return guard("C_SignInit", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    return h->sign_init(hSession, *pMechanism, hKey);
  });
}

CK_RV fh_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                CK_ULONG_PTR pulSignatureLen) {
  return guard("C_Sign", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Sign, out_args(pSignature, pulSignatureLen));
    FH_BYTES_OR_END(data, h, hSession, OpKind::Sign, p11::in_bytes(pData, ulDataLen, "pData"));
    return h->sign(hSession, data, OutBuf{pSignature, pulSignatureLen});
  });
}

CK_RV fh_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return guard("C_SignUpdate", [&]() -> Status {
    FH_HSM(h);
    FH_BYTES_OR_END(data, h, hSession, OpKind::Sign, p11::in_bytes(pPart, ulPartLen, "pPart"));
    return h->sign_update(hSession, data);
  });
}

CK_RV fh_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen) {
  return guard("C_SignFinal", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Sign, out_args(pSignature, pulSignatureLen));
    return h->sign_final(hSession, OutBuf{pSignature, pulSignatureLen});
  });
}

CK_RV fh_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return guard("C_VerifyInit", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    return h->verify_init(hSession, *pMechanism, hKey);
  });
}

CK_RV fh_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                  CK_ULONG ulSignatureLen) {
  return guard("C_Verify", [&]() -> Status {
    FH_HSM(h);
    FH_BYTES_OR_END(data, h, hSession, OpKind::Verify, p11::in_bytes(pData, ulDataLen, "pData"));
    FH_BYTES_OR_END(sig, h, hSession, OpKind::Verify, p11::in_bytes(pSignature, ulSignatureLen, "pSignature"));
    return h->verify(hSession, data, sig);
  });
}

CK_RV fh_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return guard("C_VerifyUpdate", [&]() -> Status {
    FH_HSM(h);
    FH_BYTES_OR_END(data, h, hSession, OpKind::Verify, p11::in_bytes(pPart, ulPartLen, "pPart"));
    return h->verify_update(hSession, data);
  });
}

CK_RV fh_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen) {
  return guard("C_VerifyFinal", [&]() -> Status {
    FH_HSM(h);
    FH_BYTES_OR_END(sig, h, hSession, OpKind::Verify, p11::in_bytes(pSignature, ulSignatureLen, "pSignature"));
    return h->verify_final(hSession, sig);
  });
}

// --- encrypt / decrypt -------------------------------------------------------------

#define FH_CIPHER_ENTRIES(Name, Dir)                                                                          \
  CK_RV fh_C_##Name##Init(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {   \
    return guard("C_" #Name "Init", [&]() -> Status {                                                          \
      FH_HSM(h);                                                                                                \
      FH_NOT_NULL(pMechanism);                                                                                  \
      return h->cipher_init(Dir, hSession, *pMechanism, hKey);                                                  \
    });                                                                                                         \
  }

FH_CIPHER_ENTRIES(Encrypt, CipherDir::Encrypt)
FH_CIPHER_ENTRIES(Decrypt, CipherDir::Decrypt)

CK_RV fh_C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData,
                   CK_ULONG_PTR pulEncryptedDataLen) {
  return guard("C_Encrypt", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Encrypt, out_args(pEncryptedData, pulEncryptedDataLen));
    FH_BYTES_OR_END(in, h, hSession, OpKind::Encrypt, p11::in_bytes(pData, ulDataLen, "pData"));
    return h->cipher(CipherDir::Encrypt, hSession, in, OutBuf{pEncryptedData, pulEncryptedDataLen});
  });
}

CK_RV fh_C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                         CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen) {
  return guard("C_EncryptUpdate", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Encrypt, out_args(pEncryptedPart, pulEncryptedPartLen));
    FH_BYTES_OR_END(in, h, hSession, OpKind::Encrypt, p11::in_bytes(pPart, ulPartLen, "pPart"));
    return h->cipher_update(CipherDir::Encrypt, hSession, in, OutBuf{pEncryptedPart, pulEncryptedPartLen});
  });
}

CK_RV fh_C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                        CK_ULONG_PTR pulLastEncryptedPartLen) {
  return guard("C_EncryptFinal", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Encrypt, out_args(pLastEncryptedPart, pulLastEncryptedPartLen));
    return h->cipher_final(CipherDir::Encrypt, hSession, OutBuf{pLastEncryptedPart, pulLastEncryptedPartLen});
  });
}

CK_RV fh_C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                   CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen) {
  return guard("C_Decrypt", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Decrypt, out_args(pData, pulDataLen));
    FH_BYTES_OR_END(in, h, hSession, OpKind::Decrypt, p11::in_bytes(pEncryptedData, ulEncryptedDataLen, "pEncryptedData"));
    return h->cipher(CipherDir::Decrypt, hSession, in, OutBuf{pData, pulDataLen});
  });
}

CK_RV fh_C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                         CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return guard("C_DecryptUpdate", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Decrypt, out_args(pPart, pulPartLen));
    FH_BYTES_OR_END(in, h, hSession, OpKind::Decrypt, p11::in_bytes(pEncryptedPart, ulEncryptedPartLen, "pEncryptedPart"));
    return h->cipher_update(CipherDir::Decrypt, hSession, in, OutBuf{pPart, pulPartLen});
  });
}

CK_RV fh_C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen) {
  return guard("C_DecryptFinal", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Decrypt, out_args(pLastPart, pulLastPartLen));
    return h->cipher_final(CipherDir::Decrypt, hSession, OutBuf{pLastPart, pulLastPartLen});
  });
}

// --- digest ------------------------------------------------------------------------------

CK_RV fh_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism) {
  return guard("C_DigestInit", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pMechanism);
    return h->digest_init(hSession, *pMechanism);
  });
}

CK_RV fh_C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
                  CK_ULONG_PTR pulDigestLen) {
  return guard("C_Digest", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Digest, out_args(pDigest, pulDigestLen));
    FH_BYTES_OR_END(data, h, hSession, OpKind::Digest, p11::in_bytes(pData, ulDataLen, "pData"));
    return h->digest(hSession, data, OutBuf{pDigest, pulDigestLen});
  });
}

CK_RV fh_C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return guard("C_DigestUpdate", [&]() -> Status {
    FH_HSM(h);
    FH_BYTES_OR_END(data, h, hSession, OpKind::Digest, p11::in_bytes(pPart, ulPartLen, "pPart"));
    return h->digest_update(hSession, data);
  });
}

CK_RV fh_C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen) {
  return guard("C_DigestFinal", [&]() -> Status {
    FH_HSM(h);
    FH_ARGS_OR_END(h, hSession, OpKind::Digest, out_args(pDigest, pulDigestLen));
    return h->digest_final(hSession, OutBuf{pDigest, pulDigestLen});
  });
}
