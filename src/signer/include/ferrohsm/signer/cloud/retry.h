// Bounded retries with full-jitter exponential backoff, inside the call's deadline.
// Used by every cloud adapter around each service call: throttling, 5xx, timeouts and
// network failures are tried again; everything else is final at once.
#pragma once

#include <chrono>
#include <string_view>
#include <utility>

#include "ferrohsm/signer/cloud/settings.h"
#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer::cloud {

// What one attempt came to: a result, and whether a failure is worth another attempt.
template <class T>
struct Attempt {
  Result<T> result;
  bool retryable = false;
};

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds attempt_timeout{10000};
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2000};
  static RetryPolicy from(const CloudHttpSettings& s);
};

// The wait before attempt `attempt + 1`: uniform in [0, min(max, base * 2^(attempt-1))].
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt);
// The next attempt's timeout: the policy's, cut to what the context's deadline leaves.
std::chrono::milliseconds attempt_timeout(const Context& ctx, const RetryPolicy& policy);
// Sleeps `delay`, waking early on cancellation. False when the context is cancelled or
// its deadline comes before the wait would end (then there is no point waiting).
bool wait_before_retry(const Context& ctx, std::chrono::milliseconds delay);
void log_retry(std::string_view what, int attempt, int max_attempts, const Error& error,
               std::chrono::milliseconds delay);

// Runs attempt(timeout) until it succeeds, fails for good, the attempts run out or the
// context ends. A context already ended gives its own error (deadline_exceeded /
// cancelled); giving up after failures gives the last failure as provider_unavailable.
template <class T, class F>
Result<T> with_retries(const Context& ctx, const RetryPolicy& policy, std::string_view what, F&& attempt) {
  if (auto s = ctx.check(); !s) return s.error();
  Error last = Error::unavailable(std::string(what) + ": not attempted");
  int made = 0;
  for (int n = 1; n <= policy.max_attempts; ++n) {
    Attempt<T> a = attempt(attempt_timeout(ctx, policy));
    ++made;
    if (a.result.ok() || !a.retryable) return std::move(a.result);
    last = a.result.error();
    if (n == policy.max_attempts) break;
    auto delay = backoff_delay(policy, n);
    log_retry(what, n, policy.max_attempts, last, delay);
    if (!wait_before_retry(ctx, delay)) break;
  }
  return Error::unavailable(last.message + " (" + std::string(what) + ": gave up after " + std::to_string(made) +
                            (made == 1 ? " attempt" : " attempts") + ")");
}

}  // namespace ferrohsm::signer::cloud
