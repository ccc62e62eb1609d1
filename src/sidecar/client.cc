#include "sidecar/client.h"

#include "sidecar/transport.h"

#include "base/log.h"

#include <algorithm>

namespace ferrohsm::sidecar {

Client::Client(Settings settings) : settings_(std::move(settings)), ctx_(wire::kDefaultMaxMessage) {}

Client::~Client() {
  std::shared_ptr<Connection> c;
  {
    std::lock_guard lock(mu_);
    c = std::move(conn_);
  }
  if (c) c->shutdown();
}

std::shared_ptr<Connection> Client::current() {
  std::lock_guard lock(mu_);
  if (conn_ && conn_->lost()) lost_locked();
  return conn_;
}

void Client::abandon() {
  if (!conn_) return;
  conn_->abandon();
  // The parent's threads and buffers are not ours to free in the child: keep them alive.
  new std::shared_ptr<Connection>(std::move(conn_));
}

bool Client::connected() { return current() != nullptr; }

bool Client::ensure_connected() { return current() != nullptr || reconnect() != nullptr; }

void Client::lost(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(mu_);
  if (conn_ == c) lost_locked();
}

// The sessions of a lost connection answer CKR_DEVICE_REMOVED from now on: their
// generation is over, whether or not another connection is made.
void Client::lost_locked() {
  log().warn("sidecar: the connection to {} was lost; its sessions are gone", conn_->endpoint());
  conn_.reset();
  ctx_.next_generation();
  last_attempt_ = {};  // the first attempt after a loss is not held back by the retry interval
}

// Tries the endpoints in order, starting after the one last used, at most once per
// retry interval; a new connection is a new generation (the old sessions are gone).
std::shared_ptr<Connection> Client::reconnect() {
  std::unique_lock lock(mu_);
  if (conn_ && !conn_->lost()) return conn_;
  const auto now = std::chrono::steady_clock::now();
  if (last_attempt_ != std::chrono::steady_clock::time_point{} && now - last_attempt_ < settings_.retry_interval)
    return nullptr;
  last_attempt_ = now;
  const size_t n = settings_.endpoints.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& ep = settings_.endpoints[(next_endpoint_ + i) % n];
    ConnectOptions o;
    o.connect_timeout = settings_.connect_timeout;
    o.busy_poll = settings_.busy_poll;
    if (!settings_.ca.empty() || !settings_.cert.empty())
      o.tls = TlsFiles{settings_.cert, settings_.key, settings_.ca, settings_.server_name};
    auto c = Connection::connect(ep, o);
    if (!c.ok()) {
      log().warn("sidecar: cannot connect to {}: {}", ep, c.error().message);
      continue;
    }
    std::shared_ptr<Connection> conn = std::move(*c);
    const wire::HelloReply& hello = conn->hello();
    ctx_.set_budget(std::min<uint64_t>(hello.max_message() != 0 ? hello.max_message() : wire::kDefaultMaxMessage,
                                       wire::kDefaultMaxMessage));
    identity_ = hello.identity();
    next_endpoint_ = (next_endpoint_ + i + 1) % n;  // the next loss tries the next endpoint first
    log().debug("sidecar: connected to {} as {}", ep, identity_);
    conn_ = conn;
    return conn;
  }
  return nullptr;
}

Result<wire::Return> Client::send(wire::Call& call, uint32_t generation) {
  std::shared_ptr<Connection> c = current();
  if (!c) c = reconnect();
  if (!c) return make_error(CKR_TOKEN_NOT_PRESENT, "no FerroHSM server can be reached");
  if (generation != ctx_.generation())  // encoded for a connection that is gone
    return make_error(CKR_DEVICE_REMOVED, "the connection the call was meant for was lost");
  auto r = c->call(call);
  if (!r.ok()) {
    if (c->lost()) {
      lost(c);
      return make_error(CKR_DEVICE_REMOVED, "the connection to the server was lost: " + r.error().message);
    }
    return r.error();
  }
  return r;
}

}  // namespace ferrohsm::sidecar
