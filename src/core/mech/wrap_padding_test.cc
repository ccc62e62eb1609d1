// The zero padding of the unpadded wrapping modes (wrap_padding.h) and the kept copy
// of a mechanism (kept_mechanism.h).
#include "core/mech/kept_mechanism.h"
#include "core/mech/pkcs8.h"
#include "core/mech/test_util.h"
#include "core/mech/wrap_padding.h"

namespace ferrohsm::mech::test {
namespace {

Bytes as_vec(ByteView b) { return Bytes(b.begin(), b.end()); }

TEST(WrapPadding, PadsWithZerosUpToTheBlockOnly) {
  EXPECT_EQ(zero_pad(hex("0102030405"), 8).size(), 8u);
  EXPECT_EQ(as_vec(zero_pad(hex("0102030405"), 8)), hex("0102030405000000"));
  EXPECT_EQ(zero_pad(Bytes(16, 7), 16).size(), 16u) << "nothing added to a whole block";
  EXPECT_EQ(zero_pad(Bytes(17, 7), 16).size(), 32u);
}

TEST(WrapPadding, SecretValuesAreCutByLengthOrKeyType) {
  const Bytes padded = hex("aabbccddeeff11220000000000000000");  // 8 bytes + 8 zeros
  auto cut = unpad_secret(padded, 16, CKK_GENERIC_SECRET, 8);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(as_vec(*cut), hex("aabbccddeeff1122"));
  auto whole = unpad_secret(padded, 16, CKK_GENERIC_SECRET, 0);
  ASSERT_TRUE(whole.ok()) << "no CKA_VALUE_LEN and no fixed length: every byte";
  EXPECT_EQ(whole->size(), 16u);
  Bytes des3(24, 0x5A);
  des3.resize(32, 0);
  auto by_type = unpad_secret(des3, 16, CKK_DES3, 0);
  ASSERT_TRUE(by_type.ok());
  EXPECT_EQ(by_type->size(), 24u) << "a 3DES key is 24 bytes";
  EXPECT_EQ(unpad_secret(padded, 16, CKK_GENERIC_SECRET, 17).rv(), CKR_WRAPPED_KEY_LEN_RANGE) << "longer than given";
  EXPECT_EQ(unpad_secret(padded, 8, CKK_GENERIC_SECRET, 8).rv(), CKR_WRAPPED_KEY_LEN_RANGE)
      << "a whole block of zeros is not padding";
  EXPECT_EQ(unpad_secret(padded, 16, CKK_GENERIC_SECRET, 6).rv(), CKR_WRAPPED_KEY_INVALID)
      << "only zeros may be cut";
}

TEST(WrapPadding, DerIsFoundInFrontOfItsPadding) {
  auto der = private_key_to_pkcs8(*ec_pair(kP256).priv);
  ASSERT_TRUE(der.ok());
  const SecureBytes padded = zero_pad(*der, 8);
  auto found = unpad_der(padded, 8);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), der->size());
  SecureBytes dirty = padded;
  if (dirty.size() > der->size()) {
    dirty.back() = 1;
    EXPECT_EQ(unpad_der(dirty, 8).rv(), CKR_WRAPPED_KEY_INVALID) << "the padding must be zeros";
  }
  SecureBytes more = *der;
  more.resize(der->size() + 8, 0);
  EXPECT_EQ(unpad_der(more, 8).rv(), CKR_WRAPPED_KEY_INVALID) << "a whole block after the key";
  EXPECT_EQ(unpad_der(hex("0203010001"), 8).rv(), CKR_WRAPPED_KEY_INVALID) << "not a SEQUENCE";
  EXPECT_EQ(unpad_der(hex("3082ffff00"), 8).rv(), CKR_WRAPPED_KEY_INVALID) << "longer than the data";
}

TEST(KeptMechanism, CopiesTheParameterAndOutlivesIt) {
  auto kept = [] {
    CK_RSA_PKCS_PSS_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m{CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p};
    return KeptMechanism::keep(m);
  }();
  ASSERT_TRUE(kept.ok());
  const CK_MECHANISM m = kept->get();
  EXPECT_EQ(m.mechanism, CKM_SHA256_RSA_PKCS_PSS);
  ASSERT_EQ(m.ulParameterLen, sizeof(CK_RSA_PKCS_PSS_PARAMS));
  const auto* p = static_cast<const CK_RSA_PKCS_PSS_PARAMS*>(m.pParameter);
  EXPECT_EQ(p->sLen, 32u);
  EXPECT_EQ(p->mgf, CKG_MGF1_SHA256);
  auto none = KeptMechanism::keep(CK_MECHANISM{CKM_ECDSA, nullptr, 0});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->get().pParameter, nullptr);
  EXPECT_EQ(KeptMechanism::keep(CK_MECHANISM{CKM_ECDSA, nullptr, 4}).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(KeptMechanism, EddsaKeepsNoPointerIntoTheCallersMemory) {
  CK_BYTE context[4] = {1, 2, 3, 4};
  CK_EDDSA_PARAMS p{CK_FALSE, 0, context};
  auto kept = KeptMechanism::keep(CK_MECHANISM{CKM_EDDSA, &p, sizeof p});
  ASSERT_TRUE(kept.ok());
  const auto* copy = static_cast<const CK_EDDSA_PARAMS*>(kept->get().pParameter);
  EXPECT_EQ(copy->pContextData, nullptr);
  p.ulContextDataLen = sizeof context;
  EXPECT_EQ(KeptMechanism::keep(CK_MECHANISM{CKM_EDDSA, &p, sizeof p}).rv(), CKR_MECHANISM_PARAM_INVALID);
}

}  // namespace
}  // namespace ferrohsm::mech::test
