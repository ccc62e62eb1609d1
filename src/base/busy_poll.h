// Bounded busy polling: a thread that expects input within microseconds polls for it
// instead of sleeping, because waking a sleeping thread is most of a round trip on a
// virtual machine (docs/SERVER.md, "Busy polling"). It only pays while a CPU is free: a
// thread that finds it was preempted between two polls (the machine is busy, and its
// polling takes CPU from the threads it waits for) stops polling for a while and sleeps
// as before. Used by ferrohsm-server's event loops and the sidecar client's reader.
#pragma once

#include <atomic>
#include <chrono>

namespace ferrohsm {

class BusyPoll {
 public:
  using Clock = std::chrono::steady_clock;
  // A gap this long between two polls means the thread was preempted.
  static constexpr std::chrono::microseconds kPreempted{30};
  // How long polling stays off after that.
  static constexpr std::chrono::milliseconds kBackOff{100};

  explicit BusyPoll(std::chrono::microseconds budget) : budget_(budget) {}

  std::chrono::microseconds budget() const { return budget_; }

  // Whether to poll now (a budget is set and no back-off runs).
  bool enabled(Clock::time_point now) const {
    return budget_.count() > 0 && now.time_since_epoch().count() >= off_until_.load(std::memory_order_relaxed);
  }

  // Called between two polls, `last` being the time of the previous one. False when
  // polling should stop: the budget since `start` is spent, or the thread was preempted
  // (then polling stays off for kBackOff).
  bool keep_polling(Clock::time_point start, Clock::time_point last, Clock::time_point now) {
    if (now - last >= kPreempted) {
      off_until_.store((now + kBackOff).time_since_epoch().count(), std::memory_order_relaxed);
      return false;
    }
    return now - start < budget_;
  }

 private:
  std::chrono::microseconds budget_;
  std::atomic<Clock::rep> off_until_{0};
};

}  // namespace ferrohsm
