#include "server/connection.h"

#include "base/log.h"
#include "wire/frame.h"
#include "wire/protocol.h"

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <exception>

namespace ferrohsm::server {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// A buffer grown for a large message is given back once it is empty again.
constexpr size_t kKeepBuffer = 256 * 1024;

const char* kRefusedAccess = "this peer is not allowed to use this server";
const char* kRefusedBusy = "too many connections from this peer; try again later";
const char* kRefusedService = "the server cannot open a connection now; try again later";

}  // namespace

struct Connection::Job {
  wire::Call call;
  wire::Return ret;
};

Connection::Connection(Hub& hub, Executor executor, Peer peer)
    : hub_(hub), executor_(std::move(executor)), peer_(std::move(peer)), settings_(hub.settings()) {
  phase_ = Phase::kHello;
  handshake_deadline_ = Clock::now() + std::chrono::milliseconds(settings_->limits.handshake_timeout_ms);
  last_activity_ = Clock::now();
  rbuf_.resize(kReadChunk);
}

Connection::~Connection() = default;

void Connection::start() {
  asio::post(executor_, [self = shared_from_this()] {
    if (self->phase_ != Phase::kHello) return;
    self->phase_ = Phase::kTls;
    self->start_tls();
  });
}

void Connection::start_tls() {
  phase_ = Phase::kHello;
  start_read();
}

void Connection::on_tls(const asio::error_code& ec, const std::string& verify_note) {
  tls_pending_ = false;
  if (phase_ != Phase::kTls) return maybe_finish();
  if (ec) {
    std::string why = verify_note.empty() ? ec.message() : verify_note;
    log().warn("refused {} on {}: TLS handshake failed: {}", peer_.address, peer_.endpoint, why);
    return close("", false);
  }
  phase_ = Phase::kHello;
  start_read();
}

void Connection::stop() {
  asio::post(executor_, [self = shared_from_this()] {
    if (self->phase_ == Phase::kTls || self->phase_ == Phase::kHello) return self->close("", false);
    if (self->phase_ != Phase::kCalls) return;
    self->phase_ = Phase::kStopping;
    self->maybe_finish();
  });
}

void Connection::abort(std::string why) {
  asio::post(executor_, [self = shared_from_this(), why = std::move(why)] { self->close(why, true); });
}

void Connection::check_timeouts(Clock::time_point now) {
  asio::post(executor_, [self = shared_from_this(), now] {
    const Limits& l = self->settings_->limits;
    if ((self->phase_ == Phase::kTls || self->phase_ == Phase::kHello) && now >= self->handshake_deadline_) {
      self->close(self->peer_.address + " on " + self->peer_.endpoint + " did not finish its handshake within " +
                      std::to_string(l.handshake_timeout_ms) + " ms",
                  true);
    } else if (self->phase_ == Phase::kCalls && l.idle_timeout_ms > 0 && self->inflight_ == 0 &&
               now - self->last_activity_ >= std::chrono::milliseconds(l.idle_timeout_ms)) {
      log().info("closing the connection of {} ({}): idle for {} ms", self->peer_.identity, self->peer_.address,
                 l.idle_timeout_ms);
      self->close("", false);
    }
  });
}

void Connection::recheck_grant(std::shared_ptr<const Settings> settings) {
  asio::post(executor_, [self = shared_from_this(), settings = std::move(settings)] {
    if (self->phase_ != Phase::kCalls) return;
    std::optional<Grant> g = find_grant(settings->access, self->peer_);
    if (g && g->tokens == self->grant_.tokens && g->admin == self->grant_.admin) return;
    self->close("closing the connection of " + self->peer_.identity + " (" + self->peer_.address +
                    "): the reloaded access rules " + (g ? "changed its grant (now " + g->rule + ")" : "no longer admit it"),
                true);
  });
}

