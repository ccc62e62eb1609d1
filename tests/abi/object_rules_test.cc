// Template rules of PKCS#11 3.0 §4.1 (C_CreateObject, C_GenerateKey*, C_SetAttributeValue):
// CKR_TEMPLATE_INCOMPLETE / _INCONSISTENT, CKR_ATTRIBUTE_READ_ONLY / _VALUE_INVALID /
// _TYPE_INVALID, one-way CKA_SENSITIVE / CKA_EXTRACTABLE, session permissions.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

using ObjectRulesTest = TokenTest;

Template AesTemplate() {
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, Bytes(16, 7))
      .Bool(CKA_ENCRYPT, true);
  return t;
}

TEST_F(ObjectRulesTest, MissingRequiredAttributesIsTemplateIncomplete) {
  Template no_class;
  no_class.Str(CKA_LABEL, "no class").Str(CKA_VALUE, "x");
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, CreateObject(f_, session_, no_class).rv);
  Template no_value;
  no_value.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, CreateObject(f_, session_, no_value).rv);
  Template no_key_type;
  no_key_type.Ulong(CKA_CLASS, CKO_SECRET_KEY).Bytes(CKA_VALUE, Bytes(16, 7));
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, CreateObject(f_, session_, no_key_type).rv);
  Template no_params;
  no_params.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_EC)
      .Bytes(CKA_VALUE, Bytes(32, 9));
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, CreateObject(f_, session_, no_params).rv);
}

TEST_F(ObjectRulesTest, GenerationWithoutSizeIsTemplateIncomplete) {
  Template pub;
  pub.Bytes(CKA_PUBLIC_EXPONENT, Bytes{1, 0, 1}).Bool(CKA_VERIFY, true);
  Template priv;
  priv.Bool(CKA_SIGN, true);
  CK_MECHANISM rsa{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE a = 0, b = 0;
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_GenerateKeyPair(session_, &rsa, pub.data(), pub.size(),
                                                            priv.data(), priv.size(), &a, &b));
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  Template ec_pub;
  ec_pub.Bool(CKA_VERIFY, true);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_GenerateKeyPair(session_, &ec, ec_pub.data(),
                                                            ec_pub.size(), priv.data(),
                                                            priv.size(), &a, &b));
  CK_MECHANISM aes{CKM_AES_KEY_GEN, nullptr, 0};
  Template t;
  t.Bool(CKA_ENCRYPT, true);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_GenerateKey(session_, &aes, t.data(), t.size(), &a));
}

TEST_F(ObjectRulesTest, ConflictingValuesAreTemplateInconsistent) {
  // §4.1.1 rule 4: "trying to create a secret key object with an attribute which is
  // appropriate for various types of public keys or private keys, but not for secret
  // keys" is the spec's own example (CKA_MODULUS is a valid attribute, so not rule 1).
  // (A repeated attribute is not tested: the spec lets the token pick one value.)
  // SoftHSMv2 answers CKR_ATTRIBUTE_TYPE_INVALID here.
  if (!IsSoftHsm()) {
    Template foreign = AesTemplate();
    foreign.Bytes(CKA_MODULUS, Bytes(256, 0xC3));
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, CreateObject(f_, session_, foreign).rv);
  }
  // A class that the mechanism cannot produce: inconsistent with the mechanism (some
  // tokens treat it as an invalid value for CKA_CLASS).
  CK_MECHANISM aes{CKM_AES_KEY_GEN, nullptr, 0};
  Template wrong_class;
  wrong_class.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_VALUE_LEN, 16);
  CK_OBJECT_HANDLE h = 0;
  EXPECT_CKR_ONE_OF(f_->C_GenerateKey(session_, &aes, wrong_class.data(), wrong_class.size(), &h),
                    {CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID});
  Template wrong_type;
  wrong_type.Ulong(CKA_KEY_TYPE, CKK_RSA).Ulong(CKA_VALUE_LEN, 16);
  EXPECT_CKR_ONE_OF(f_->C_GenerateKey(session_, &aes, wrong_type.data(), wrong_type.size(), &h),
                    {CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID});
}

