// Key-management guards (PKCS#11 3.0 §4.8, §4.9, §5.18): CKA_WRAP_TEMPLATE,
// CKA_UNWRAP_TEMPLATE and CKA_DERIVE_TEMPLATE bind what a key wraps or makes; a key
// made for wrapping does not decrypt unless its template says so; private keys wrap
// as PKCS#8 and come back as working keys.
#include <cstring>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

class KeyTemplatesTest : public TokenTest {
 protected:
  StoreOptions Options() const override { return WithoutHardening(); }  // multi-purpose keys

  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_SOFTHSM("SoftHSMv2 2.6 does not enforce these templates");
  }
  // An AES key for wrapping, with `extra` attributes (templates) added.
  CK_OBJECT_HANDLE Wrapper(Template extra, bool decrypt_given = true) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, Bytes(32, 0x3C));
    t.Bool(CKA_TOKEN, false).Bool(CKA_WRAP, true).Bool(CKA_UNWRAP, true);
    if (decrypt_given) t.Bool(CKA_ENCRYPT, false).Bool(CKA_DECRYPT, false);
    t.Append(extra);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &h));
    return h;
  }
  CK_OBJECT_HANDLE Secret(const std::string& label, bool extractable = true) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Bytes(CKA_VALUE, Bytes(24, 0x5E));
    t.Bool(CKA_TOKEN, false).Bool(CKA_EXTRACTABLE, extractable).Str(CKA_LABEL, label).Bool(CKA_DERIVE, true);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &h));
    return h;
  }
  Bytes Wrap(CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, CK_RV* rv) {
    CK_MECHANISM m{CKM_AES_KEY_WRAP_KWP, nullptr, 0};
    CK_ULONG len = 0;
    *rv = f_->C_WrapKey(session_, &m, wrapping, key, nullptr, &len);
    if (*rv != CKR_OK) return {};
    Bytes out(len);
    *rv = f_->C_WrapKey(session_, &m, wrapping, key, out.data(), &len);
    out.resize(len);
    return out;
  }
  // A template as an attribute array value.
  static Template ArrayAttr(CK_ATTRIBUTE_TYPE type, Template& inner) {
    Template t;
    t.Raw(type, inner.data(), inner.size() * sizeof(CK_ATTRIBUTE));
    return t;
  }
};

TEST_F(KeyTemplatesTest, WrapTemplateLimitsWhatIsWrapped) {
  Template want;
  want.Str(CKA_LABEL, "exportable");
  CK_OBJECT_HANDLE wk = Wrapper(ArrayAttr(CKA_WRAP_TEMPLATE, want));
  CK_RV rv = CKR_GENERAL_ERROR;
  Bytes wrapped = Wrap(wk, Secret("exportable"), &rv);
  EXPECT_CKR_OK(rv);
  EXPECT_FALSE(wrapped.empty());
  Wrap(wk, Secret("something else"), &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);

  // The template reads back as an array of CK_ATTRIBUTE.
  CK_ATTRIBUTE a{CKA_WRAP_TEMPLATE, nullptr, 0};
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, wk, &a, 1));
  ASSERT_EQ(a.ulValueLen, sizeof(CK_ATTRIBUTE));
  char label[32] = {};
  CK_ATTRIBUTE inner{0, label, sizeof label};
  a.pValue = &inner;
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, wk, &a, 1));
  EXPECT_EQ(inner.type, static_cast<CK_ATTRIBUTE_TYPE>(CKA_LABEL));
  EXPECT_EQ(std::string(label, inner.ulValueLen), "exportable");
}

TEST_F(KeyTemplatesTest, UnwrapTemplateIsAddedAndConflictsAreRefused) {
  Template forced;
  forced.Bool(CKA_SENSITIVE, true).Bool(CKA_EXTRACTABLE, false);
  CK_OBJECT_HANDLE wk = Wrapper(ArrayAttr(CKA_UNWRAP_TEMPLATE, forced));
  CK_OBJECT_HANDLE plain = Wrapper(Template{});
  CK_RV rv = CKR_GENERAL_ERROR;
  // Wrapped by a key without templates, with the same value as wk.
  Bytes blob = Wrap(plain, Secret("payload"), &rv);
  ASSERT_CKR_OK(rv);
  CK_MECHANISM m{CKM_AES_KEY_WRAP_KWP, nullptr, 0};
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_UnwrapKey(session_, &m, wk, blob.data(), blob.size(), t.data(), t.size(), &out));
  EXPECT_EQ(GetBool(f_, session_, out, CKA_SENSITIVE), std::optional<bool>(true));
  EXPECT_EQ(GetBool(f_, session_, out, CKA_EXTRACTABLE), std::optional<bool>(false));
  t.Bool(CKA_EXTRACTABLE, true);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT,
             f_->C_UnwrapKey(session_, &m, wk, blob.data(), blob.size(), t.data(), t.size(), &out));
}

