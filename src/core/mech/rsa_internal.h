// Internal to the RSA files: the encryption / recovery factories of rsa_cipher.cc
// that rsa.cc puts on the CKM_RSA_PKCS entry, and the entries rsa_cipher.cc adds
// itself (CKM_RSA_X_509, CKM_RSA_PKCS_OAEP).
#pragma once

#include "core/mech/registry.h"

namespace ferrohsm::mech {

// The RSA modulus sizes FerroHSM generates and uses (bits), as every RSA entry's
// CK_MECHANISM_INFO says. 1024 is the floor because clients and test suites still
// ask for it; a strict policy profile raises the floor, in this one place.
constexpr CK_ULONG kRsaMinBits = 1024;
constexpr CK_ULONG kRsaMaxBits = 8192;

// CKM_RSA_PKCS, CKM_RSA_X_509 and CKM_RSA_PKCS_OAEP, single-part.
Result<std::unique_ptr<CipherOp>> rsa_encrypt(const CK_MECHANISM& mech, KeyPtr key);
Result<std::unique_ptr<CipherOp>> rsa_decrypt(const CK_MECHANISM& mech, KeyPtr key);
// C_SignRecover / C_VerifyRecover for CKM_RSA_PKCS and CKM_RSA_X_509.
Result<std::unique_ptr<CipherOp>> rsa_sign_recover(const CK_MECHANISM& mech, KeyPtr key);
Result<std::unique_ptr<CipherOp>> rsa_verify_recover(const CK_MECHANISM& mech, KeyPtr key);

void register_rsa_cipher(Registry& r);

}  // namespace ferrohsm::mech
