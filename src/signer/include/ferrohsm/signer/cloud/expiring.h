// A credential (access token, temporary AWS keys) kept until shortly before it expires.
// One fetch at a time: callers that find it stale wait for the fetch under way instead
// of all asking the token endpoint at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer::cloud {

using SteadyTime = std::chrono::steady_clock::time_point;

// T carries `std::optional<SteadyTime> expires` (nullopt: never expires by itself).
template <class T>
class Expiring {
 public:
  using Fetch = std::function<Result<T>(const Context&)>;
  explicit Expiring(Fetch fetch) : fetch_(std::move(fetch)) {}

  // The cached value while it is fresh, else a new one.
  Result<T> get(const Context& ctx) {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (value_ && fresh(now)) return *value_;
    auto fetched = fetch_(ctx);
    if (!fetched) return fetched.error();
    value_ = *fetched;
    obtained_ = now;
    return *value_;
  }
  // The service refused the cached value (expired early, revoked): fetch anew next time.
  void invalidate() {
    std::lock_guard lock(mu_);
    value_.reset();
  }

 private:
  // Stale a quarter of its lifetime (at most 5 minutes) before it expires, so a request
  // never leaves with a credential that runs out on the way.
  bool fresh(SteadyTime now) const {
    if (!value_->expires) return true;
    auto life = *value_->expires - obtained_;
    auto margin = std::min<std::chrono::steady_clock::duration>(life / 4, std::chrono::minutes(5));
    return now < *value_->expires - margin;
  }

  Fetch fetch_;
  std::mutex mu_;
  std::optional<T> value_;
  SteadyTime obtained_{};
};

}  // namespace ferrohsm::signer::cloud