TEST_F(KeyTemplatesTest, DeriveTemplateIsAddedAndConflictsAreRefused) {
  Template forced;
  forced.Bool(CKA_EXTRACTABLE, false);
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Bytes(CKA_VALUE, Bytes(32, 0x61));
  t.Bool(CKA_TOKEN, false).Bool(CKA_DERIVE, true).Append(ArrayAttr(CKA_DERIVE_TEMPLATE, forced));
  CK_OBJECT_HANDLE base = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_CreateObject(session_, t.data(), t.size(), &base));
  CK_OBJECT_HANDLE other = Secret("other");
  CK_MECHANISM m{CKM_CONCATENATE_BASE_AND_KEY, &other, sizeof other};
  Template d;
  d.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_DeriveKey(session_, &m, base, d.data(), d.size(), &out));
  EXPECT_EQ(GetBool(f_, session_, out, CKA_EXTRACTABLE), std::optional<bool>(false));
  d.Bool(CKA_EXTRACTABLE, true);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, f_->C_DeriveKey(session_, &m, base, d.data(), d.size(), &out));
}

TEST_F(KeyTemplatesTest, NestedArraysAndMalformedArraysAreInvalid) {
  Template inner;
  inner.Bool(CKA_SENSITIVE, true);
  Template nested = ArrayAttr(CKA_WRAP_TEMPLATE, inner);
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bytes(CKA_VALUE, Bytes(16, 1)).Bool(CKA_TOKEN, false);
  Template bad = t;
  bad.Append(ArrayAttr(CKA_WRAP_TEMPLATE, nested));
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, f_->C_CreateObject(session_, bad.data(), bad.size(), &h));
  Template odd = t;
  odd.Raw(CKA_UNWRAP_TEMPLATE, "xyz", 3);
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, f_->C_CreateObject(session_, odd.data(), odd.size(), &h));
}

TEST_F(KeyTemplatesTest, WrappingKeyDoesNotDecryptUnlessAsked) {
  CK_OBJECT_HANDLE wk = Wrapper(Template{}, /*decrypt_given=*/false);
  EXPECT_EQ(GetBool(f_, session_, wk, CKA_DECRYPT), std::optional<bool>(false));
  EXPECT_EQ(GetBool(f_, session_, wk, CKA_ENCRYPT), std::optional<bool>(false));
  Bytes iv(16, 0);
  CK_MECHANISM cbc{CKM_AES_CBC_PAD, iv.data(), iv.size()};
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_DecryptInit(session_, &cbc, wk));
  Template both;
  both.Bool(CKA_DECRYPT, true);
  CK_OBJECT_HANDLE asked = Wrapper(both, /*decrypt_given=*/false);
  EXPECT_CKR_OK(f_->C_DecryptInit(session_, &cbc, asked)) << "the template said so";
}

TEST_F(KeyTemplatesTest, PrivateKeysWrapAsPkcs8AndSignAfterUnwrap) {
  CK_OBJECT_HANDLE wk = Wrapper(Template{});
  for (const char* curve : {"P-256", "Ed25519"}) {
    SCOPED_TRACE(curve);
    KeyPair kp = std::string(curve) == "P-256"
                     ? GenerateEc(f_, session_, curve, KeyOptions{.extractable = true})
                     : GenerateEdwards(f_, session_, CurveOid(curve), KeyOptions{.extractable = true});
    ASSERT_CKR_OK(kp.rv);
    CK_RV rv = CKR_GENERAL_ERROR;
    Bytes blob = Wrap(wk, kp.priv, &rv);
    ASSERT_CKR_OK(rv);
    CK_MECHANISM m{CKM_AES_KEY_WRAP_KWP, nullptr, 0};
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true);
    CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_UnwrapKey(session_, &m, wk, blob.data(), blob.size(), t.data(), t.size(), &back));
    EXPECT_EQ(GetBool(f_, session_, back, CKA_LOCAL), std::optional<bool>(false));
    EXPECT_EQ(GetBool(f_, session_, back, CKA_ALWAYS_SENSITIVE), std::optional<bool>(false));
    const bool ec = std::string(curve) == "P-256";
    CK_MECHANISM sm{static_cast<CK_MECHANISM_TYPE>(ec ? CKM_ECDSA : CKM_EDDSA), nullptr, 0};
    Bytes data = ec ? OsslDigest("SHA256", AsBytes("unwrapped")) : AsBytes("unwrapped");
    ASSERT_CKR_OK(f_->C_SignInit(session_, &sm, back));
    Bytes sig(128);
    CK_ULONG len = sig.size();
    ASSERT_CKR_OK(f_->C_Sign(session_, data.data(), data.size(), sig.data(), &len));
    sig.resize(len);
    Pkey pub = PublicKeyFromObject(f_, session_, kp.pub);
    ASSERT_TRUE(pub);
    EXPECT_TRUE(OsslVerify(pub.get(), sm.mechanism, data, sig)) << "the unwrapped key is the original key";
  }
  KeyPair locked = GenerateEc(f_, session_, "P-256");  // unextractable
  ASSERT_CKR_OK(locked.rv);
  CK_RV rv = CKR_GENERAL_ERROR;
  Wrap(wk, locked.priv, &rv);
  EXPECT_CKR(CKR_KEY_UNEXTRACTABLE, rv);
  Bytes junk(40, 0x77);
  CK_MECHANISM m{CKM_AES_KEY_WRAP_KWP, nullptr, 0};
  Template t;
  t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_WRAPPED_KEY_INVALID, f_->C_UnwrapKey(session_, &m, wk, junk.data(), junk.size(), t.data(), t.size(), &back));
}

}  // namespace
}  // namespace ferrohsm::abi
