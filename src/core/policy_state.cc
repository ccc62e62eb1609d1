#include "core/policy_state.h"

#include <algorithm>

namespace ferrohsm {

namespace {
// Past this many buckets, the full ones (idle for a whole period) are dropped: a full
// bucket is what a fresh one would be.
constexpr size_t kPruneBuckets = 10000;
}  // namespace

void PolicyState::set(Policy p) {
  const bool any = !p.empty();
  rules_.store(std::make_shared<const Policy>(std::move(p)), std::memory_order_release);
  active_.store(any, std::memory_order_release);
  std::lock_guard<std::mutex> lock(rate_mu_);
  buckets_.clear();  // a reloaded rate starts afresh
}

bool PolicyState::take_rate(const std::string& rule, const std::string& identity, const std::string& key,
                            const PolicyRate& rate) {
  const auto now = std::chrono::steady_clock::now();
  const double capacity = static_cast<double>(rate.count);
  const double per_ms = capacity / static_cast<double>(rate.period_ms);
  std::lock_guard<std::mutex> lock(rate_mu_);
  auto [it, fresh] = buckets_.try_emplace(std::make_tuple(rule, identity, key));
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = capacity;
  } else {
    const double ms = std::chrono::duration<double, std::milli>(now - b.at).count();
    b.tokens = std::min(capacity, b.tokens + ms * per_ms);
  }
  b.at = now;
  b.period_ms = rate.period_ms;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  if (buckets_.size() > kPruneBuckets) {
    std::erase_if(buckets_, [&](const auto& e) {
      const double idle = std::chrono::duration<double, std::milli>(now - e.second.at).count();
      return &e.second != &b && idle >= static_cast<double>(e.second.period_ms);
    });
  }
  return true;
}

}  // namespace ferrohsm