void Connection::start_read() {
  if (read_pending_ || (phase_ != Phase::kHello && phase_ != Phase::kCalls)) return;
  if (rend_ == rbuf_.size()) {
    if (rpos_ > 0) {
      std::copy(rbuf_.begin() + static_cast<ptrdiff_t>(rpos_), rbuf_.begin() + static_cast<ptrdiff_t>(rend_),
                rbuf_.begin());
      rend_ -= rpos_;
      rpos_ = 0;
    } else {
      rbuf_.resize(rbuf_.size() * 2);
    }
  }
  read_pending_ = true;
  read_some(rbuf_.data() + rend_, rbuf_.size() - rend_);
}

void Connection::on_read(const asio::error_code& ec, size_t n) {
  read_pending_ = false;
  if (phase_ != Phase::kHello && phase_ != Phase::kCalls) return maybe_finish();
  if (ec) {
    if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
      log().debug("{} ({}) closed its connection", peer_.identity.empty() ? peer_.address : peer_.identity,
                  peer_.address);
    } else {
      log().info("connection of {} ({}) failed: {}", peer_.identity.empty() ? peer_.address : peer_.identity,
                 peer_.address, ec.message());
    }
    return close("", false);
  }
  rend_ += n;
  pump();
}

// Handles every complete frame in the buffer, then reads on (unless the connection has
// as many calls in flight as it may: then the next completion resumes it).
void Connection::pump() {
  const Limits& l = settings_->limits;
  while (phase_ == Phase::kHello || phase_ == Phase::kCalls) {
    if (phase_ == Phase::kCalls && inflight_ >= l.max_calls_in_flight) return;
    size_t avail = rend_ - rpos_;
    if (avail < wire::kFrameHeader) break;
    uint32_t len = wire::frame_length(rbuf_.data() + rpos_);
    if (phase_ == Phase::kHello && len > wire::kMaxHelloFrame) {
      log_protocol_error("sent a frame of " + std::to_string(len) + " bytes where a Hello belongs: not a FerroHSM client");
      return;
    }
    if (len > l.max_message) {
      log_protocol_error("sent a frame of " + std::to_string(len) + " bytes, over max_message (" +
                         std::to_string(l.max_message) + ")");
      return;
    }
    size_t need = wire::kFrameHeader + len;
    if (avail < need) {
      if (rbuf_.size() - rpos_ < need) {  // make room for the whole frame
        std::copy(rbuf_.begin() + static_cast<ptrdiff_t>(rpos_), rbuf_.begin() + static_cast<ptrdiff_t>(rend_),
                  rbuf_.begin());
        rend_ -= rpos_;
        rpos_ = 0;
        if (rbuf_.size() < need) rbuf_.resize(need);
      }
      break;
    }
    const uint8_t* body = rbuf_.data() + rpos_ + wire::kFrameHeader;
    rpos_ += need;
    if (phase_ == Phase::kHello) {
      on_hello(body, len);
      continue;
    }
    size_t rest = rend_ - rpos_;
    bool more = rest >= wire::kFrameHeader && rest >= wire::kFrameHeader + wire::frame_length(rbuf_.data() + rpos_);
    on_call(body, len, more);
  }
  if (rpos_ == rend_) {
    rpos_ = rend_ = 0;
    if (rbuf_.size() > kKeepBuffer) {
      rbuf_.resize(kReadChunk);
      rbuf_.shrink_to_fit();
    }
  }
  start_read();
}

void Connection::log_protocol_error(const std::string& what) {
  close((peer_.identity.empty() ? peer_.address : peer_.identity) + " (" + peer_.address + " on " + peer_.endpoint +
            ") " + what + "; closing its connection",
        true);
}