TEST_F(ObjectRulesTest, ReadOnlyAttributesCannotBeSupplied) {
  // Attributes the token computes (footnote 2 of the attribute tables).
  for (CK_ATTRIBUTE_TYPE attr : {CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE}) {
    Template t = AesTemplate();
    t.Bool(attr, true);
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, CreateObject(f_, session_, t).rv) << "attribute 0x"
                                                                         << std::hex << attr;
  }
  Template t = AesTemplate();
  t.Ulong(CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, CreateObject(f_, session_, t).rv);
}

TEST_F(ObjectRulesTest, ReadOnlyAttributesCannotBeSet) {
  Created k = CreateObject(f_, session_, AesTemplate());
  ASSERT_CKR_OK(k.rv);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Ulong(CKA_CLASS, CKO_DATA)));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Bytes(CKA_VALUE, Bytes(16, 1))));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Bool(CKA_LOCAL, true)));
}

TEST_F(ObjectRulesTest, InvalidValuesAreAttributeValueInvalid) {
  Template bad_class;
  bad_class.Ulong(CKA_CLASS, 0x7777).Str(CKA_LABEL, "bad class");
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, CreateObject(f_, session_, bad_class).rv);
  CK_BYTE four[4] = {1, 0, 0, 0};
  Template bad_len;
  bad_len.Ulong(CKA_CLASS, CKO_DATA).Raw(CKA_TOKEN, four, sizeof four);
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, CreateObject(f_, session_, bad_len).rv);
  Template bad_key_type;
  bad_key_type.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, 0x7777)
      .Bytes(CKA_VALUE, Bytes(16, 1));
  CK_RV rv = CreateObject(f_, session_, bad_key_type).rv;
  EXPECT_CKR_ONE_OF(rv, {CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT});
}

TEST_F(ObjectRulesTest, AesKeyOfWrongLengthIsRejected) {
  SKIP_IF_SOFTHSM("SoftHSMv2 accepts AES CKA_VALUE of any length");
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, Bytes(15, 7));
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, CreateObject(f_, session_, t).rv);
}

TEST_F(ObjectRulesTest, UnsupportedSizesAndCurvesAreRejected) {
  CK_OBJECT_HANDLE a = 0, b = 0;
  CK_MECHANISM aes{CKM_AES_KEY_GEN, nullptr, 0};
  Template t;
  t.Ulong(CKA_VALUE_LEN, 17);
  EXPECT_CKR_ONE_OF(f_->C_GenerateKey(session_, &aes, t.data(), t.size(), &a),
                    {CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT});
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  Template pub;
  pub.Bytes(CKA_EC_PARAMS, Bytes{0x06, 0x03, 0x2B, 0x81, 0x7F});  // not a supported curve
  Template priv;
  priv.Bool(CKA_SIGN, true);
  if (!IsSoftHsm()) {  // SoftHSMv2 answers CKR_GENERAL_ERROR for an unknown curve
    EXPECT_CKR_ONE_OF(f_->C_GenerateKeyPair(session_, &ec, pub.data(), pub.size(), priv.data(),
                                            priv.size(), &a, &b),
                      {CKR_CURVE_NOT_SUPPORTED, CKR_ATTRIBUTE_VALUE_INVALID,
                       CKR_DOMAIN_PARAMS_INVALID});
  }
  if (!IsSoftHsm()) {  // FerroHSM offers RSA 1024–8192 only; SoftHSMv2 allows 512
    KeyPair small = GenerateRsa(f_, session_, 512);
    EXPECT_CKR(CKR_KEY_SIZE_RANGE, small.rv);
  }
}

TEST_F(ObjectRulesTest, UnknownAttributeIsTypeInvalid) {
  Template t = DataObject("unknown-attr");
  t.Str(kUnknownAttr, "?");
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, CreateObject(f_, session_, t).rv);
  Created ok = CreateObject(f_, session_, DataObject("target"));
  ASSERT_CKR_OK(ok.rv);
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID,
             SetAttrs(f_, session_, ok.handle, Template().Str(kUnknownAttr, "?")));
}

