// A bounded pool of PostgreSQL connections, shared by the threads of one process: a
// call takes a connection, runs its statements or transaction, and gives it back. At
// most `max` are open; a caller waits (up to `wait`) for one to come back. A connection
// that was lost, or left inside a transaction, is closed instead of kept, and then every
// idle one is dropped too (after a server restart they are all dead): the next call
// connects afresh, so the store reconnects by itself.
#pragma once

#include "base/result.h"
#include "base/pg_conn.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace ferrohsm {

class PgPool {
 public:
  using Connect = std::function<Result<std::unique_ptr<PgConn>>()>;
  PgPool(Connect connect, size_t max, std::chrono::milliseconds wait)
      : connect_(std::move(connect)), max_(max == 0 ? 1 : max), wait_(wait) {}
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A connection taken from the pool; given back when this ends.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (c_) pool_->give_back(std::move(c_));
    }
    PgConn& operator*() { return *c_; }
    PgConn* operator->() { return c_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> c_;
  };

  Result<Lease> take();
  size_t open_connections() const;

 private:
  void give_back(std::unique_ptr<PgConn> c);

  Connect connect_;
  const size_t max_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  size_t open_ = 0;  // idle and leased
};

}  // namespace ferrohsm
