#include "core/seal.h"

#include <gtest/gtest.h>

namespace ferrohsm {
namespace {

TEST(SealTest, RoundTripsAndBindsAssociatedData) {
  auto key = random_bytes(kTokenKeyBytes);
  ASSERT_TRUE(key.ok());
  Bytes secret = {1, 2, 3, 4, 5};
  auto blob = seal(*key, secret, attribute_aad(7, CKA_VALUE));
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(blob->size(), 1 + 12 + secret.size() + 16);
  auto back = unseal(*key, *blob, attribute_aad(7, CKA_VALUE));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(std::equal(back->begin(), back->end(), secret.begin(), secret.end()));
  // Moved to another object or attribute, it does not open.
  EXPECT_EQ(unseal(*key, *blob, attribute_aad(8, CKA_VALUE)).rv(), CKR_ENCRYPTED_DATA_INVALID);
  EXPECT_EQ(unseal(*key, *blob, attribute_aad(7, CKA_PRIME_1)).rv(), CKR_ENCRYPTED_DATA_INVALID);
  Bytes tampered = *blob;
  tampered[14] ^= 1;
  EXPECT_EQ(unseal(*key, tampered, attribute_aad(7, CKA_VALUE)).rv(), CKR_ENCRYPTED_DATA_INVALID);
  auto other = random_bytes(kTokenKeyBytes);
  EXPECT_EQ(unseal(*other, *blob, attribute_aad(7, CKA_VALUE)).rv(), CKR_ENCRYPTED_DATA_INVALID);
}

TEST(SealTest, SealingTwiceGivesDifferentBlobs) {
  auto key = random_bytes(kTokenKeyBytes);
  Bytes secret(32, 0xab);
  auto a = seal(*key, secret, {}), b = seal(*key, secret, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(SealTest, PinKeyDependsOnPinSaltAndIterations) {
  KdfParams p = KdfParams::fresh(1000);
  auto k1 = derive_pin_key("1234", p), k2 = derive_pin_key("1234", p), k3 = derive_pin_key("1235", p);
  ASSERT_TRUE(k1.ok() && k2.ok() && k3.ok());
  EXPECT_EQ(*k1, *k2);
  EXPECT_NE(*k1, *k3);
  KdfParams q = p;
  q.iterations = 1001;
  EXPECT_NE(*derive_pin_key("1234", q), *k1);
}

TEST(SealTest, KdfParametersRoundTripAndRejectGarbage) {
  KdfParams p = KdfParams::fresh(600000);
  auto back = KdfParams::parse(p.encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->iterations, 600000u);
  EXPECT_EQ(back->salt, p.salt);
  for (const char* bad : {"", "scrypt:1:00", "pbkdf2-sha256:x:00", "pbkdf2-sha256:0:00112233445566778899aabbccddeeff",
                          "pbkdf2-sha256:10:zz", "pbkdf2-sha256:10:0011"})
    EXPECT_FALSE(KdfParams::parse(bad).ok()) << bad;
}

}  // namespace
}  // namespace ferrohsm
