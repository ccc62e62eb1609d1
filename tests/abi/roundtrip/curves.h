// The curves the round-trip suite uses: PKCS#11 CKA_EC_PARAMS (DER OID) and the
// OpenSSL names to rebuild or make keys on them.
#pragma once

#include <string>

#include "fixture/attributes.h"

namespace ferrohsm::abi::roundtrip {

enum class CurveFamily { kWeierstrass, kEdwards, kMontgomery };

struct CurveInfo {
  const char* name;       // "P-256", "secp256k1", "brainpoolP256r1", "Ed25519", "X25519" …
  CurveFamily family;
  Bytes params;           // DER OBJECT IDENTIFIER
  const char* ossl_name;  // OpenSSL group name (EC) or key type (Edwards, Montgomery)
  size_t field_bytes;     // r and s length of an ECDSA signature
};

const CurveInfo* FindCurve(const std::string& name);
// Every Weierstrass curve issue 3 names.
const char* const kEcdsaCurves[] = {"P-256",           "P-384",           "P-521",          "secp256k1",
                                    "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"};

}  // namespace ferrohsm::abi::roundtrip
