#include "sidecar/transport.h"

#include "sidecar/transport_stream.h"
#include "wire/endpoint.h"
#include "wire/protocol.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace ferrohsm::sidecar {

// One caller waiting for its Return.
struct Waiter {
  uint64_t id = 0;
  wire::Return* out = nullptr;
  bool done = false;
  bool waiting = false;  // blocked on cv (and so able to take over reading)
  std::condition_variable cv;
};

class Connection::Impl {
 public:
  Impl(std::unique_ptr<Stream> stream, std::string endpoint, uint64_t max_message)
      : stream_(std::move(stream)), endpoint_(std::move(endpoint)), max_message_(max_message) {
    rbuf_.resize(16 * 1024);
  }

  Status handshake(Clock::time_point deadline) {
    std::string frame;
    wire::append_frame(wire::make_hello(max_message_), frame);
    if (Status s = stream_->write_all(reinterpret_cast<const uint8_t*>(frame.data()), frame.size()); !s)
      return make_error(CKR_DEVICE_ERROR, "cannot connect to " + endpoint_ + ": " + s.error().message);
    for (;;) {
      if (auto body = next_frame(wire::kMaxHelloFrame)) {
        if (!body->ok()) return make_error(CKR_DEVICE_ERROR, endpoint_ + ": " + body->error().message);
        if (!hello_.ParseFromArray(body->value().first, static_cast<int>(body->value().second)))
          return make_error(CKR_DEVICE_ERROR, endpoint_ + " answered the Hello with something that is not a HelloReply");
        FH_TRY(wire::check_hello_reply(hello_, endpoint_));
        server_max_ = hello_.max_message() != 0 ? hello_.max_message() : wire::kDefaultMaxMessage;
        return {};
      }
      auto n = fill(deadline);
      if (!n) {
        // A server that refuses closes after its reply; one that closes without a reply
        // is usually one that refused us before the Hello (a TLS alert, a full server).
        return make_error(CKR_DEVICE_ERROR, "cannot connect to " + endpoint_ + ": " + n.error().message +
                                                " (during the handshake)");
      }
    }
  }

  Result<wire::Return> call(wire::Call& call) {
    Waiter w;
    wire::Return ret;
    w.out = &ret;
    w.id = next_id_.fetch_add(1, std::memory_order_relaxed);
    call.set_id(w.id);
    thread_local std::string frame;
    frame.clear();
    size_t size = wire::append_frame(call, frame);
    if (size > server_max_)
      return make_error(CKR_DEVICE_MEMORY, "a call of " + std::to_string(size) + " bytes exceeds the max_message of " +
                                               endpoint_ + " (" + std::to_string(server_max_) + ")");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return *broken_;
      waiters_.push_back(&w);
    }
    Status written;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      written = stream_->write_all(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
    }
    if (frame.capacity() > 256 * 1024) std::string().swap(frame);