void Connection::on_hello(const uint8_t* data, size_t size) {
  wire::Hello hello;
  if (!hello.ParseFromArray(data, static_cast<int>(size)) || hello.magic() != wire::kMagic)
    return log_protocol_error("sent something that is not a FerroHSM Hello");
  // Access first: a peer without a rule learns nothing, not even the protocol version.
  std::shared_ptr<const Settings> now = hub_.settings();
  std::optional<Grant> grant = find_grant(now->access, peer_);
  if (!grant) {
    log().warn("refused {} ({} on {}): no access rule admits it ({})", peer_.identity, peer_.address, peer_.endpoint,
               describe_rules(now->access));
    return refuse(kRefusedAccess);
  }
  if (auto why = wire::version_refusal(hello)) {
    log().warn("refused {} ({}, {}): {}", peer_.identity, peer_.address, hello.software(), *why);
    return refuse(*why);
  }
  if (!hub_.admit(peer_.identity)) {
    log().warn("refused {} ({}): it has max_connections_per_peer ({}) connections already", peer_.identity,
               peer_.address, now->limits.max_connections_per_peer);
    return refuse(kRefusedBusy);
  }
  admitted_ = true;
  grant_ = std::move(*grant);
  try {
    app_ = hub_.service().open(peer_, grant_);
  } catch (const std::exception& e) {
    log().error("the service could not open a connection for {}: {}", peer_.identity, e.what());
  }
  if (!app_) return refuse(kRefusedService);
  peer_max_message_ = hello.max_message() != 0 ? hello.max_message() : wire::kDefaultMaxMessage;

  wire::HelloReply reply;
  reply.set_accepted(true);
  reply.set_major(wire::kProtocolMajor);
  reply.set_minor(std::min(hello.minor(), wire::kProtocolMinor));
  reply.set_software(wire::software_version());
  if (grant_.admin) reply.add_capabilities(wire::kCapabilityServerStatus);
  reply.set_max_message(settings_->limits.max_message);
  for (uint32_t f : hub_.service().functions()) reply.add_functions(f);
  reply.set_identity(peer_.identity);
  phase_ = Phase::kCalls;
  last_activity_ = Clock::now();
  log().debug("accepted {} ({} on {}, {}) by {}", peer_.identity, peer_.address, peer_.endpoint, hello.software(),
              grant_.rule);
  {
    std::lock_guard<std::mutex> lock(wmu_);
    wire::append_frame(reply, wpending_);
  }
  start_write();
}

// A refusal is one HelloReply with a generic sentence (the log line has the details),
// then the connection closes once it is written.
void Connection::refuse(const std::string& sentence) {
  wire::HelloReply reply;
  reply.set_accepted(false);
  reply.set_refusal(sentence);
  reply.set_identity(peer_.identity);
  {
    std::lock_guard<std::mutex> lock(wmu_);
    wire::append_frame(reply, wpending_);
  }
  phase_ = Phase::kStopping;
  start_write();
  maybe_finish();
}

bool Connection::id_in_flight(uint64_t id) const { return std::find(ids_.begin(), ids_.end(), id) != ids_.end(); }

void Connection::on_call(const uint8_t* data, size_t size, bool more_buffered) {
  // Parsed into the reused message; a call that leaves the I/O thread takes it with it.
  if (!call_.ParseFromArray(data, static_cast<int>(size))) return log_protocol_error("sent a malformed Call");
  const uint64_t id = call_.id();
  if (id == 0) return log_protocol_error("sent a Call without an id (a message out of order, or not a Call)");
  if (id_in_flight(id)) return log_protocol_error("reused call id " + std::to_string(id) + " while it was in flight");
  last_activity_ = Clock::now();

  if (call_.function() == wire::kServerStatusFunction) {
    ret_.Clear();
    ret_.set_id(id);
    answer_status(call_, ret_);
    enqueue(ret_);
    return start_write();
  }
  const bool slow = hub_.service().slow(call_.function());
  ++inflight_;
  ids_.push_back(id);
  if (!slow && !more_buffered) {  // the quiet path: answer right here
    ret_.Clear();
    run_call(call_, ret_);
    enqueue(ret_);
    return call_done(id);
  }
  auto job = std::make_unique<Job>();
  job->call.Swap(&call_);
  auto work = [self = shared_from_this(), job = std::move(job)] {
    // A call still queued when its client went away is not run: nobody waits for it.
    if (!self->gone_.load(std::memory_order_relaxed)) {
      self->run_call(job->call, job->ret);
      self->enqueue(job->ret);
    }
    asio::post(self->executor_, [self, id = job->call.id()] { self->call_done(id); });
  };
  if (slow) {
    asio::post(hub_.blocking_pool(), std::move(work));
  } else {
    asio::post(hub_.worker_pool(), std::move(work));
  }
}

