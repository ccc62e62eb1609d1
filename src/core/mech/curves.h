// The elliptic curves FerroHSM supports, in one table, and the DER encodings PKCS#11
// uses around them: CKA_EC_PARAMS (an OBJECT IDENTIFIER, or a PrintableString curve
// name) and CKA_EC_POINT (an OCTET STRING wrapping the public point or, for Edwards
// curves, the raw public key; the unwrapped form is accepted too).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string_view>
#include <vector>

namespace ferrohsm::mech {

struct Curve {
  CK_KEY_TYPE key_type;         // CKK_EC, CKK_EC_EDWARDS or CKK_EC_MONTGOMERY
  const char* ossl_name;        // OpenSSL group / key type name
  ByteView oid_der;             // DER of the OBJECT IDENTIFIER (tag and length included)
  std::vector<std::string_view> names;  // accepted PrintableString names
  CK_ULONG bits;                // Key::bits: field bits (EC) or 255 / 448 (Edwards, Montgomery)
  size_t field_bytes;           // EC: bytes of a coordinate / scalar; Edwards, Montgomery: raw key bytes
  size_t signature_bytes;       // ECDSA r||s or EdDSA signature (0: Montgomery, no signatures)
};

// Reads CKA_EC_PARAMS: CKR_ATTRIBUTE_VALUE_INVALID when not DER of an OID or a
// PrintableString, CKR_CURVE_NOT_SUPPORTED for a well-formed name of another curve.
Result<const Curve*> curve_from_params(ByteView ec_params);
const Curve* curve_by_ossl_name(std::string_view name);
// The curve of a key from its type and Key::bits (unique in the table).
const Curve* curve_by_bits(CK_KEY_TYPE key_type, CK_ULONG bits);
// The Weierstrass curve of an OpenSSL NID (nullptr when not in the table).
const Curve* curve_by_nid(int nid);

// DER OCTET STRING around `raw`.
Bytes der_octet_string(ByteView raw);
// DER SubjectPublicKeyInfo (CKA_PUBLIC_KEY_INFO) of a public key of curve `c`:
// `raw_public` is the uncompressed point (EC) or the raw key (Edwards, Montgomery).
// Written directly, because i2d_PUBKEY looks its encoders up on every call, which
// cost more than generating the key.
Bytes subject_public_key_info(const Curve& c, ByteView raw_public);
// CKA_EC_POINT as given to the public key bytes: `raw_len` is the expected length
// of the unwrapped form (for EC the uncompressed point 1 + 2×field bytes; a
// compressed point is also accepted). CKR_ATTRIBUTE_VALUE_INVALID when malformed.
Result<ByteView> unwrap_ec_point(ByteView point, const Curve& c);

}  // namespace ferrohsm::mech
