// The hash functions the mechanisms use, in one table: the PKCS#11 digest mechanism,
// the MGF1 constant that names the same hash, the OpenSSL name, the output size and
// the DER DigestInfo prefix of PKCS #1 v1.5 signatures. SHA-1, SHA-2 (with
// SHA-512/224 and SHA-512/256), SHA-3 and MD5 (digest only). The EVP_MD objects are
// fetched once per process (thread-safe) and shared by every operation.
#pragma once

#include "base/bytes.h"

#include <ferrohsm/cryptoki.h>
#include <openssl/evp.h>

#include <span>

namespace ferrohsm::mech {

struct Hash {
  CK_MECHANISM_TYPE mech;     // CKM_SHA256 …
  CK_RSA_PKCS_MGF_TYPE mgf;   // CKG_MGF1_SHA256 …
  const char* name;           // OpenSSL algorithm name
  size_t size;                // output bytes
  ByteView digest_info;       // DER prefix of DigestInfo, followed by the hash
  // MD5: only where a legacy mechanism names it (CKM_MD5, CKM_MD5_RSA_PKCS,
  // CKM_MD5_HMAC); never chosen by a parameter (PSS, OAEP, MGF1, KDFs).
  bool legacy = false;
  const EVP_MD* md() const;   // fetched once
};

const Hash* hash_by_mech(CK_MECHANISM_TYPE digest_mech);  // nullptr when not a supported hash
// As hash_by_mech, but nullptr for the legacy hashes: for the hashes a parameter names.
const Hash* strong_hash_by_mech(CK_MECHANISM_TYPE digest_mech);
// Every hash of the table (digest.cc registers one entry per element).
std::span<const Hash> all_hashes();
const Hash* hash_by_mgf(CK_RSA_PKCS_MGF_TYPE mgf);
const Hash& sha1();
const Hash& sha224();
const Hash& sha256();
const Hash& sha384();
const Hash& sha512();

}  // namespace ferrohsm::mech
