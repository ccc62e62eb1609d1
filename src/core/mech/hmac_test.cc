#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

// RFC 4231 test cases 1 and 2 (and RFC 2202 for SHA-1).
struct HmacCase {
  CK_MECHANISM_TYPE type;
  const char* key;
  const char* data;
  const char* mac;
};

const HmacCase kHmacCases[] = {
    {CKM_SHA_1_HMAC, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
    {CKM_SHA224_HMAC, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
    {CKM_SHA256_HMAC, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {CKM_SHA384_HMAC, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
    {CKM_SHA512_HMAC, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f17"
     "02e696c203a126854"},
    {CKM_SHA256_HMAC, "4a656665", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {CKM_SHA512_HMAC, "4a656665", "what do ya want for nothing?",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4"
     "b636e070a38bce737"},
};

TEST(MechHmac, Rfc4231KnownAnswersAndVerify) {
  for (const HmacCase& c : kHmacCases) {
    SCOPED_TRACE(c.mac);
    KeyPtr key = secret_key(CKK_GENERIC_SECRET, hex(c.key));
    auto sig = sign(mech(c.type), key, text(c.data));
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_EQ(to_hex(*sig), c.mac);
    EXPECT_TRUE(verify(mech(c.type), key, text(c.data), *sig).ok());
    auto parts = sign_parts(mech(c.type), key, text(c.data), 3);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(*parts, *sig);
    EXPECT_TRUE(verify_parts(mech(c.type), key, text(c.data), 5, *sig).ok());
  }
}

TEST(MechHmac, VerifyErrors) {
  KeyPtr key = secret_key(CKK_GENERIC_SECRET, text("secret key bytes"));
  auto m = mech(CKM_SHA256_HMAC);
  auto sig = sign(m, key, text("message"));
  ASSERT_TRUE(sig.ok());
  Bytes bad = *sig;
  bad[5] ^= 1;
  EXPECT_EQ(verify(m, key, text("message"), bad).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(verify(m, key, text("messagE"), *sig).rv(), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(verify(m, key, text("message"), ByteView(*sig).first(31)).rv(), CKR_SIGNATURE_LEN_RANGE);
  Bytes longer = *sig;
  longer.push_back(0);
  EXPECT_EQ(verify(m, key, text("message"), longer).rv(), CKR_SIGNATURE_LEN_RANGE);
  EXPECT_EQ(verify_parts(m, key, text("message"), 2, ByteView(*sig).first(16)).rv(), CKR_SIGNATURE_LEN_RANGE);
}

TEST(MechHmac, KeyTypes) {
  Bytes value = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  // The dedicated key type of the hash works, another HMAC type or AES does not.
  EXPECT_TRUE(sign(mech(CKM_SHA256_HMAC), secret_key(CKK_SHA256_HMAC, value), text("x")).ok());
  EXPECT_EQ(sign(mech(CKM_SHA256_HMAC), secret_key(CKK_SHA384_HMAC, value), text("x")).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(sign(mech(CKM_SHA256_HMAC), secret_key(CKK_AES, Bytes(16, 1)), text("x")).rv(), CKR_KEY_TYPE_INCONSISTENT);
  uint8_t junk = 0;
  EXPECT_EQ(sign(mech(CKM_SHA256_HMAC, junk), secret_key(CKK_GENERIC_SECRET, value), text("x")).rv(),
            CKR_MECHANISM_PARAM_INVALID);
  const Entry& e = entry(CKM_SHA256_HMAC);
  EXPECT_EQ(e.info.flags, CKF_SIGN | CKF_VERIFY | CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY);
  EXPECT_EQ(e.info.ulMinKeySize, 1u);
  EXPECT_EQ(e.info.ulMaxKeySize, 512u);
}

}  // namespace
}  // namespace ferrohsm::mech::test
