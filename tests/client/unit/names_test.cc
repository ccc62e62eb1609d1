#include <ferrohsm/client/names.h>
#include <gtest/gtest.h>

namespace fc = ferrohsm::client;

TEST(Names, ReturnCodesAreNamed) {
  EXPECT_STREQ(fc::rv_name(CKR_OK), "CKR_OK");
  EXPECT_STREQ(fc::rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
  EXPECT_STREQ(fc::rv_name(CKR_SESSION_HANDLE_INVALID), "CKR_SESSION_HANDLE_INVALID");
  EXPECT_STREQ(fc::rv_name(0x12345678UL), "CKR_0x12345678");
}

TEST(Names, MechanismsRoundTrip) {
  EXPECT_EQ(fc::mechanism_name(CKM_SHA256_RSA_PKCS), "CKM_SHA256_RSA_PKCS");
  EXPECT_EQ(fc::mechanism_from_name("SHA256-RSA-PKCS"), CKM_SHA256_RSA_PKCS);
  EXPECT_EQ(fc::mechanism_from_name("CKM_ECDSA"), CKM_ECDSA);
  EXPECT_FALSE(fc::mechanism_from_name("NOT-A-MECH").has_value());
}

TEST(Names, Pkcs11ErrorNamesTheCodeAndKind) {
  fc::Error e = fc::pkcs11_error(CKR_PIN_INCORRECT, "C_Login");
  EXPECT_EQ(e.kind, fc::ErrorKind::pin_incorrect);
  EXPECT_EQ(e.rv, CKR_PIN_INCORRECT);
  EXPECT_EQ(e.message, "C_Login: CKR_PIN_INCORRECT");
  EXPECT_EQ(fc::pkcs11_error(CKR_DEVICE_ERROR, "C_Sign").kind, fc::ErrorKind::pkcs11);
}
