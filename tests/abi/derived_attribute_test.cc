// Attributes the token derives: CKA_LOCAL, CKA_KEY_GEN_MECHANISM, CKA_ALWAYS_SENSITIVE,
// CKA_NEVER_EXTRACTABLE, CKA_UNIQUE_ID, CKA_PUBLIC_KEY_INFO, and public components
// readable on private keys.
#include <set>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

using DerivedAttributeTest = TokenTest;

TEST_F(DerivedAttributeTest, GeneratedSecretKeyIsLocalAlwaysSensitiveNeverExtractable) {
  SecretKey k = GenerateAes(f_, session_, 32, KeyOptions{.sign = false, .encrypt = true});
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_LOCAL), true);
  EXPECT_EQ(GetUlong(f_, session_, k.handle, CKA_KEY_GEN_MECHANISM), CKM_AES_KEY_GEN);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_ALWAYS_SENSITIVE), true);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_NEVER_EXTRACTABLE), true);
  EXPECT_EQ(GetUlong(f_, session_, k.handle, CKA_VALUE_LEN), 32u);
}

TEST_F(DerivedAttributeTest, ReadableGeneratedKeyIsNeitherAlwaysSensitiveNorNeverExtractable) {
  KeyOptions o{.sensitive = false, .extractable = true, .sign = false, .encrypt = true};
  SecretKey k = GenerateAes(f_, session_, 16, o);
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_NEVER_EXTRACTABLE), false);
  // Becoming sensitive later does not make it "always" sensitive.
  ASSERT_CKR_OK(SetAttrs(f_, session_, k.handle,
                         Template().Bool(CKA_SENSITIVE, true).Bool(CKA_EXTRACTABLE, false)));
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_NEVER_EXTRACTABLE), false);
}

TEST_F(DerivedAttributeTest, ImportedKeyIsNotLocal) {
  SecretKey k = ImportAes(f_, session_, Bytes(16, 9));
  ASSERT_CKR_OK(k.rv);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_LOCAL), false);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(GetBool(f_, session_, k.handle, CKA_NEVER_EXTRACTABLE), false);
  // §4.7: CKA_KEY_GEN_MECHANISM is CK_UNAVAILABLE_INFORMATION for keys not generated here.
  EXPECT_EQ(GetUlong(f_, session_, k.handle, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
}

TEST_F(DerivedAttributeTest, GeneratedKeyPairsRecordTheirMechanism) {
  KeyPair rsa = GenerateRsa(f_, session_, 2048);
  ASSERT_CKR_OK(rsa.rv);
  KeyPair ec = GenerateEc(f_, session_, "P-256");
  ASSERT_CKR_OK(ec.rv);
  for (CK_OBJECT_HANDLE h : {rsa.pub, rsa.priv}) {
    EXPECT_EQ(GetBool(f_, session_, h, CKA_LOCAL), true);
    EXPECT_EQ(GetUlong(f_, session_, h, CKA_KEY_GEN_MECHANISM), CKM_RSA_PKCS_KEY_PAIR_GEN);
  }
  for (CK_OBJECT_HANDLE h : {ec.pub, ec.priv}) {
    EXPECT_EQ(GetBool(f_, session_, h, CKA_LOCAL), true);
    EXPECT_EQ(GetUlong(f_, session_, h, CKA_KEY_GEN_MECHANISM), CKM_EC_KEY_PAIR_GEN);
  }
  EXPECT_EQ(GetBool(f_, session_, rsa.priv, CKA_ALWAYS_SENSITIVE), true);
  EXPECT_EQ(GetBool(f_, session_, rsa.priv, CKA_NEVER_EXTRACTABLE), true);
  EXPECT_EQ(GetUlong(f_, session_, rsa.pub, CKA_MODULUS_BITS), 2048u);
}

TEST_F(DerivedAttributeTest, PrivateKeysExposeTheirPublicComponents) {
  KeyPair rsa = GenerateRsa(f_, session_, 2048);
  ASSERT_CKR_OK(rsa.rv);
  auto n = GetBytes(f_, session_, rsa.pub, CKA_MODULUS);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->size(), 256u);
  EXPECT_EQ(GetBytes(f_, session_, rsa.priv, CKA_MODULUS), n);
  EXPECT_EQ(GetBytes(f_, session_, rsa.priv, CKA_PUBLIC_EXPONENT),
            GetBytes(f_, session_, rsa.pub, CKA_PUBLIC_EXPONENT));
  KeyPair ec = GenerateEc(f_, session_, "P-384");
  ASSERT_CKR_OK(ec.rv);
  EXPECT_EQ(GetBytes(f_, session_, ec.priv, CKA_EC_PARAMS), CurveOid("P-384"));
  if (!IsSoftHsm()) {  // FerroHSM extension; SoftHSMv2 has no CKA_EC_POINT on private keys
    auto point = GetBytes(f_, session_, ec.pub, CKA_EC_POINT);
    ASSERT_TRUE(point.has_value());
    AttrValue on_priv = GetAttr(f_, session_, ec.priv, CKA_EC_POINT);
    EXPECT_CKR_OK(on_priv.rv) << "CKA_EC_POINT on the private key";
    EXPECT_EQ(on_priv.value, *point);
  }
}

