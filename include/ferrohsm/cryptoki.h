// The PKCS#11 3.0 types, constants and function list, from Debian's libnss3-dev
// headers (OASIS 3.0 names; NSS's vendor extensions are not used). The few 3.0
// names NSS's copy lacks are added below from the specification.
#pragma once

// NSS_PKCS11_2_0_COMPAT stays undefined so that CK_GCM_PARAMS has the 3.0 layout (with ulIvBits).
#include <nss/pkcs11.h>

#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID 0x00000004UL
#endif
#ifndef CKA_NAME_HASH_ALGORITHM
#define CKA_NAME_HASH_ALGORITHM 0x0000008CUL
#endif
#ifndef CKA_DERIVE_TEMPLATE
#define CKA_DERIVE_TEMPLATE (CKF_ARRAY_ATTRIBUTE | 0x00000213UL)
#endif
#ifndef CKR_AEAD_DECRYPT_FAILED
#define CKR_AEAD_DECRYPT_FAILED 0x00000035UL
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED 0x00000202UL
#endif
// CK_C_INITIALIZE_ARGS as PKCS#11 defines it. NSS's header inserts a
// LibraryParameters member before pReserved; every other caller (p11-kit, Java,
// OpenSSH, libp11, Go …) passes this six-member layout, so FerroHSM reads the
// arguments through it and never looks past its end.
typedef struct FH_C_INITIALIZE_ARGS {
  CK_CREATEMUTEX CreateMutex;
  CK_DESTROYMUTEX DestroyMutex;
  CK_LOCKMUTEX LockMutex;
  CK_UNLOCKMUTEX UnlockMutex;
  CK_FLAGS flags;
  CK_VOID_PTR pReserved;
} FH_C_INITIALIZE_ARGS;

#ifndef CKS_RO_PUBLIC_SESSION
#error "PKCS#11 headers not found"
#endif
