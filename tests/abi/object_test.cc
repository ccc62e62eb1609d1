// Object life cycle per class: create / get / set / copy / size / destroy for data,
// X.509 certificate, public, private and secret key objects.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_keys.h"

namespace ferrohsm::abi {
namespace {

using ObjectTest = TokenTest;

std::string Str(const std::optional<Bytes>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<unavailable>");
}

TEST_F(ObjectTest, DataObjectLifeCycle) {
  Created c = CreateObject(f_, session_, DataObject("data-1", true));
  ASSERT_CKR_OK(c.rv);
  ASSERT_NE(c.handle, CK_INVALID_HANDLE);
  EXPECT_EQ(GetUlong(f_, session_, c.handle, CKA_CLASS), CKO_DATA);
  EXPECT_EQ(Str(GetBytes(f_, session_, c.handle, CKA_VALUE)), "data object value");
  EXPECT_EQ(Str(GetBytes(f_, session_, c.handle, CKA_APPLICATION)), "ferrohsm-abi");
  EXPECT_EQ(GetBool(f_, session_, c.handle, CKA_TOKEN), true);
  ASSERT_CKR_OK(SetAttrs(f_, session_, c.handle, Template().Str(CKA_LABEL, "data-renamed")));
  EXPECT_EQ(Str(GetBytes(f_, session_, c.handle, CKA_LABEL)), "data-renamed");

  CK_ULONG size = 0;
  CK_RV rv = f_->C_GetObjectSize(session_, c.handle, &size);
  EXPECT_CKR_OK(rv);
  EXPECT_TRUE(size > 0) << "size " << size;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetObjectSize(session_, c.handle, nullptr));

  ASSERT_CKR_OK(f_->C_DestroyObject(session_, c.handle));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_DestroyObject(session_, c.handle));
  CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(session_, c.handle, &a, 1));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetObjectSize(session_, c.handle, &size));
}

TEST_F(ObjectTest, CopyObjectOverridesModifiableAttributes) {
  Created c = CreateObject(f_, session_, DataObject("original"));
  ASSERT_CKR_OK(c.rv);
  Template changes;
  changes.Str(CKA_LABEL, "the-copy").Bool(CKA_TOKEN, true);
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_CopyObject(session_, c.handle, changes.data(), changes.size(), &copy));
  EXPECT_NE(copy, c.handle);
  EXPECT_EQ(Str(GetBytes(f_, session_, copy, CKA_LABEL)), "the-copy");
  EXPECT_EQ(GetBool(f_, session_, copy, CKA_TOKEN), true);
  EXPECT_EQ(Str(GetBytes(f_, session_, copy, CKA_VALUE)), "data object value");
  EXPECT_EQ(Str(GetBytes(f_, session_, c.handle, CKA_LABEL)), "original") << "source changed";
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, c.handle));
  EXPECT_EQ(Str(GetBytes(f_, session_, copy, CKA_LABEL)), "the-copy") << "copy died with source";
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID,
             f_->C_CopyObject(session_, c.handle, changes.data(), changes.size(), &copy));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_CopyObject(session_, copy, changes.data(), changes.size(), nullptr));
}

TEST_F(ObjectTest, CopyCannotMakeASensitiveKeyReadable) {
  SecretKey k = ImportAes(f_, session_, Bytes(16, 0x42));
  ASSERT_CKR_OK(k.rv);
  Template t;
  t.Bool(CKA_SENSITIVE, false);
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f_->C_CopyObject(session_, k.handle, t.data(), t.size(), &copy));
}

TEST_F(ObjectTest, X509CertificateObject) {
  Pkey key = OsslGenerate("EC", "P-256");
  ASSERT_TRUE(key);
  Bytes subject;
  Bytes der = SelfSignedCert(key.get(), &subject);
  ASSERT_FALSE(der.empty());
  Template t;
  t.Ulong(CKA_CLASS, CKO_CERTIFICATE)
      .Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
      .Bool(CKA_TOKEN, true)
      .Str(CKA_LABEL, "cert")
      .Str(CKA_ID, "cert-id")
      .Bytes(CKA_SUBJECT, subject)
      .Bytes(CKA_VALUE, der);
  Created c = CreateObject(f_, session_, t);
  ASSERT_CKR_OK(c.rv);
  EXPECT_EQ(GetBytes(f_, session_, c.handle, CKA_VALUE), der);
  EXPECT_EQ(GetBytes(f_, session_, c.handle, CKA_SUBJECT), subject);
  EXPECT_EQ(GetUlong(f_, session_, c.handle, CKA_CERTIFICATE_TYPE), CKC_X_509);
  EXPECT_EQ(GetBool(f_, session_, c.handle, CKA_PRIVATE), false)
      << "certificates are public by default";
  auto found = Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_CERTIFICATE).Str(CKA_ID, "cert-id"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], c.handle);
  EXPECT_CKR_OK(f_->C_DestroyObject(session_, c.handle));
}

