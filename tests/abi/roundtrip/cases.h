// The round-trip runners, one per mechanism family. Each runs, for one mechanism,
// an end-to-end operation through the C ABI for every operation flag the module
// reports for it (Ctx::Has), checks the result independently (OpenSSL or a
// published vector), and marks what it exercised (Ctx::Did).
#pragma once

#include "roundtrip/context.h"

namespace ferrohsm::abi::roundtrip {

using Runner = void (*)(Ctx& c, CK_MECHANISM_TYPE m);

// asym_rsa.cc
void RunRsaKeyGen(Ctx& c, CK_MECHANISM_TYPE m);
void RunRsa(Ctx& c, CK_MECHANISM_TYPE m);  // signatures, encryption, wrapping, recovery
// asym_ec.cc
void RunEcKeyGen(Ctx& c, CK_MECHANISM_TYPE m);
void RunEcdsa(Ctx& c, CK_MECHANISM_TYPE m);
void RunEdwards(Ctx& c, CK_MECHANISM_TYPE m);  // CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA
void RunMontgomeryKeyGen(Ctx& c, CK_MECHANISM_TYPE m);
void RunEcdh(Ctx& c, CK_MECHANISM_TYPE m);
// symmetric.cc
void RunSecretKeyGen(Ctx& c, CK_MECHANISM_TYPE m);  // AES, generic, ChaCha20, DES*, HKDF key generation
void RunBlockCipher(Ctx& c, CK_MECHANISM_TYPE m);   // AES ECB/CBC/CBC_PAD/CTR/CTS, DES/3DES
void RunAead(Ctx& c, CK_MECHANISM_TYPE m);          // AES-GCM, AES-CCM, ChaCha20-Poly1305
void RunAesKeyWrap(Ctx& c, CK_MECHANISM_TYPE m);    // KW, KWP, KW with PKCS #7 padding
void RunAesMac(Ctx& c, CK_MECHANISM_TYPE m);        // CMAC, CBC-MAC and their _GENERAL forms
// digest_mac.cc
void RunDigest(Ctx& c, CK_MECHANISM_TYPE m);
void RunHmac(Ctx& c, CK_MECHANISM_TYPE m);
// kdf.cc
void RunHkdf(Ctx& c, CK_MECHANISM_TYPE m);  // CKM_HKDF_DERIVE, CKM_HKDF_DATA
void RunSp800108(Ctx& c, CK_MECHANISM_TYPE m);
void RunPbkdf2(Ctx& c, CK_MECHANISM_TYPE m);
void RunSimpleDerive(Ctx& c, CK_MECHANISM_TYPE m);  // concatenate, AES ECB/CBC encrypt data

// For the runners of secret ciphers: wraps with `m` when the module says it can
// (CKF_WRAP/CKF_UNWRAP), comparing with `reference` when the wrapping is
// deterministic (empty: not compared).
void WrapIfOffered(Ctx& c, CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& target, const Bytes& reference,
                   bool tamper_detected);

}  // namespace ferrohsm::abi::roundtrip
