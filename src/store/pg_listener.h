// The PostgreSQL store's ear: one connection of its own (never one of the pool's, which
// are busy with statements and would hold a notice until their next one) that LISTENs on
// the change channel, and a thread that waits on its socket (poll, with a bounded
// timeout, so that it stops promptly) and calls `heard` whenever notices arrived. When
// the connection is lost it reconnects with a growing back-off (50 ms to 2 s) and then
// calls `heard` too: notices sent while it was away are lost, and the change log
// (changes_since) is how the watchers catch up.
#pragma once

#include "base/result.h"

#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ferrohsm::store {

class PgListener {
 public:
  // Opens a connection (the store's own settings), or says why not.
  using Connect = std::function<Result<PGconn*>()>;
  using Heard = std::function<void()>;
  // Starts the thread; it connects and LISTENs on `channel` (an identifier) by itself.
  PgListener(Connect connect, std::string channel, Heard heard);
  ~PgListener();  // stops the thread (within one poll period) and closes the connection
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // True while LISTENing (false before the first connection and while reconnecting).
  bool listening() const { return listening_.load(std::memory_order_acquire); }
  // How many times the connection was (re)established (for tests and logs).
  uint64_t connections() const { return connections_.load(std::memory_order_acquire); }

 private:
  void run();
  PGconn* open_listening();  // nullptr when it could not (logged once per outage)
  // Waits up to `d`, or until stop; false once stopping.
  bool pause(std::chrono::milliseconds d);

  Connect connect_;
  const std::string channel_;
  Heard heard_;
  int wake_[2] = {-1, -1};  // a byte on wake_[1] ends the poll at once (stop)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> listening_{false};
  std::atomic<uint64_t> connections_{0};
  bool outage_logged_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace ferrohsm::store
