#include "core/object_policy.h"

#include <gtest/gtest.h>

namespace ferrohsm {
namespace {

AttrMap aes_template() {
  AttrMap t;
  t.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
  t.set_ulong(CKA_KEY_TYPE, CKK_AES);
  Bytes v(16, 0x11);
  t.set(CKA_VALUE, v);
  return t;
}

TEST(ObjectPolicyTest, CreatedKeyGetsDefaultsAndDerivedAttributes) {
  auto a = complete_created(aes_template(), false);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->get_ulong(CKA_VALUE_LEN), 16u);
  EXPECT_EQ(a->get_bool(CKA_LOCAL), false);
  EXPECT_EQ(a->get_ulong(CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(a->get_bool(CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(a->get_bool(CKA_NEVER_EXTRACTABLE), false);
  EXPECT_EQ(a->get_bool(CKA_SENSITIVE), true);
  EXPECT_EQ(a->get_bool(CKA_TOKEN), false);
  EXPECT_EQ(a->get_bool(CKA_PRIVATE), true);  // secret and private keys default to private
  EXPECT_EQ(can_reveal(*a, CKA_VALUE), Reveal::Sensitive);
  EXPECT_EQ(can_reveal(*a, CKA_VALUE_LEN), Reveal::Ok);
  EXPECT_EQ(can_reveal(*a, CKA_MODULUS), Reveal::Invalid);
  EXPECT_TRUE(must_seal(*a, CKA_VALUE));
  EXPECT_FALSE(must_seal(*a, CKA_LABEL));
}

TEST(ObjectPolicyTest, CreateTemplateErrors) {
  AttrMap t = aes_template();
  t.erase(CKA_VALUE);
  EXPECT_EQ(complete_created(t, false).rv(), CKR_TEMPLATE_INCOMPLETE);
  t = aes_template();
  t.set_bool(CKA_LOCAL, true);
  EXPECT_EQ(complete_created(t, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  t = aes_template();
  t.set(CKA_MODULUS, Bytes{1});
  EXPECT_EQ(complete_created(t, false).rv(), CKR_TEMPLATE_INCONSISTENT);
  t = aes_template();
  t.set_bool(CKA_TRUSTED, true);
  EXPECT_EQ(complete_created(t, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  EXPECT_TRUE(complete_created(t, true).ok());
  AttrMap none;
  EXPECT_EQ(complete_created(none, false).rv(), CKR_TEMPLATE_INCOMPLETE);
  AttrMap odd;
  odd.set_ulong(CKA_CLASS, 0x1234);
  EXPECT_EQ(complete_created(odd, false).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
}

TEST(ObjectPolicyTest, SetFollowsTheOneWayRules) {
  AttrMap a = *complete_created(aes_template(), false);
  AttrMap c;
  c.set_bool(CKA_SENSITIVE, false);
  EXPECT_EQ(apply_set(a, c, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  c = AttrMap();
  c.set_bool(CKA_EXTRACTABLE, true);
  AttrMap unextractable = a;
  unextractable.set_bool(CKA_EXTRACTABLE, false);
  EXPECT_EQ(apply_set(unextractable, c, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  c = AttrMap();
  c.set(CKA_LABEL, Bytes{'x'});
  auto changed = apply_set(a, c, false);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->view(CKA_LABEL).size(), 1u);
  c = AttrMap();
  c.set_ulong(CKA_VALUE_LEN, 32);
  EXPECT_EQ(apply_set(a, c, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  AttrMap fixed = a;
  fixed.set_bool(CKA_MODIFIABLE, false);
  c = AttrMap();
  c.set(CKA_LABEL, Bytes{'y'});
  EXPECT_EQ(apply_set(fixed, c, false).rv(), CKR_ACTION_PROHIBITED);
}

TEST(ObjectPolicyTest, CopyMayChangeTokenButNotMaterial) {
  AttrMap a = *complete_created(aes_template(), false);
  a.set(CKA_UNIQUE_ID, Bytes{'1'});
  AttrMap c;
  c.set_bool(CKA_TOKEN, true);
  auto copy = apply_copy(a, c, false);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->get_bool(CKA_TOKEN), true);
  EXPECT_FALSE(copy->has(CKA_UNIQUE_ID));
  c = AttrMap();
  c.set(CKA_VALUE, Bytes(16, 0x22));
  EXPECT_EQ(apply_copy(a, c, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
  AttrMap nocopy = a;
  nocopy.set_bool(CKA_COPYABLE, false);
  EXPECT_EQ(apply_copy(nocopy, AttrMap(), false).rv(), CKR_ACTION_PROHIBITED);
}

TEST(ObjectPolicyTest, GenerateTemplateRejectsMaterialAndWrongTypes) {
  AttrMap t;
  t.set(CKA_VALUE, Bytes(16, 1));
  EXPECT_EQ(check_generate_template(CKO_SECRET_KEY, CKK_AES, t, false).rv(), CKR_TEMPLATE_INCONSISTENT);
  t = AttrMap();
  t.set_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  EXPECT_EQ(check_generate_template(CKO_SECRET_KEY, CKK_AES, t, false).rv(), CKR_TEMPLATE_INCONSISTENT);
  t = AttrMap();
  t.set_ulong(CKA_VALUE_LEN, 16);
  EXPECT_TRUE(check_generate_template(CKO_SECRET_KEY, CKK_AES, t, false).ok());
  t.set_bool(CKA_ALWAYS_SENSITIVE, true);
  EXPECT_EQ(check_generate_template(CKO_SECRET_KEY, CKK_AES, t, false).rv(), CKR_ATTRIBUTE_READ_ONLY);
}

TEST(ObjectPolicyTest, PrivateDataValuesAreSealed) {
  AttrMap d;
  d.set_ulong(CKA_CLASS, CKO_DATA);
  d.set(CKA_VALUE, Bytes{1, 2});
  AttrMap pub = *complete_created(d, false);
  EXPECT_EQ(pub.get_bool(CKA_PRIVATE), false);  // data objects default to public
  EXPECT_FALSE(must_seal(pub, CKA_VALUE));
  d.set_bool(CKA_PRIVATE, true);
  AttrMap priv = *complete_created(d, false);
  EXPECT_TRUE(must_seal(priv, CKA_VALUE));
}

}  // namespace
}  // namespace ferrohsm
