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
  const KdfBounds any{1, 10'000'000};
  KdfParams p = KdfParams::fresh(600000);
  auto back = KdfParams::parse(p.encode(), any);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->iterations, 600000u);
  EXPECT_EQ(back->salt, p.salt);
  for (const char* bad : {"", "scrypt:1:00", "pbkdf2-sha256:x:00", "pbkdf2-sha256:0:00112233445566778899aabbccddeeff",
                          "pbkdf2-sha256:10:zz", "pbkdf2-sha256:10:0011", "pbkdf2-sha256:-1:00112233445566778899aabbccddeeff",
                          "pbkdf2-sha256:99999999999:00112233445566778899aabbccddeeff"})
    EXPECT_EQ(KdfParams::parse(bad, any).rv(), CKR_DEVICE_ERROR) << bad;
}

TEST(SealTest, StoredKdfParametersGetTheConfigurationsBounds) {
  const std::string salt16(32, 'a');
  const KdfBounds prod{600'000, 10'000'000};
  EXPECT_TRUE(KdfParams::parse("pbkdf2-sha256:600000:" + salt16, prod).ok());
  EXPECT_TRUE(KdfParams::parse("pbkdf2-sha256:10000000:" + salt16, prod).ok());
  auto over = KdfParams::parse("pbkdf2-sha256:2000000000:" + salt16, prod);
  EXPECT_EQ(over.rv(), CKR_DEVICE_ERROR);
  EXPECT_NE(over.error().message.find("2000000000"), std::string::npos) << over.error().message;
  EXPECT_EQ(KdfParams::parse("pbkdf2-sha256:10000001:" + salt16, prod).rv(), CKR_DEVICE_ERROR);
  EXPECT_EQ(KdfParams::parse("pbkdf2-sha256:599999:" + salt16, prod).rv(), CKR_DEVICE_ERROR) << "below the floor";
  EXPECT_TRUE(KdfParams::parse("pbkdf2-sha256:1000:" + salt16, KdfBounds{1, 10'000'000}).ok()) << "dev minimum";
  EXPECT_EQ(KdfParams::parse("pbkdf2-sha256:0:" + salt16, KdfBounds{1, 10'000'000}).rv(), CKR_DEVICE_ERROR);
  EXPECT_TRUE(KdfParams::parse("pbkdf2-sha256:600000:" + std::string(128, 'b'), prod).ok()) << "64-byte salt";
  EXPECT_EQ(KdfParams::parse("pbkdf2-sha256:600000:" + std::string(130, 'b'), prod).rv(), CKR_DEVICE_ERROR);
  EXPECT_EQ(KdfParams::parse("pbkdf2-sha256:600000:" + std::string(1 << 20, 'b'), prod).rv(), CKR_DEVICE_ERROR);
}

}  // namespace
}  // namespace ferrohsm
