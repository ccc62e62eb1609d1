#include "base/busy_poll.h"

#include <gtest/gtest.h>

namespace ferrohsm {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(BusyPoll, ABudgetOfZeroNeverPolls) {
  BusyPoll busy(microseconds(0));
  EXPECT_FALSE(busy.enabled(BusyPoll::Clock::now()));
}

TEST(BusyPoll, PollsUntilTheBudgetIsSpent) {
  BusyPoll busy(microseconds(50));
  const auto t0 = BusyPoll::Clock::now();
  ASSERT_TRUE(busy.enabled(t0));
  EXPECT_TRUE(busy.keep_polling(t0, t0 + microseconds(20), t0 + microseconds(21)));
  EXPECT_FALSE(busy.keep_polling(t0, t0 + microseconds(49), t0 + microseconds(50)));
  EXPECT_TRUE(busy.enabled(t0 + microseconds(51)));  // spending the budget is no reason to back off
}

TEST(BusyPoll, APreemptedPollerBacksOffForAWhile) {
  BusyPoll busy(microseconds(50));
  const auto t0 = BusyPoll::Clock::now();
  // 40 µs between two polls: the thread did not run; the machine has no CPU to spare.
  EXPECT_FALSE(busy.keep_polling(t0, t0 + microseconds(1), t0 + microseconds(41)));
  EXPECT_FALSE(busy.enabled(t0 + microseconds(41)));
  EXPECT_FALSE(busy.enabled(t0 + milliseconds(99)));
  EXPECT_TRUE(busy.enabled(t0 + microseconds(41) + BusyPoll::kBackOff));
}

}  // namespace
}  // namespace ferrohsm
