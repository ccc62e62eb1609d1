#include "store/pg_listener.h"

#include "base/log.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ferrohsm::store {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
// The poll's bound: a lost connection that the kernel reports is seen at once; this only
// bounds how long a stop could wait were the wake pipe ever unavailable.
constexpr int kPollMs = 500;

}  // namespace

PgListener::PgListener(Connect connect, std::string channel, Heard heard)
    : connect_(std::move(connect)), channel_(std::move(channel)), heard_(std::move(heard)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;  // the poll's bound then stops it
  thread_ = std::thread([this] { run(); });
}

PgListener::~PgListener() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

bool PgListener::pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_; });
  return !stop_;
}

PGconn* PgListener::open_listening() {
  auto c = connect_();
  std::string why;
  if (c.ok()) {
    PGresult* r = PQexec(*c, ("LISTEN " + channel_).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) why = PQresultErrorMessage(r);
    PQclear(r);
    if (ok) return *c;
    PQfinish(*c);
  } else {
    why = c.error().message;  // the store's connect error: never a password
  }
  if (!outage_logged_) {
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    log().warn("store: cannot listen for other servers' changes ({}); retrying", why);
    outage_logged_ = true;
  }
  return nullptr;
}

void PgListener::run() {
  auto backoff = kFirstBackoff;
  PGconn* c = nullptr;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    if (c == nullptr) {
      c = open_listening();
      if (c == nullptr) {
        if (!pause(backoff)) break;
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      backoff = kFirstBackoff;
      if (outage_logged_) log().info("store: listening for other servers' changes again");
      outage_logged_ = false;
      connections_.fetch_add(1, std::memory_order_acq_rel);
      listening_.store(true, std::memory_order_release);
      // Whatever was committed while nobody listened is only in the change log.
      heard_();
      continue;
    }
    pollfd fds[2] = {{PQsocket(c), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int n = ::poll(fds, wake_[0] >= 0 ? 2 : 1, kPollMs);
    if (n < 0 && errno != EINTR) {
      listening_.store(false, std::memory_order_release);
      log().warn("store: poll on the listening connection failed ({}); reconnecting", errno);
      PQfinish(c);
      c = nullptr;
      continue;
    }
    if (n <= 0 || fds[1].revents != 0) continue;  // timeout, or the stop byte (checked above)
    bool lost = PQconsumeInput(c) == 0;
    bool any = false;
    while (PGnotify* note = PQnotifies(c)) {
      any = true;
      PQfreemem(note);
    }
    if (any) heard_();
    if (lost || PQstatus(c) != CONNECTION_OK) {
      listening_.store(false, std::memory_order_release);  // first: watchers stop trusting their caches
      log().warn("store: lost the listening connection to PostgreSQL; reconnecting");
      outage_logged_ = true;
      PQfinish(c);
      c = nullptr;
    }
  }
  if (c != nullptr) PQfinish(c);
  listening_.store(false, std::memory_order_release);
}

}  // namespace ferrohsm::store
