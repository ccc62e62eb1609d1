// What a process shares of the policy (one per Core): the rules in force — replaced
// whole by a reload (ferrohsm-server's SIGHUP) while calls run — and the rate limiters,
// which count per identity per key across every application (every connection) of the
// process.
#pragma once

#include "core/policy.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

namespace ferrohsm {

class PolicyState {
 public:
  explicit PolicyState(const Policy& initial) { set(initial); }

  // Whether any rule is in force: the one load the hot path makes when there is none.
  bool active() const { return active_.load(std::memory_order_acquire); }
  std::shared_ptr<const Policy> rules() const { return rules_.load(std::memory_order_acquire); }
  void set(Policy p);

  // Takes one use from the (rule, identity, key) bucket: false when `rate` is exhausted
  // for now. A token bucket of `rate.count`, refilled at count per period.
  bool take_rate(const std::string& rule, const std::string& identity, const std::string& key,
                 const PolicyRate& rate);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
    uint64_t period_ms = 0;
  };
  std::atomic<bool> active_{false};
  std::atomic<std::shared_ptr<const Policy>> rules_;
  std::mutex rate_mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Bucket> buckets_;
};

}  // namespace ferrohsm
