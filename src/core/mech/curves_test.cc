// CKA_EC_PARAMS parsing: OIDs, PrintableString names, and the one malformation
// FerroHSM tolerates for OpenSC 0.23 (a name whose length byte is one too large).
#include "core/mech/curves.h"

#include <gtest/gtest.h>

namespace ferrohsm::mech {
namespace {

Bytes printable(const std::string& name, int extra_len = 0) {
  Bytes b{0x13, static_cast<uint8_t>(name.size() + static_cast<size_t>(extra_len))};
  b.insert(b.end(), name.begin(), name.end());
  return b;
}

TEST(Curves, NamesAndOids) {
  auto x = curve_from_params(printable("curve25519"));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ((*x)->key_type, static_cast<CK_KEY_TYPE>(CKK_EC_MONTGOMERY));
  auto p = curve_from_params((*curve_from_params(printable("edwards25519")))->oid_der);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->key_type, static_cast<CK_KEY_TYPE>(CKK_EC_EDWARDS));
  EXPECT_EQ(curve_from_params(printable("curve9999")).rv(), CKR_CURVE_NOT_SUPPORTED);
}

TEST(Curves, OpenSc023NameWithLengthOneTooLargeIsAcceptedAndNothingElse) {
  auto x = curve_from_params(printable("curve25519", 1));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ((*x)->bits, 255u);
  EXPECT_EQ(curve_from_params(printable("curve25519", 2)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(curve_from_params(printable("curve9999", 1)).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(curve_from_params(printable("prime256v1", 1)).rv(), CKR_ATTRIBUTE_VALUE_INVALID)
      << "only the Edwards/Montgomery names OpenSC sends this way";
  EXPECT_EQ(curve_from_params(Bytes{0x13}).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
}

}  // namespace
}  // namespace ferrohsm::mech
