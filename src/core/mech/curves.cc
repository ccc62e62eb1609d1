#include "core/mech/curves.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace ferrohsm::mech {
namespace {

constexpr uint8_t kP256Oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr uint8_t kP384Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr uint8_t kP521Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
constexpr uint8_t kSecp256k1Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
constexpr uint8_t kBp256Oid[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07};
constexpr uint8_t kBp384Oid[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b};
constexpr uint8_t kBp512Oid[] = {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d};
constexpr uint8_t kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
constexpr uint8_t kEd448Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
constexpr uint8_t kX25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
constexpr uint8_t kX448Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};

// Several Weierstrass curves share a field size: key_curve() tells them apart by
// the key's group, not by Key::bits.
const std::array<Curve, 11> kCurves = {{
    {CKK_EC, "prime256v1", kP256Oid, {"prime256v1", "secp256r1", "P-256"}, 256, 32, 64},
    {CKK_EC, "secp384r1", kP384Oid, {"secp384r1", "P-384"}, 384, 48, 96},
    {CKK_EC, "secp521r1", kP521Oid, {"secp521r1", "P-521"}, 521, 66, 132},
    {CKK_EC, "secp256k1", kSecp256k1Oid, {"secp256k1"}, 256, 32, 64},
    {CKK_EC, "brainpoolP256r1", kBp256Oid, {"brainpoolP256r1"}, 256, 32, 64},
    {CKK_EC, "brainpoolP384r1", kBp384Oid, {"brainpoolP384r1"}, 384, 48, 96},
    {CKK_EC, "brainpoolP512r1", kBp512Oid, {"brainpoolP512r1"}, 512, 64, 128},
    {CKK_EC_EDWARDS, "ED25519", kEd25519Oid, {"edwards25519", "Ed25519"}, 255, 32, 64},
    {CKK_EC_EDWARDS, "ED448", kEd448Oid, {"edwards448", "Ed448"}, 448, 57, 114},
    {CKK_EC_MONTGOMERY, "X25519", kX25519Oid, {"curve25519", "X25519"}, 255, 32, 0},
    {CKK_EC_MONTGOMERY, "X448", kX448Oid, {"curve448", "X448"}, 448, 56, 0},
}};

constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagPrintableString = 0x13;

// Splits one DER TLV (definite length, at most 2 length bytes) that fills `der`
// exactly; false when malformed.
bool der_tlv(ByteView der, uint8_t& tag, ByteView& value) {
  if (der.size() < 2) return false;
  tag = der[0];
  size_t len = der[1], hdr = 2;
  if (len == 0x81) {
    if (der.size() < 3 || der[2] < 0x80) return false;
    len = der[2];
    hdr = 3;
  } else if (len == 0x82) {
    if (der.size() < 4 || der[2] == 0) return false;
    len = size_t{der[2]} << 8 | der[3];
    if (len < 0x100) return false;
    hdr = 4;
  } else if (len >= 0x80) {
    return false;
  }
  if (der.size() != hdr + len) return false;
  value = der.subspan(hdr);
  return true;
}

// A well-formed OID body: base-128 arcs, no leading 0x80, last byte without the high bit.
bool valid_oid_body(ByteView body) {
  if (body.empty() || (body.back() & 0x80) != 0) return false;
  bool start = true;
  for (uint8_t b : body) {
    if (start && b == 0x80) return false;
    start = (b & 0x80) == 0;
  }
  return true;
}

}  // namespace

// OpenSC 0.23's pkcs11-tool sends "curve25519"/"curve448"/"edwards…" as a PrintableString
// whose length byte counts one byte more than it sends (docs/COMPATIBILITY.md). Only
// that exact malformation of a known curve name is accepted, so the tool works.
static const Curve* opensc_023_curve_name(ByteView p) {
  if (p.size() < 3 || p[0] != kTagPrintableString || p[1] != p.size() - 1) return nullptr;
  std::string_view name = as_chars(p.subspan(2));
  for (const Curve& c : kCurves)
    if (c.key_type != CKK_EC && std::ranges::find(c.names, name) != c.names.end()) return &c;
  return nullptr;
}

Result<const Curve*> curve_from_params(ByteView ec_params) {
  uint8_t tag = 0;
  ByteView value;
  if (!der_tlv(ec_params, tag, value)) {
    if (const Curve* c = opensc_023_curve_name(ec_params)) return c;
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_EC_PARAMS is not a DER value");
  }
  if (tag == kTagOid) {
    if (!valid_oid_body(value)) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_EC_PARAMS holds a malformed OID");
    for (const Curve& c : kCurves)
      if (std::ranges::equal(c.oid_der, ec_params)) return &c;
    return make_error(CKR_CURVE_NOT_SUPPORTED, "CKA_EC_PARAMS names an unsupported curve (supported: P-256, "
                                               "P-384, P-521, secp256k1, brainpoolP256r1/P384r1/P512r1, Ed25519, "
                                               "Ed448, X25519, X448)");
  }
  if (tag == kTagPrintableString) {
    std::string_view name = as_chars(value);
    for (const Curve& c : kCurves)
      if (std::ranges::find(c.names, name) != c.names.end()) return &c;
    return make_error(CKR_CURVE_NOT_SUPPORTED, "CKA_EC_PARAMS names an unsupported curve");
  }
  return make_error(CKR_ATTRIBUTE_VALUE_INVALID,
                    "CKA_EC_PARAMS must be a named curve (OID or PrintableString); explicit parameters are not supported");
}

