#include <ferrohsm/client/pin_chain.h>
#include <gtest/gtest.h>

namespace fc = ferrohsm::client;

namespace {
fc::PinRequest req() { return fc::PinRequest{"s", 2, fc::PinReason::reauth}; }
}  // namespace

TEST(PinChain, PerCallPinComesFirst) {
  int calls = 0;
  fc::PinCallback cb = [&](const fc::PinRequest&) { ++calls; return std::optional<fc::Secret>(fc::Secret("cb")); };
  std::optional<fc::Secret> per_call(fc::Secret("1234"));
  auto pin = fc::resolve_pin(per_call, cb, req());
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->view(), "1234");
  EXPECT_EQ(calls, 0);
}

TEST(PinChain, CallbackIsAskedWithTheRequest) {
  fc::PinRequest seen;
  fc::PinCallback cb = [&](const fc::PinRequest& r) { seen = r; return std::optional<fc::Secret>(fc::Secret("cb")); };
  auto pin = fc::resolve_pin(std::nullopt, cb, req());
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->view(), "cb");
  EXPECT_EQ(seen.slot_ref, "s");
  EXPECT_EQ(seen.worker_index, 2);
  EXPECT_EQ(seen.reason, fc::PinReason::reauth);
}

TEST(PinChain, NoPinIsAnError) {
  auto none = fc::resolve_pin(std::nullopt, nullptr, req());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, fc::ErrorKind::no_pin);
  EXPECT_NE(none.error().message.find("no pin_callback"), std::string::npos);
  fc::PinCallback decline = [](const fc::PinRequest&) { return std::optional<fc::Secret>(); };
  auto declined = fc::resolve_pin(std::nullopt, decline, req());
  ASSERT_FALSE(declined.ok());
  EXPECT_NE(declined.error().message.find("declined"), std::string::npos);
}

TEST(Secret, WipesOnMoveAndWipe) {
  fc::Secret a("secret-pin");
  fc::Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from secret is wiped
  EXPECT_EQ(b.view(), "secret-pin");
  b.wipe();
  EXPECT_TRUE(b.empty());
}
