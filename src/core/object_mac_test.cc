#include "core/object_mac.h"

#include "core/seal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace ferrohsm {
namespace {

store::StoredAttr Ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) {
  store::StoredAttr a;
  a.type = t;
  a.value.resize(sizeof v);
  std::memcpy(a.value.data(), &v, sizeof v);
  return a;
}

store::StoredAttr Flag(CK_ATTRIBUTE_TYPE t, bool v) { return store::StoredAttr{t, Bytes{uint8_t(v ? 1 : 0)}, false}; }

class ObjectMacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tk = random_bytes(kTokenKeyBytes);
    ASSERT_TRUE(tk.ok());
    token_key_ = *tk;
    auto k = derive_object_mac_key(token_key_);
    ASSERT_TRUE(k.ok());
    key_ = *k;
    row_.id = 7;
    row_.meta.token_id = 1;
    row_.meta.cls = CKO_PRIVATE_KEY;
    row_.meta.key_type = CKK_EC;
    row_.meta.label = {'k'};
    row_.meta.is_private = true;
    row_.attrs = {Ulong(CKA_CLASS, CKO_PRIVATE_KEY), Flag(CKA_SENSITIVE, true), Flag(CKA_EXTRACTABLE, false),
                  store::StoredAttr{CKA_VALUE, Bytes{1, 2, 3}, true}};
    auto mac = object_mac(key_, "serial", row_.id, row_.meta, row_.attrs);
    ASSERT_TRUE(mac.ok());
    row_.mac = *mac;
  }
  SecureBytes token_key_, key_;
  store::ObjectRow row_;
};

TEST_F(ObjectMacTest, KeyIsDerivedNotTheTokenKeyItself) {
  EXPECT_EQ(key_.size(), kObjectMacBytes);
  EXPECT_NE(key_, token_key_);
  EXPECT_EQ(*derive_object_mac_key(token_key_), key_) << "deterministic";
}

TEST_F(ObjectMacTest, MatchesOnlyTheRowItWasMadeFor) {
  EXPECT_TRUE(object_mac_matches(key_, "serial", row_));
  EXPECT_FALSE(object_mac_matches(key_, "serial2", row_)) << "bound to the token's serial";
  store::ObjectRow r = row_;
  r.id = 8;
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "bound to the object id";
  r = row_;
  r.attrs[1].value = {0};
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "a flipped CKA_SENSITIVE";
  r = row_;
  r.attrs.pop_back();
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "a removed row";
  r = row_;
  r.attrs.push_back(Flag(CKA_DERIVE, true));
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "an added row";
  r = row_;
  r.attrs[3].sealed = false;
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "the sealed flag";
  r = row_;
  r.meta.is_private = false;
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "an indexed column";
  r = row_;
  r.meta.label = {};
  r.meta.ckid = {'k'};
  EXPECT_FALSE(object_mac_matches(key_, "serial", r)) << "bytes moved between fields";
  r = row_;
  std::swap(r.attrs[0], r.attrs[3]);
  EXPECT_TRUE(object_mac_matches(key_, "serial", r)) << "row order is not meaning";
  r = row_;
  r.mac.resize(31);
  EXPECT_FALSE(object_mac_matches(key_, "serial", r));
  auto other = random_bytes(kTokenKeyBytes);
  EXPECT_FALSE(object_mac_matches(*derive_object_mac_key(*other), "serial", row_)) << "another token key";
}

TEST_F(ObjectMacTest, OnlyWhatAPublicSessionWritesMayLackAMac) {
  store::ObjectMeta data;
  data.cls = CKO_DATA;
  std::vector<store::StoredAttr> attrs = {Ulong(CKA_CLASS, CKO_DATA), Flag(CKA_PRIVATE, false),
                                          store::StoredAttr{CKA_VALUE, Bytes{'x'}, false}};
  EXPECT_TRUE(may_lack_mac(data, attrs));
  auto with = [&](store::StoredAttr a) {
    auto v = attrs;
    for (auto& x : v)
      if (x.type == a.type) x = a;
    if (std::none_of(v.begin(), v.end(), [&](auto& x) { return x.type == a.type; })) v.push_back(a);
    return v;
  };
  EXPECT_FALSE(may_lack_mac(data, with(Flag(CKA_PRIVATE, true))));
  EXPECT_FALSE(may_lack_mac(data, with(Flag(CKA_TRUSTED, true))));
  EXPECT_FALSE(may_lack_mac(data, with(store::StoredAttr{CKA_VALUE, Bytes{1}, true})));
  EXPECT_FALSE(may_lack_mac(data, with(Ulong(CKA_CLASS, CKO_SECRET_KEY)))) << "keys always need a login";
  store::ObjectMeta priv = data;
  priv.is_private = true;
  EXPECT_FALSE(may_lack_mac(priv, attrs));
  store::ObjectMeta key = data;
  key.cls = CKO_PRIVATE_KEY;
  EXPECT_FALSE(may_lack_mac(key, attrs));
  store::ObjectMeta pub = data;
  pub.cls = CKO_PUBLIC_KEY;
  EXPECT_TRUE(may_lack_mac(pub, with(Ulong(CKA_CLASS, CKO_PUBLIC_KEY))));
}

}  // namespace
}  // namespace ferrohsm