TEST_F(DerivedAttributeTest, PublicKeyInfoMatchesTheKey) {
  SKIP_IF_SOFTHSM("SoftHSMv2 2.6 leaves CKA_PUBLIC_KEY_INFO empty on generated keys");
  KeyPair rsa = GenerateRsa(f_, session_, 2048);
  ASSERT_CKR_OK(rsa.rv);
  KeyPair ec = GenerateEc(f_, session_, "P-256");
  ASSERT_CKR_OK(ec.rv);
  KeyPair ed = GenerateEdwards(f_, session_, CurveOid("Ed25519"));
  ASSERT_CKR_OK(ed.rv);
  for (const KeyPair* kp : {&rsa, &ec, &ed}) {
    Pkey key = PublicKeyFromObject(f_, session_, kp->pub);
    ASSERT_TRUE(key);
    Bytes spki = SpkiDer(key.get());
    EXPECT_EQ(GetBytes(f_, session_, kp->pub, CKA_PUBLIC_KEY_INFO), spki);
    EXPECT_EQ(GetBytes(f_, session_, kp->priv, CKA_PUBLIC_KEY_INFO), spki);
  }
}

TEST_F(DerivedAttributeTest, UniqueIdIsPresentUniqueAndReadOnly) {
  SKIP_IF_SOFTHSM("CKA_UNIQUE_ID is PKCS#11 3.0; SoftHSMv2 2.6 implements 2.40");
  std::set<Bytes> ids;
  std::vector<CK_OBJECT_HANDLE> handles;
  for (int i = 0; i < 4; ++i) {
    Created c = CreateObject(f_, session_, DataObject("uid-" + std::to_string(i), i % 2 == 0));
    ASSERT_CKR_OK(c.rv);
    handles.push_back(c.handle);
  }
  SecretKey k = GenerateAes(f_, session_, 16);
  ASSERT_CKR_OK(k.rv);
  handles.push_back(k.handle);
  for (CK_OBJECT_HANDLE h : handles) {
    auto id = GetBytes(f_, session_, h, CKA_UNIQUE_ID);
    ASSERT_TRUE(id.has_value()) << "object " << h << " has no CKA_UNIQUE_ID";
    EXPECT_FALSE(id->empty());
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), handles.size()) << "CKA_UNIQUE_ID values repeat";
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             SetAttrs(f_, session_, handles[0], Template().Str(CKA_UNIQUE_ID, "mine")));
  Template t = DataObject("uid-supplied");
  t.Str(CKA_UNIQUE_ID, "chosen-by-app");
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, CreateObject(f_, session_, t).rv);
  CK_OBJECT_HANDLE copy = 0;
  Template relabel;
  relabel.Str(CKA_LABEL, "uid-copy");
  ASSERT_CKR_OK(f_->C_CopyObject(session_, handles[0], relabel.data(), relabel.size(), &copy));
  auto copy_id = GetBytes(f_, session_, copy, CKA_UNIQUE_ID);
  ASSERT_TRUE(copy_id.has_value());
  EXPECT_EQ(ids.count(*copy_id), 0u) << "a copy must get its own CKA_UNIQUE_ID";
}

}  // namespace
}  // namespace ferrohsm::abi
