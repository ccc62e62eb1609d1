// A call context: an optional deadline and a cancellation token, checked by every
// provider before it does work.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer {

// Owner side of a cancellation: cancel() is seen by every Context made from it.
class CancelSource {
 public:
  CancelSource() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() { flag_->store(true, std::memory_order_release); }
  bool cancelled() const { return flag_->load(std::memory_order_acquire); }
  std::shared_ptr<const std::atomic<bool>> token() const { return flag_; }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

class Context {
 public:
  using Clock = std::chrono::steady_clock;

  // No deadline, never cancelled.
  static Context background() { return Context{}; }
  static Context with_timeout(std::chrono::milliseconds timeout) {
    Context c;
    c.deadline_ = Clock::now() + timeout;
    return c;
  }
  Context with_deadline(Clock::time_point deadline) const {
    Context c = *this;
    if (!c.deadline_ || deadline < *c.deadline_) c.deadline_ = deadline;
    return c;
  }
  Context with_cancel(const CancelSource& source) const {
    Context c = *this;
    c.cancel_ = source.token();
    return c;
  }

  std::optional<Clock::time_point> deadline() const { return deadline_; }
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_acquire); }
  bool expired() const { return deadline_ && Clock::now() >= *deadline_; }

  // Ok while the call may proceed; kCancelled or kDeadlineExceeded otherwise.
  Status check() const {
    if (cancelled()) return Error{ErrorKind::kCancelled, "the call was cancelled"};
    if (expired()) return Error{ErrorKind::kDeadlineExceeded, "the call's deadline passed"};
    return {};
  }

 private:
  std::optional<Clock::time_point> deadline_;
  std::shared_ptr<const std::atomic<bool>> cancel_;
};

}  // namespace ferrohsm::signer