TEST_F(ObjectTest, ImportedEcKeyPairSignsAndVerifiesAgainstOpenSsl) {
  Pkey key = OsslGenerate("EC", "P-256");
  ASSERT_TRUE(key);
  EcParts parts = EcPartsOf(key.get(), "P-256");
  Template pub;
  pub.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_KEY_TYPE, CKK_EC).Bool(CKA_VERIFY, true)
      .Bytes(CKA_EC_PARAMS, parts.params).Bytes(CKA_EC_POINT, parts.point);
  Created p = CreateObject(f_, session_, pub);
  ASSERT_CKR_OK(p.rv);
  Template priv;
  priv.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_EC).Bool(CKA_SIGN, true)
      .Bool(CKA_PRIVATE, true).Bool(CKA_SENSITIVE, true)
      .Bytes(CKA_EC_PARAMS, parts.params).Bytes(CKA_VALUE, parts.scalar);
  Created k = CreateObject(f_, session_, priv);
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetBytes(f_, session_, p.handle, CKA_EC_POINT), parts.point);

  // Module signs, OpenSSL verifies.
  Bytes digest = OsslDigest("SHA256", AsBytes("imported key"));
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, k.handle));
  Bytes sig(64);
  CK_ULONG len = sig.size();
  ASSERT_CKR_OK(f_->C_Sign(session_, digest.data(), digest.size(), sig.data(), &len));
  sig.resize(len);
  EXPECT_TRUE(OsslVerify(key.get(), CKM_ECDSA, digest, sig));

  // OpenSSL signs, module verifies.
  Bytes msg = AsBytes("signed by openssl");
  Bytes osig = OsslEcdsaSignRaw(key.get(), msg, 32);
  Bytes mdigest = OsslDigest("SHA256", msg);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, p.handle));
  EXPECT_CKR_OK(f_->C_Verify(session_, mdigest.data(), mdigest.size(), osig.data(), osig.size()));
}

TEST_F(ObjectTest, ImportedRsaPrivateKeyWorks) {
  Pkey key = OsslGenerate("RSA", "2048");
  ASSERT_TRUE(key);
  RsaParts r = RsaPartsOf(key.get());
  Template priv;
  priv.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_SIGN, true)
      .Bool(CKA_PRIVATE, true).Bool(CKA_SENSITIVE, true)
      .Bytes(CKA_MODULUS, r.n).Bytes(CKA_PUBLIC_EXPONENT, r.e).Bytes(CKA_PRIVATE_EXPONENT, r.d)
      .Bytes(CKA_PRIME_1, r.p).Bytes(CKA_PRIME_2, r.q).Bytes(CKA_EXPONENT_1, r.dp)
      .Bytes(CKA_EXPONENT_2, r.dq).Bytes(CKA_COEFFICIENT, r.qinv);
  Created k = CreateObject(f_, session_, priv);
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetBytes(f_, session_, k.handle, CKA_MODULUS), r.n);
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  Bytes msg = AsBytes("rsa import");
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, k.handle));
  Bytes sig(256);
  CK_ULONG len = sig.size();
  ASSERT_CKR_OK(f_->C_Sign(session_, msg.data(), msg.size(), sig.data(), &len));
  sig.resize(len);
  EXPECT_TRUE(OsslVerify(key.get(), CKM_SHA256_RSA_PKCS, msg, sig));
}

TEST_F(ObjectTest, SecretKeyObject) {
  Bytes value(32, 0x5A);
  KeyOptions o;
  o.sensitive = false;
  o.extractable = true;
  o.encrypt = true;
  o.sign = false;
  SecretKey k = ImportAes(f_, session_, value, o);
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetUlong(f_, session_, k.handle, CKA_KEY_TYPE), CKK_AES);
  EXPECT_EQ(GetBytes(f_, session_, k.handle, CKA_VALUE), value) << "non-sensitive value readable";
  EXPECT_EQ(GetUlong(f_, session_, k.handle, CKA_VALUE_LEN), 32u);
  EXPECT_CKR_OK(f_->C_DestroyObject(session_, k.handle));
}

}  // namespace
}  // namespace ferrohsm::abi