const Curve* curve_by_ossl_name(std::string_view name) {
  for (const Curve& c : kCurves)
    if (name == c.ossl_name) return &c;
  return nullptr;
}

const Curve* curve_by_bits(CK_KEY_TYPE key_type, CK_ULONG bits) {
  for (const Curve& c : kCurves)
    if (c.key_type == key_type && c.bits == bits) return &c;
  return nullptr;
}

const Curve* curve_by_nid(int nid) {
  static const std::array<int, kCurves.size()> nids = [] {
    std::array<int, kCurves.size()> n{};
    for (size_t i = 0; i < kCurves.size(); ++i) n[i] = OBJ_sn2nid(kCurves[i].ossl_name);
    return n;
  }();
  for (size_t i = 0; i < kCurves.size(); ++i)
    if (nid != NID_undef && nids[i] == nid && kCurves[i].key_type == CKK_EC) return &kCurves[i];
  return nullptr;
}

namespace {

// A DER tag and definite length (short or long form) in front of `body_len` bytes.
void put_header(Bytes& out, uint8_t tag, size_t body_len) {
  out.push_back(tag);
  if (body_len < 0x80) {
    out.push_back(static_cast<uint8_t>(body_len));
  } else if (body_len < 0x100) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(body_len));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(body_len >> 8));
    out.push_back(static_cast<uint8_t>(body_len));
  }
}

size_t header_len(size_t body_len) { return body_len < 0x80 ? 2 : body_len < 0x100 ? 3 : 4; }

constexpr uint8_t kTagSequence = 0x30;
constexpr uint8_t kTagBitString = 0x03;
// id-ecPublicKey (1.2.840.10045.2.1), RFC 5480.
constexpr uint8_t kEcPublicKeyOid[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};

}  // namespace

Bytes der_octet_string(ByteView raw) {
  Bytes out;
  out.reserve(raw.size() + 4);
  put_header(out, kTagOctetString, raw.size());
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

Bytes subject_public_key_info(const Curve& c, ByteView raw_public) {
  // RFC 5480: AlgorithmIdentifier { id-ecPublicKey, namedCurve OID }; RFC 8410 (Edwards,
  // Montgomery): AlgorithmIdentifier { curve OID } with the parameters absent.
  const bool ec = c.key_type == CKK_EC;
  const size_t alg_body = (ec ? sizeof kEcPublicKeyOid : 0) + c.oid_der.size();
  const size_t bits_body = 1 + raw_public.size();  // no unused bits
  const size_t body = header_len(alg_body) + alg_body + header_len(bits_body) + bits_body;
  Bytes out;
  out.reserve(header_len(body) + body);
  put_header(out, kTagSequence, body);
  put_header(out, kTagSequence, alg_body);
  if (ec) out.insert(out.end(), std::begin(kEcPublicKeyOid), std::end(kEcPublicKeyOid));
  out.insert(out.end(), c.oid_der.begin(), c.oid_der.end());
  put_header(out, kTagBitString, bits_body);
  out.push_back(0x00);
  out.insert(out.end(), raw_public.begin(), raw_public.end());
  return out;
}

Result<ByteView> unwrap_ec_point(ByteView point, const Curve& c) {
  const bool edwards = c.key_type != CKK_EC;  // Edwards and Montgomery keys are raw strings
  const size_t uncompressed = edwards ? c.field_bytes : 1 + 2 * c.field_bytes;
  const size_t compressed = 1 + c.field_bytes;
  auto plausible = [&](ByteView p) {
    if (edwards) return p.size() == c.field_bytes;
    if (p.size() == uncompressed) return p[0] == 0x04;
    return p.size() == compressed && (p[0] == 0x02 || p[0] == 0x03);
  };
  // The raw form first: its length never equals a DER wrapping of a valid point.
  if (!point.empty() && plausible(point)) return point;
  uint8_t tag = 0;
  ByteView inner;
  if (der_tlv(point, tag, inner) && tag == kTagOctetString && !inner.empty() && plausible(inner)) return inner;
  return make_error(CKR_ATTRIBUTE_VALUE_INVALID,
                    std::string("CKA_EC_POINT is not a ") + (edwards ? "public key" : "point") + " of " + std::string(c.names[0]));
}

}  // namespace ferrohsm::mech
