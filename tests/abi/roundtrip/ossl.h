// Independent computations with OpenSSL 3 for the round-trip suite: public keys
// rebuilt from PKCS#11 attributes, signature checks, RSA public operations, ciphers
// (including AEADs and key wrap), MACs and KDFs through EVP.
#pragma once

#include <openssl/core.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "fixture/ossl_check.h"
#include "roundtrip/context.h"
#include "roundtrip/curves.h"

namespace ferrohsm::abi::roundtrip {

// From CKA_MODULUS/CKA_PUBLIC_EXPONENT or CKA_EC_PARAMS/CKA_EC_POINT of a public key
// on any curve of curves.h. nullptr (and a test failure) when it cannot be rebuilt.
Pkey PublicOf(Ctx& c, CK_OBJECT_HANDLE pub);
// A fresh OpenSSL key on a curve (the peer of a key agreement).
Pkey OsslKey(const CurveInfo& curve);
// The public value as PKCS#11 ECDH takes it: the uncompressed point (EC) or the raw
// u-coordinate (Montgomery).
Bytes RawPublic(EVP_PKEY* key);
Bytes OsslDerive(EVP_PKEY* priv, EVP_PKEY* peer);

// Signature checks. `md` is an OpenSSL digest name ("SHA256", "SHA3-256"), or
// nullptr when the data is already the digest (raw mechanisms).
bool VerifyPkcs1(EVP_PKEY* key, const char* md, const Bytes& data, const Bytes& sig);
bool VerifyPss(EVP_PKEY* key, const char* md, const char* mgf_md, int salt_len, bool prehashed, const Bytes& data,
               const Bytes& sig);
bool VerifyEcdsa(EVP_PKEY* key, const Bytes& digest, const Bytes& raw_sig);
bool VerifyEddsa(EVP_PKEY* key, const Bytes& data, const Bytes& sig);
// RSA public-key operations (padding RSA_PKCS1_PADDING, RSA_NO_PADDING, RSA_PKCS1_OAEP_PADDING).
Bytes RsaVerifyRecover(EVP_PKEY* key, int padding, const Bytes& sig);
Bytes RsaEncrypt(EVP_PKEY* key, int padding, const Bytes& data, const char* oaep_md = nullptr,
                 const char* mgf_md = nullptr, const Bytes& label = {});

// Ciphers by OpenSSL name, in `libctx` (nullptr: the default one). `cts_mode` sets
// the CBC-CTS variant ("CS3"). Empty on failure.
Bytes Cipher(OSSL_LIB_CTX* libctx, const std::string& name, bool encrypt, const Bytes& key, const Bytes& iv,
             const Bytes& data, bool pad, const char* cts_mode = nullptr);
// AEAD encryption (GCM, CCM, ChaCha20-Poly1305): ciphertext || tag.
Bytes AeadEncrypt(const std::string& name, const Bytes& key, const Bytes& nonce, const Bytes& aad, const Bytes& data,
                  size_t tag_len);
// AES key wrap ("AES-128-WRAP", "AES-192-WRAP-PAD" …).
Bytes KeyWrap(const std::string& name, const Bytes& kek, const Bytes& data);
std::string Aes(size_t key_bytes, const char* mode);  // "AES-128-" + mode
Bytes Cmac(const Bytes& key, const Bytes& data);
// EVP_KDF by name with the given parameters (OSSL_PARAM_END is appended).
Bytes Kdf(const char* name, std::vector<OSSL_PARAM> params, size_t out_len);

// The legacy provider's library context (single DES), or nullptr where it is absent.
OSSL_LIB_CTX* LegacyContext();

}  // namespace ferrohsm::abi::roundtrip