void Connection::run_call(const wire::Call& call, wire::Return& ret) {
  ret.set_id(call.id());
  try {
    app_->call(call, ret);
  } catch (const std::exception& e) {
    log().error("call {} of {} failed inside the service: {}", call.function(), peer_.identity, e.what());
    ret.Clear();
    ret.set_id(call.id());
    ret.set_rv(CKR_GENERAL_ERROR);
  }
  ret.set_id(call.id());
}

void Connection::answer_status(const wire::Call& call, wire::Return& ret) {
  if (!grant_.admin) {
    log().info("{} asked for the server status without admin = true in its rule ({})", peer_.identity, grant_.rule);
    ret.set_rv(CKR_FUNCTION_NOT_SUPPORTED);
    return;
  }
  (void)call;
  *ret.mutable_server_status() = hub_.status();
  ret.set_rv(CKR_OK);
}

// Appends a Return to the write buffer; any thread.
void Connection::enqueue(wire::Return& ret) {
  if (ret.ByteSizeLong() > peer_max_message_) {
    log().warn("a Return of {} bytes for {} exceeds the {} bytes its client accepts; answering CKR_DEVICE_MEMORY",
               ret.ByteSizeLong(), peer_.identity, peer_max_message_);
    uint64_t id = ret.id();
    ret.Clear();
    ret.set_id(id);
    ret.set_rv(CKR_DEVICE_MEMORY);
  }
  std::lock_guard<std::mutex> lock(wmu_);
  wire::append_frame(ret, wpending_);
}

void Connection::call_done(uint64_t id) {
  --inflight_;
  if (auto it = std::find(ids_.begin(), ids_.end(), id); it != ids_.end()) ids_.erase(it);
  last_activity_ = Clock::now();
  start_write();
  if (phase_ == Phase::kCalls && !read_pending_) {
    pump();  // frames held back by max_calls_in_flight, then the next read
  } else {
    maybe_finish();
  }
}

void Connection::start_write() {
  if (write_pending_ || phase_ == Phase::kClosing || phase_ == Phase::kClosed) return;
  {
    std::lock_guard<std::mutex> lock(wmu_);
    if (wpending_.empty()) return;
    std::swap(wactive_, wpending_);
  }
  write_pending_ = true;
  write(wactive_);
}

void Connection::on_written(const asio::error_code& ec, size_t) {
  write_pending_ = false;
  wactive_.clear();
  if (wactive_.capacity() > kKeepBuffer) wactive_.shrink_to_fit();
  if (ec) {
    if (phase_ != Phase::kClosing && phase_ != Phase::kClosed)
      log().info("writing to {} ({}) failed: {}", peer_.identity, peer_.address, ec.message());
    return close("", false);
  }
  start_write();
  maybe_finish();
}

// Every completion that ends in an error comes through here, also for a connection
// already closing: that completion may have been the last thing it waited for.
void Connection::close(const std::string& why, bool warn) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) return maybe_finish();
  if (!why.empty()) {
    if (warn) {
      log().warn("{}", why);
    } else {
      log().info("{}", why);
    }
  }
  phase_ = Phase::kClosing;
  gone_.store(true, std::memory_order_relaxed);
  close_stream();
  maybe_finish();
}

// Moves a stopping connection to closed once its calls are answered and written, and a
// closing one to finished once nothing is outstanding: only then is the Application
// told, so that no call runs in it after closed().
void Connection::maybe_finish() {
  if (phase_ == Phase::kStopping && inflight_ == 0 && !write_pending_) {
    bool empty;
    {
      std::lock_guard<std::mutex> lock(wmu_);
      empty = wpending_.empty();
    }
    if (empty) {
      phase_ = Phase::kClosing;
      close_stream();
    }
  }
  if (phase_ != Phase::kClosing || inflight_ != 0 || read_pending_ || write_pending_ || tls_pending_) return;
  phase_ = Phase::kClosed;
  if (app_) {
    try {
      app_->closed();
    } catch (const std::exception& e) {
      log().error("closing the application of {} failed: {}", peer_.identity, e.what());
    }
    app_.reset();
  }
  hub_.finished(this, admitted_);
}

}  // namespace ferrohsm::server
