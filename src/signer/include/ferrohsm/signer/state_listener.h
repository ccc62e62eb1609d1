// Keeps a replica's cached key states in step with the shared PostgreSQL state.
//
// A thread of its own holds a dedicated connection that LISTENs on ferrohsm_signer_state.
// It waits on the connection's socket with a bounded poll (so stop() is seen within one
// poll interval); a notification — any replica's committed transition — makes it read
// every key and hand them to the RotationService, which updates its cache. It also reads
// everything every refresh interval, whatever it heard (the fallback for a notification
// lost with a connection, and the heartbeat that proves the database is still there).
// A lost connection is re-made with a doubling back-off; after LISTEN, everything is
// read again before the state counts as confirmed.
//
// StateFreshness is what the sign guard asks: the state counts as confirmed while the
// last successful read is younger than max_staleness and the connection was not seen
// lost since. Signing never waits on the database; it reads one atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer {

class PgRotationStore;
class RotationService;

class StateFreshness {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StateFreshness(std::chrono::milliseconds max_staleness) : max_staleness_(max_staleness) {}

  // The whole state was read just now.
  void confirm();
  // The connection is gone: nothing is confirmed from now on.
  void lose(const std::string& why);
  // Ok while confirmed; kStateUnavailable (saying since when and why) otherwise.
  Status check() const;
  bool confirmed() const { return check().ok(); }

 private:
  const std::chrono::milliseconds max_staleness_;
  std::atomic<Clock::rep> confirmed_at_{0};  // Clock ticks; 0: never, or lost since
  mutable std::mutex why_mu_;
  std::string why_ = "the signing state has not been read yet";
};

struct ListenerSettings {
  std::chrono::milliseconds refresh_interval{500};  // re-read everything at least this often
  std::chrono::milliseconds poll_interval{50};      // the longest a stop() waits for the thread
  std::chrono::milliseconds max_backoff{2000};      // between reconnection attempts
};

class StateListener {
 public:
  StateListener(PgRotationStore& store, RotationService& service, StateFreshness& freshness,
                ListenerSettings settings = {});
  ~StateListener();
  StateListener(const StateListener&) = delete;
  StateListener& operator=(const StateListener&) = delete;

  // Connects, LISTENs and reads everything once (an error here stops the start); then
  // the thread takes over.
  Status start();
  void stop();

 private:
  struct Conn;
  Status connect_and_read();
  Status read_everything();
  void run();
  void drop(const std::string& why);

  PgRotationStore& store_;
  RotationService& service_;
  StateFreshness& freshness_;
  const ListenerSettings settings_;
  std::unique_ptr<Conn> conn_;  // the thread's only, once started
  std::thread thread_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace ferrohsm::signer
