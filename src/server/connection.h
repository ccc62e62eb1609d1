// One client connection (internal to src/server): the handshake (TLS for tcp:, then the
// Hello and the access check), then Calls read from the socket, answered by the
// connection's Application, and Returns written back in completion order.
//
// Threads: everything that touches the socket or the connection's state runs on the
// connection's I/O thread (its io_context has that one thread). A quick call that is the
// only one the last read brought runs right there (the quiet path: no thread hand-off);
// quick calls that arrive together go to the worker pool to run side by side, and slow
// calls (Service::slow) to the blocking pool. A call finished elsewhere appends its
// Return to the write buffer under a small lock and posts to the I/O thread.
#pragma once

#include "server/hub.h"
#include "server/peer.h"
#include "wire/ferrohsm_wire.pb.h"

#include <asio/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ferrohsm::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(Hub& hub, Executor executor, Peer peer);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Each of these may be called from any thread; the work happens on the I/O thread.
  void start();
  // Server shutdown: take no new call, finish the ones in flight, write their Returns, close.
  void stop();
  // Close now (calls in flight still finish before the Application is closed).
  void abort(std::string why);
  // The handshake and idle deadlines, checked by the server's sweep.
  void check_timeouts(Clock::time_point now);
  // After a reload: close the connection when the new rules no longer give its peer the same grant.
  void recheck_grant(std::shared_ptr<const Settings> settings);

  const Peer& peer() const { return peer_; }

 protected:
  // The stream below: one read and one write may be outstanding at once; each
  // completion comes back on the I/O thread through on_read / on_written.
  virtual void start_tls();  // default: no TLS, straight to the Hello
  virtual void read_some(uint8_t* data, size_t size) = 0;
  virtual void write(const std::string& data) = 0;
  virtual void close_stream() = 0;

  void on_tls(const asio::error_code& ec, const std::string& verify_note);
  void on_read(const asio::error_code& ec, size_t n);
  void on_written(const asio::error_code& ec, size_t n);

  Hub& hub_;
  Executor executor_;
  Peer peer_;
  bool tls_pending_ = false;

 private:
  enum class Phase { kTls, kHello, kCalls, kStopping, kClosing, kClosed };
  struct Job;

  void start_read();
  void pump();
  void on_hello(const uint8_t* data, size_t size);
  void refuse(const std::string& sentence);
  void on_call(const uint8_t* data, size_t size, bool more_buffered);
  void answer_status(const wire::Call& call, wire::Return& ret);
  void run_call(const wire::Call& call, wire::Return& ret);
  void enqueue(wire::Return& ret);
  void call_done(uint64_t id);
  void start_write();
  void close(const std::string& why, bool warn);
  void maybe_finish();
  bool id_in_flight(uint64_t id) const;
  void log_protocol_error(const std::string& what);

  std::shared_ptr<const Settings> settings_;
  Phase phase_;
  Clock::time_point handshake_deadline_;
  Clock::time_point last_activity_;
  bool admitted_ = false;
  Grant grant_;
  std::unique_ptr<Application> app_;
  uint64_t peer_max_message_ = 0;

  std::vector<uint8_t> rbuf_;
  size_t rpos_ = 0;
  size_t rend_ = 0;
  bool read_pending_ = false;

  uint32_t inflight_ = 0;
  std::vector<uint64_t> ids_;  // calls in flight, for the duplicate-id check
  wire::Call call_;            // reused by the quiet path
  wire::Return ret_;

  std::mutex wmu_;
  std::string wpending_;  // under wmu_: Returns waiting for the next write
  std::string wactive_;   // I/O thread: being written
  bool write_pending_ = false;
  std::atomic<bool> gone_{false};  // the socket is closed: queued calls need not run
};

}  // namespace ferrohsm::server