TEST_F(ObjectRulesTest, SensitiveMayOnlyBecomeTrue) {
  KeyOptions o;
  o.sensitive = false;
  o.extractable = true;
  SecretKey k = ImportAes(f_, session_, Bytes(16, 3), o);
  ASSERT_CKR_OK(k.rv);
  ASSERT_CKR_OK(SetAttrs(f_, session_, k.handle, Template().Bool(CKA_SENSITIVE, true)));
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_SENSITIVE), true);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Bool(CKA_SENSITIVE, false)));
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_SENSITIVE), true);
}

TEST_F(ObjectRulesTest, ExtractableMayOnlyBecomeFalse) {
  KeyOptions o;
  o.sensitive = false;
  o.extractable = true;
  SecretKey k = ImportAes(f_, session_, Bytes(16, 3), o);
  ASSERT_CKR_OK(k.rv);
  ASSERT_CKR_OK(SetAttrs(f_, session_, k.handle, Template().Bool(CKA_EXTRACTABLE, false)));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, k.handle, Template().Bool(CKA_EXTRACTABLE, true)));
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_EXTRACTABLE), false);
}

TEST_F(ObjectRulesTest, ProhibitedActionsOnProtectedObjects) {
  Template t = DataObject("locked-down");
  t.Bool(CKA_MODIFIABLE, false).Bool(CKA_COPYABLE, false).Bool(CKA_DESTROYABLE, false);
  Created c = CreateObject(f_, session_, t);
  ASSERT_CKR_OK(c.rv);
  // 3.0 names CKR_ACTION_PROHIBITED; 2.40 used CKR_ATTRIBUTE_READ_ONLY for CKA_MODIFIABLE.
  EXPECT_CKR_ONE_OF(SetAttrs(f_, session_, c.handle, Template().Str(CKA_LABEL, "x")),
                    {CKR_ACTION_PROHIBITED, CKR_ATTRIBUTE_READ_ONLY});
  CK_OBJECT_HANDLE copy = 0;
  Template relabel;
  relabel.Str(CKA_LABEL, "copy");
  EXPECT_CKR(CKR_ACTION_PROHIBITED,
             f_->C_CopyObject(session_, c.handle, relabel.data(), relabel.size(), &copy));
  EXPECT_CKR(CKR_ACTION_PROHIBITED, f_->C_DestroyObject(session_, c.handle));
}

TEST_F(ObjectRulesTest, ReadOnlySessionCannotWriteTokenObjects) {
  Created token_obj = CreateObject(f_, session_, DataObject("rw-made", true));
  ASSERT_CKR_OK(token_obj.rv);
  CK_SESSION_HANDLE ro = Open(slot_, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, CreateObject(f_, ro, DataObject("ro-token", true)).rv);
  EXPECT_CKR(CKR_SESSION_READ_ONLY,
             SetAttrs(f_, ro, token_obj.handle, Template().Str(CKA_LABEL, "renamed")));
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_DestroyObject(ro, token_obj.handle));
  EXPECT_CKR(CKR_SESSION_READ_ONLY, GenerateAes(f_, ro, 16, KeyOptions{.token = true}).rv);
  // Session objects are allowed in an R/O session.
  Created session_obj = CreateObject(f_, ro, DataObject("ro-session", false));
  EXPECT_CKR_OK(session_obj.rv);
}

TEST_F(ObjectRulesTest, PrivateObjectsNeedALogin) {
  CK_SESSION_HANDLE pub = Open(slot_);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, CreateObject(f_, pub, DataObject("p", false, true)).rv);
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, GenerateAes(f_, pub, 16).rv);
  EXPECT_CKR_OK(CreateObject(f_, pub, DataObject("public is fine", false, false)).rv);
}

TEST_F(ObjectRulesTest, NullTemplatePointerWithCountIsArgumentsBad) {
  CK_OBJECT_HANDLE h = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CreateObject(session_, nullptr, 2, &h));
  Template t = DataObject("x");
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CreateObject(session_, t.data(), t.size(), nullptr));
  Created c = CreateObject(f_, session_, t);
  ASSERT_CKR_OK(c.rv);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SetAttributeValue(session_, c.handle, nullptr, 1));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetAttributeValue(session_, c.handle, nullptr, 1));
}

}  // namespace
}  // namespace ferrohsm::abi
