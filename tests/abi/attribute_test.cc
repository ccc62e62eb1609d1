// C_GetAttributeValue exactly per PKCS#11 3.0 §5.7: every attribute is processed,
// CK_UNAVAILABLE_INFORMATION marks each failing one, NULL pValue asks for the length,
// and CKR_ATTRIBUTE_SENSITIVE / _TYPE_INVALID / CKR_BUFFER_TOO_SMALL may each be
// returned when several apply.
#include <cstring>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class AttributeTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    Created d = CreateObject(f_, session_, DataObject("attr-label"));
    ASSERT_CKR_OK(d.rv);
    data_ = d.handle;
    SecretKey k = ImportAes(f_, session_, Bytes(16, 0x11));  // sensitive, unextractable
    ASSERT_CKR_OK(k.rv);
    sensitive_ = k.handle;
  }
  CK_OBJECT_HANDLE data_ = CK_INVALID_HANDLE, sensitive_ = CK_INVALID_HANDLE;
};

TEST_F(AttributeTest, NullValueReportsEveryLength) {
  CK_ATTRIBUTE t[] = {{CKA_LABEL, nullptr, 999}, {CKA_VALUE, nullptr, 0}, {CKA_CLASS, nullptr, 1}};
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, data_, t, 3));
  EXPECT_EQ(t[0].ulValueLen, std::strlen("attr-label"));
  EXPECT_EQ(t[1].ulValueLen, std::strlen("data object value"));
  EXPECT_EQ(t[2].ulValueLen, sizeof(CK_OBJECT_CLASS));
}

TEST_F(AttributeTest, ExactAndLargerBuffersSucceed) {
  char label[64];
  CK_OBJECT_CLASS cls = 0;
  CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof label}, {CKA_CLASS, &cls, sizeof cls}};
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, data_, t, 2));
  EXPECT_EQ(std::string(label, t[0].ulValueLen), "attr-label");
  EXPECT_EQ(cls, CKO_DATA);
  char exact[10];
  CK_ATTRIBUTE e{CKA_LABEL, exact, sizeof exact};
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, data_, &e, 1));
  EXPECT_EQ(std::string(exact, 10), "attr-label");
}

TEST_F(AttributeTest, ShortBufferIsBufferTooSmallAndOthersAreStillFilled) {
  char label[4];
  CK_OBJECT_CLASS cls = 0;
  CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof label}, {CKA_CLASS, &cls, sizeof cls}};
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetAttributeValue(session_, data_, t, 2));
  EXPECT_EQ(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[1].ulValueLen, sizeof cls) << "later attributes must still be processed";
  EXPECT_EQ(cls, CKO_DATA);
}

TEST_F(AttributeTest, SensitiveValueIsUnavailableAndOthersAreStillFilled) {
  CK_BYTE value[32];
  CK_KEY_TYPE type = 0;
  CK_ATTRIBUTE t[] = {{CKA_VALUE, value, sizeof value}, {CKA_KEY_TYPE, &type, sizeof type}};
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, f_->C_GetAttributeValue(session_, sensitive_, t, 2));
  EXPECT_EQ(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[1].ulValueLen, sizeof type);
  EXPECT_EQ(type, CKK_AES);
  // A length query for a sensitive attribute is refused the same way.
  CK_ATTRIBUTE q{CKA_VALUE, nullptr, 0};
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, f_->C_GetAttributeValue(session_, sensitive_, &q, 1));
  EXPECT_EQ(q.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

TEST_F(AttributeTest, UnextractableButNotSensitiveValueIsUnavailable) {
  KeyOptions o;
  o.sensitive = false;
  o.extractable = false;
  SecretKey k = ImportAes(f_, session_, Bytes(16, 0x22), o);
  ASSERT_CKR_OK(k.rv);
  CK_BYTE value[32];
  CK_ATTRIBUTE a{CKA_VALUE, value, sizeof value};
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, f_->C_GetAttributeValue(session_, k.handle, &a, 1));
  EXPECT_EQ(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

TEST_F(AttributeTest, AbsentAttributeIsTypeInvalidAndOthersAreStillFilled) {
  CK_BYTE buf[16];
  char label[32];
  CK_ATTRIBUTE t[] = {{kUnknownAttr, buf, sizeof buf},
                      {CKA_MODULUS, buf, sizeof buf},  // a data object has no modulus
                      {CKA_LABEL, label, sizeof label}};
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, f_->C_GetAttributeValue(session_, data_, t, 3));
  EXPECT_EQ(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(std::string(label, t[2].ulValueLen), "attr-label");
}

TEST_F(AttributeTest, SeveralErrorsReturnOneOfThemAndProcessEverything) {
  CK_BYTE value[32], unknown[8];
  char short_label[2];
  CK_OBJECT_CLASS cls = 0;
  CK_ATTRIBUTE t[] = {{CKA_VALUE, value, sizeof value},           // sensitive
                      {kUnknownAttr, unknown, sizeof unknown},    // invalid
                      {CKA_LABEL, short_label, sizeof short_label},  // too small
                      {CKA_CLASS, &cls, sizeof cls}};             // fine
  CK_RV rv = f_->C_GetAttributeValue(session_, sensitive_, t, 4);
  EXPECT_CKR_ONE_OF(rv, {CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL});
  EXPECT_EQ(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[3].ulValueLen, sizeof cls);
  EXPECT_EQ(cls, CKO_SECRET_KEY);
}

TEST_F(AttributeTest, InvalidHandlesAndArguments) {
  CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(session_, 0x7fff0000, &a, 1));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID,
             f_->C_GetAttributeValue(session_, CK_INVALID_HANDLE, &a, 1));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetAttributeValue(0x7fff0000, data_, &a, 1));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetAttributeValue(session_, data_, nullptr, 1));
}

TEST_F(AttributeTest, StorageDefaults) {
  EXPECT_EQ(GetBool(f_, session_, data_, CKA_MODIFIABLE), true);
  EXPECT_EQ(GetBool(f_, session_, data_, CKA_COPYABLE), true);
  EXPECT_EQ(GetBool(f_, session_, data_, CKA_DESTROYABLE), true);
  EXPECT_EQ(GetBool(f_, session_, data_, CKA_TOKEN), false);
  EXPECT_EQ(GetBool(f_, session_, sensitive_, CKA_SENSITIVE), true);
  EXPECT_EQ(GetBool(f_, session_, sensitive_, CKA_EXTRACTABLE), false);
}

TEST_F(AttributeTest, SetAttributeValueChangesLabelAndId) {
  ASSERT_CKR_OK(SetAttrs(f_, session_, sensitive_,
                         Template().Str(CKA_LABEL, "relabelled").Str(CKA_ID, "new-id")));
  auto label = GetBytes(f_, session_, sensitive_, CKA_LABEL);
  ASSERT_TRUE(label.has_value());
  EXPECT_EQ(std::string(label->begin(), label->end()), "relabelled");
  auto id = GetBytes(f_, session_, sensitive_, CKA_ID);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(std::string(id->begin(), id->end()), "new-id");
}

}  // namespace
}  // namespace ferrohsm::abi
