#include <ferrohsm/client/config.h>
#include <gtest/gtest.h>

namespace fc = ferrohsm::client;

namespace {
fc::SlotConfig base() {
  fc::SlotConfig c;
  c.slot_ref = "signing";
  c.module_path = "/nonexistent.so";
  c.token_label = "tok";
  c.keys = {{"k", "label"}};
  return c;
}
}  // namespace

TEST(Config, TokenSlotWithPoolIsRefusedWithAReason) {
  auto c = base();
  c.type = fc::SlotType::token;
  c.session_pool_size = 4;
  auto s = fc::validate(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, fc::ErrorKind::config);
  EXPECT_NE(s.error().message.find("session_pool_size is 4"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("token slots cannot pool"), std::string::npos) << s.error().message;
}

TEST(Config, PoolSlotMayPool) {
  auto c = base();
  c.type = fc::SlotType::pool;
  c.session_pool_size = 4;
  EXPECT_TRUE(fc::validate(c).ok());
}

TEST(Config, SlotIdOrLabelExactlyOne) {
  auto c = base();
  c.slot_id = 3;
  EXPECT_FALSE(fc::validate(c).ok());
  c.token_label.reset();
  EXPECT_TRUE(fc::validate(c).ok());
  c.slot_id.reset();
  EXPECT_FALSE(fc::validate(c).ok());
}

TEST(Config, ParsesTypesAndPolicies) {
  EXPECT_EQ(*fc::parse_slot_type("token"), fc::SlotType::token);
  EXPECT_EQ(*fc::parse_slot_type("network"), fc::SlotType::pool);
  EXPECT_FALSE(fc::parse_slot_type("").ok());
  EXPECT_EQ(*fc::parse_reauth_policy("prompt"), fc::ReauthPolicy::prompt);
  EXPECT_EQ(*fc::parse_reauth_policy("fail"), fc::ReauthPolicy::fail);
  auto bad = fc::parse_reauth_policy("retry");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'retry'"), std::string::npos);
}

TEST(Config, KeyRefResolvesThroughTheMapOnly) {
  auto c = base();
  EXPECT_EQ(*fc::resolve_key_label(c, "k"), "label");
  auto missing = fc::resolve_key_label(c, "label");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, fc::ErrorKind::key_not_found);
}
