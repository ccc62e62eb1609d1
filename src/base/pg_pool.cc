#include "base/pg_pool.h"

namespace ferrohsm {

Result<PgPool::Lease> PgPool::take() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait_;
  while (idle_.empty() && open_ >= max_) {
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= max_)
      return make_error(CKR_DEVICE_ERROR, "store: all " + std::to_string(max_) +
                                              " PostgreSQL connections stayed busy for " +
                                              std::to_string(wait_.count()) + " ms (store.pool_size)");
  }
  if (!idle_.empty()) {
    std::unique_ptr<PgConn> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  // Connecting takes a round trip or several (TLS): done outside the lock.
  Result<std::unique_ptr<PgConn>> c = connect_();
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.error();
  }
  return Lease(this, std::move(*c));
}

void PgPool::give_back(std::unique_ptr<PgConn> c) {
  std::vector<std::unique_ptr<PgConn>> dropped;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->unusable()) {
      if (c->lost()) {
        open_ -= idle_.size();
        dropped.swap(idle_);
      }
      --open_;
      dropped.push_back(std::move(c));
    } else {
      idle_.push_back(std::move(c));
    }
  }
  cv_.notify_all();
}

size_t PgPool::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace ferrohsm