    std::unique_lock<std::mutex> lock(mu_);
    if (!written) {
      // The reader, if there is one, finds out from the socket; otherwise say it here.
      if (leader_) {
        stream_->shutdown();
      } else {
        set_broken(written.error());
      }
    }
    for (;;) {
      if (w.done || broken_) break;
      if (!leader_) {
        leader_ = true;
        lock.unlock();
        Status r = read_replies();
        lock.lock();
        leader_ = false;
        if (!r) set_broken(r.error());
        continue;
      }
      w.waiting = true;
      w.cv.wait(lock);
      w.waiting = false;
    }
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &w));
    // Leaving: someone still waiting must take over reading.
    if (!leader_) {
      for (Waiter* o : waiters_) {
        if (!o->done && o->waiting) {
          o->cv.notify_one();
          break;
        }
      }
    }
    if (!w.done) return *broken_;
    return ret;
  }

  const wire::HelloReply& hello() const { return hello_; }
  const std::string& endpoint() const { return endpoint_; }
  bool lost() const {
    std::lock_guard<std::mutex> lock(mu_);
    return broken_.has_value();
  }
  void shutdown() {
    std::lock_guard<std::mutex> lock(mu_);
    stream_->shutdown();
    if (!leader_) set_broken(make_error(CKR_DEVICE_REMOVED, "connection lost: closed by this side"));
  }
  void abandon() {
    std::lock_guard<std::mutex> lock(mu_);
    stream_->abandon();
    set_broken(make_error(CKR_DEVICE_REMOVED, "connection lost: left to the parent process after fork()"));
  }

 private:
  // The next complete frame in the buffer (its body and length), if there is one; an
  // error for a frame over `limit`.
  std::optional<Result<std::pair<const uint8_t*, size_t>>> next_frame(uint64_t limit) {
    size_t avail = rend_ - rpos_;
    if (avail < wire::kFrameHeader) return std::nullopt;
    uint32_t len = wire::frame_length(rbuf_.data() + rpos_);
    if (len > limit)
      return Result<std::pair<const uint8_t*, size_t>>(make_error(
          CKR_DEVICE_REMOVED, "connection lost: the server sent a frame of " + std::to_string(len) +
                                  " bytes, over the limit of " + std::to_string(limit)));
    if (avail < wire::kFrameHeader + len) {
      if (rbuf_.size() - rpos_ < wire::kFrameHeader + len) {
        std::copy(rbuf_.begin() + static_cast<ptrdiff_t>(rpos_), rbuf_.begin() + static_cast<ptrdiff_t>(rend_),
                  rbuf_.begin());
        rend_ -= rpos_;
        rpos_ = 0;
        if (rbuf_.size() < wire::kFrameHeader + len) rbuf_.resize(wire::kFrameHeader + len);
      }
      return std::nullopt;
    }
    const uint8_t* body = rbuf_.data() + rpos_ + wire::kFrameHeader;
    rpos_ += wire::kFrameHeader + len;
    return Result<std::pair<const uint8_t*, size_t>>(std::make_pair(body, static_cast<size_t>(len)));
  }

  // Reads more bytes into the buffer.
  Result<size_t> fill(std::optional<Clock::time_point> deadline) {
    if (rpos_ == rend_) {
      rpos_ = rend_ = 0;
      if (rbuf_.size() > 256 * 1024) {
        rbuf_.resize(16 * 1024);
        rbuf_.shrink_to_fit();
      }
    } else if (rend_ == rbuf_.size()) {
      std::copy(rbuf_.begin() + static_cast<ptrdiff_t>(rpos_), rbuf_.begin() + static_cast<ptrdiff_t>(rend_),
                rbuf_.begin());
      rend_ -= rpos_;
      rpos_ = 0;
    }
    FH_ASSIGN_OR_RETURN(size_t n, stream_->read_some(rbuf_.data() + rend_, rbuf_.size() - rend_, deadline));
    rend_ += n;
    return n;
  }

  // The leader's work: reads until at least one Return arrived and hands each to its
  // caller. Runs without mu_ except while handing over.
  Status read_replies() {
    for (;;) {
      bool delivered = false;
      while (auto body = next_frame(max_message_)) {
        if (!body->ok()) return body->error();
        FH_TRY(deliver(body->value().first, body->value().second));
        delivered = true;
      }
      if (delivered) return {};
      FH_TRY(fill(std::nullopt));
    }
  }

  // Parsed under mu_: a caller leaves only under mu_, so its Return cannot vanish mid-parse.
  Status deliver(const uint8_t* data, size_t size) {
    uint64_t id = peek_id(data, size);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(), [id](const Waiter* w) { return w->id == id && !w->done; });
    if (it == waiters_.end())
      return make_error(CKR_DEVICE_REMOVED, "connection lost: the server answered call id " + std::to_string(id) +
                                                ", which is not waiting");
    Waiter* w = *it;
    if (!w->out->ParseFromArray(data, static_cast<int>(size)) || w->out->id() != id)
      return make_error(CKR_DEVICE_REMOVED, "connection lost: the server sent a malformed Return");
    w->done = true;
    w->cv.notify_one();
    return {};
  }

  // The id of an encoded Return without parsing all of it (field 1, a varint; the
  // encoder writes fields in order, so it is first when present).
  static uint64_t peek_id(const uint8_t* data, size_t size) {
    google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
    uint32_t tag = in.ReadTag();
    uint64_t id = 0;
    if (tag == (1u << 3)) in.ReadVarint64(&id);
    return id;
  }

  void set_broken(Error e) {
    if (broken_) return;
    if (e.rv != CKR_DEVICE_REMOVED) e.rv = CKR_DEVICE_REMOVED;
    broken_ = std::move(e);
    broken_->message = endpoint_ + ": " + broken_->message;
    for (Waiter* w : waiters_) w->cv.notify_one();
  }

  std::unique_ptr<Stream> stream_;
  std::string endpoint_;
  uint64_t max_message_;
  uint64_t server_max_ = wire::kDefaultMaxMessage;
  wire::HelloReply hello_;
  std::atomic<uint64_t> next_id_{1};

  mutable std::mutex mu_;
  std::vector<Waiter*> waiters_;
  bool leader_ = false;
  std::optional<Error> broken_;

  std::mutex write_mu_;

  // The leader's (or the handshake's) read buffer.
  std::vector<uint8_t> rbuf_;
  size_t rpos_ = 0;
  size_t rend_ = 0;
};

Result<std::unique_ptr<Connection>> Connection::connect(const std::string& endpoint, const ConnectOptions& options) {
  auto ep = wire::parse_endpoint(endpoint);
  if (!ep) return make_error(CKR_DEVICE_ERROR, ep.error().message);
  Clock::time_point deadline = Clock::now() + options.connect_timeout;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, open_stream(*ep, options, deadline));
  auto impl = std::make_unique<Impl>(std::move(stream), ep->text, options.max_message);
  FH_TRY(impl->handshake(deadline));
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;
Result<wire::Return> Connection::call(wire::Call& call) { return impl_->call(call); }
const wire::HelloReply& Connection::hello() const { return impl_->hello(); }
const std::string& Connection::endpoint() const { return impl_->endpoint(); }
bool Connection::lost() const { return impl_->lost(); }
void Connection::shutdown() { impl_->shutdown(); }
void Connection::abandon() { impl_->abandon(); }

}  // namespace ferrohsm::sidecar
