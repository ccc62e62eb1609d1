#include "ferrohsm/signer/state_listener.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ferrohsm/signer/pg_rotation_store.h"
#include "ferrohsm/signer/rotation_service.h"

namespace ferrohsm::signer {

void StateFreshness::confirm() {
  // Never 0: 0 means "not confirmed".
  confirmed_at_.store(std::max<Clock::rep>(Clock::now().time_since_epoch().count(), 1), std::memory_order_release);
}

void StateFreshness::lose(const std::string& why) {
  {
    std::lock_guard lock(why_mu_);
    why_ = why;
  }
  confirmed_at_.store(0, std::memory_order_release);
}

Status StateFreshness::check() const {
  const Clock::rep at = confirmed_at_.load(std::memory_order_acquire);
  const Clock::time_point now = Clock::now();
  if (at != 0 && now - Clock::time_point(Clock::duration(at)) <= max_staleness_) return {};
  std::lock_guard lock(why_mu_);
  if (at != 0)
    return Error::state_unavailable(
        "the signing state was last confirmed " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - Clock::time_point(Clock::duration(at)))
                           .count()) +
        " ms ago (the limit is " + std::to_string(max_staleness_.count()) +
        " ms): the state database is not answering; signing is refused until it does");
  return Error::state_unavailable("the signing state cannot be confirmed: " + why_ +
                                  "; signing is refused until the state database answers again");
}

struct StateListener::Conn {
  PgListenConn c;
};

StateListener::StateListener(PgRotationStore& store, RotationService& service, StateFreshness& freshness,
                             ListenerSettings settings)
    : store_(store), service_(service), freshness_(freshness), settings_(settings) {}

StateListener::~StateListener() { stop(); }

Status StateListener::read_everything() {
  FH_TRY(service_.refresh([this] { return PgRotationStore::load_all(*conn_->c.conn); }));
  freshness_.confirm();
  return {};
}

Status StateListener::connect_and_read() {
  auto c = store_.connect_listener();
  if (!c) return c.error();
  conn_ = std::make_unique<Conn>(Conn{std::move(*c)});
  // LISTEN before the read: a transition committed after it is both in the read or
  // announced by a notification.
  if (auto s = conn_->c.conn->exec(std::string("LISTEN ") + kStateChannel); !s) {
    conn_.reset();
    return Error::state_unavailable("signer state: LISTEN failed: " + s.error().message);
  }
  if (auto s = read_everything(); !s) {
    conn_.reset();
    return s;
  }
  return {};
}

Status StateListener::start() {
  if (auto s = connect_and_read(); !s) return s;
  thread_ = std::thread([this] { run(); });
  return {};
}

void StateListener::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  conn_.reset();
}

void StateListener::drop(const std::string& why) {
  conn_.reset();
  freshness_.lose(why);
}

void StateListener::run() {
  using Clock = std::chrono::steady_clock;
  auto next_read = Clock::now() + settings_.refresh_interval;
  auto backoff = std::chrono::milliseconds(50);
  bool outage_logged = false;
  for (;;) {
    {
      std::unique_lock lock(stop_mu_);
      if (stopping_) return;
    }
    if (!conn_) {
      // Reconnect, waiting out the back-off (a stop() ends the wait at once).
      {
        std::unique_lock lock(stop_mu_);
        if (stop_cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
      }
      if (auto s = connect_and_read(); !s) {
        freshness_.lose(s.error().message);
        if (!outage_logged)
          spdlog::error("signer state: {}; retrying (every {} ms at most); signing is refused meanwhile",
                        s.error().message, settings_.max_backoff.count());
        outage_logged = true;
        backoff = std::min(backoff * 2, settings_.max_backoff);
        continue;
      }
      spdlog::info("signer state: connected to {} again; every key was read again", store_.describe());
      outage_logged = false;
      backoff = std::chrono::milliseconds(50);
      next_read = Clock::now() + settings_.refresh_interval;
      continue;
    }
    PGconn* raw = conn_->c.raw;
    // A notification that came in while the last read ran is already in libpq's queue:
    // the socket will not wake the poll for it.
    bool heard = false;
    while (PGnotify* n = PQnotifies(raw)) {
      heard = true;
      PQfreemem(n);
    }
    pollfd pfd{PQsocket(raw), POLLIN, 0};
    const auto wait = heard ? std::chrono::milliseconds(0)
                            : std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next_read - Clock::now()),
                                         std::chrono::milliseconds(0), settings_.poll_interval);
    int ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
    if (ready > 0) {
      if (PQconsumeInput(raw) == 0 || PQstatus(raw) != CONNECTION_OK) {
        std::string why = PQerrorMessage(raw);
        std::replace(why.begin(), why.end(), '\n', ' ');
        spdlog::error("signer state: lost the listening connection to {}: {}", store_.describe(), why);
        drop("lost the connection to the state database " + store_.describe());
        outage_logged = false;  // the first failed reconnection says why
        continue;
      }
      while (PGnotify* n = PQnotifies(raw)) {
        heard = true;
        PQfreemem(n);
      }
    }
    if (heard || Clock::now() >= next_read) {
      if (auto s = read_everything(); !s) {
        spdlog::error("signer state: lost the listening connection to {}: {}", store_.describe(), s.error().message);
        drop(s.error().message);
        outage_logged = false;
        continue;
      }
      next_read = Clock::now() + settings_.refresh_interval;
    }
  }
}

}  // namespace ferrohsm::signer
