#include "ferrohsm/signer/cloud/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

namespace ferrohsm::signer::cloud {

RetryPolicy RetryPolicy::from(const CloudHttpSettings& s) {
  RetryPolicy p;
  p.max_attempts = std::max(1, s.max_attempts);
  p.attempt_timeout = std::chrono::milliseconds(std::max(1, s.attempt_timeout_ms));
  p.backoff_base = std::chrono::milliseconds(std::max(0, s.backoff_base_ms));
  p.backoff_max = std::chrono::milliseconds(std::max(0, s.backoff_max_ms));
  return p;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt) {
  // Full jitter (the AWS architecture blog's recommendation): spreads the retries of
  // many clients throttled at once instead of bunching them.
  long long cap = policy.backoff_base.count();
  for (int i = 1; i < attempt && cap < policy.backoff_max.count(); ++i) cap *= 2;
  cap = std::min<long long>(cap, policy.backoff_max.count());
  if (cap <= 0) return std::chrono::milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, cap)(rng));
}

std::chrono::milliseconds attempt_timeout(const Context& ctx, const RetryPolicy& policy) {
  auto t = policy.attempt_timeout;
  if (auto deadline = ctx.deadline()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Context::Clock::now());
    t = std::min(t, std::max(left, std::chrono::milliseconds(1)));
  }
  return t;
}

bool wait_before_retry(const Context& ctx, std::chrono::milliseconds delay) {
  auto until = Context::Clock::now() + delay;
  if (auto deadline = ctx.deadline(); deadline && until >= *deadline) return false;
  while (Context::Clock::now() < until) {
    if (ctx.cancelled()) return false;
    std::this_thread::sleep_for(std::min<Context::Clock::duration>(until - Context::Clock::now(),
                                                                    std::chrono::milliseconds(10)));
  }
  return !ctx.cancelled();
}

void log_retry(std::string_view what, int attempt, int max_attempts, const Error& error,
               std::chrono::milliseconds delay) {
  spdlog::warn("{}: attempt {}/{} failed: {}; trying again in {} ms", what, attempt, max_attempts, error.message,
               delay.count());
}

}  // namespace ferrohsm::signer::cloud
