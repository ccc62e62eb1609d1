#include "core/token_key_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace ferrohsm {
namespace {

const Bytes kWrap = {1, 2, 3, 4}, kOtherWrap = {9, 9};
const SecureBytes kKey(32, 0x42);

TEST(TokenKeyCache, TheRightPinForTheSameWrapTakesTheKey) {
  TokenKeyCache c(std::chrono::milliseconds(60'000));
  c.remember(1, kWrap, "1234", kKey);
  c.hold(1);
  auto k = c.lookup(1, kWrap, "1234");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(*k, kKey);
  EXPECT_FALSE(c.lookup(1, kWrap, "1235").has_value());       // a wrong PIN never
  EXPECT_FALSE(c.lookup(1, kOtherWrap, "1234").has_value());  // a PIN changed elsewhere: another wrap
  EXPECT_FALSE(c.lookup(2, kWrap, "1234").has_value());       // another token
}

TEST(TokenKeyCache, KeptForTheGracePeriodAfterTheLastLogout) {
  TokenKeyCache c(std::chrono::milliseconds(50));
  c.remember(1, kWrap, "1234", kKey);
  c.hold(1);
  c.hold(1);
  c.release(1);
  EXPECT_TRUE(c.lookup(1, kWrap, "1234").has_value());  // one holder left
  c.release(1);
  EXPECT_TRUE(c.lookup(1, kWrap, "1234").has_value());  // within the grace period
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  EXPECT_FALSE(c.lookup(1, kWrap, "1234").has_value());
  EXPECT_EQ(c.size(), 0u);
}

TEST(TokenKeyCache, NoGraceForgetsAtOnceAndForgetDropsHeldKeys) {
  TokenKeyCache c;
  c.remember(1, kWrap, "1234", kKey);
  c.hold(1);
  c.release(1);
  EXPECT_FALSE(c.lookup(1, kWrap, "1234").has_value());
  c.remember(1, kWrap, "1234", kKey);
  c.hold(1);
  c.forget(1);
  EXPECT_FALSE(c.lookup(1, kWrap, "1234").has_value());
}

}  // namespace
}  // namespace ferrohsm
