#include "roundtrip/curves.h"

#include <vector>

namespace ferrohsm::abi::roundtrip {

const CurveInfo* FindCurve(const std::string& name) {
  // OIDs: FIPS 186 / SEC 2 (1.2.840.10045.3.1.7, 1.3.132.0.34/35/10), RFC 5639
  // (1.3.36.3.3.2.8.1.1.7/11/13), RFC 8410 (1.3.101.110-113).
  static const std::vector<CurveInfo> kCurves = {
      {"P-256", CurveFamily::kWeierstrass, {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07}, "P-256", 32},
      {"P-384", CurveFamily::kWeierstrass, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22}, "P-384", 48},
      {"P-521", CurveFamily::kWeierstrass, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23}, "P-521", 66},
      {"secp256k1", CurveFamily::kWeierstrass, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A}, "secp256k1", 32},
      {"brainpoolP256r1", CurveFamily::kWeierstrass,
       {0x06, 0x09, 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07}, "brainpoolP256r1", 32},
      {"brainpoolP384r1", CurveFamily::kWeierstrass,
       {0x06, 0x09, 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B}, "brainpoolP384r1", 48},
      {"brainpoolP512r1", CurveFamily::kWeierstrass,
       {0x06, 0x09, 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0D}, "brainpoolP512r1", 64},
      {"Ed25519", CurveFamily::kEdwards, {0x06, 0x03, 0x2B, 0x65, 0x70}, "ED25519", 32},
      {"Ed448", CurveFamily::kEdwards, {0x06, 0x03, 0x2B, 0x65, 0x71}, "ED448", 57},
      {"X25519", CurveFamily::kMontgomery, {0x06, 0x03, 0x2B, 0x65, 0x6E}, "X25519", 32},
      {"X448", CurveFamily::kMontgomery, {0x06, 0x03, 0x2B, 0x65, 0x6F}, "X448", 56},
  };
  for (const CurveInfo& c : kCurves)
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace ferrohsm::abi::roundtrip
