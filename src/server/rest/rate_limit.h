// The REST API's rate limit: a token bucket per identity — `rate` requests per second,
// bursts of up to `rate`. The table is bounded: past 10,000 identities it starts afresh
// (which only makes it lenient for a moment).
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace ferrohsm::server::rest {

class RateLimit {
 public:
  explicit RateLimit(double rate) : rate_(rate) {}
  bool admit(const std::string& who) {
    std::lock_guard<std::mutex> lock(mu_);
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
    if (buckets_.size() >= 10000) buckets_.clear();
    auto [it, fresh] = buckets_.try_emplace(who, Bucket{rate_, now});
    Bucket& b = it->second;
    if (!fresh) b.tokens = std::min(rate_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace ferrohsm::server::rest
