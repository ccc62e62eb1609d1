// The sidecar half of libferrohsm-pkcs11.so: with `mode = "sidecar"` the library is one
// PKCS#11 application of a ferrohsm-server, reached over a Unix socket or TCP with mutual
// TLS. This is that application's connection, kept and renewed: it connects at
// C_Initialize (a server that is not there yet is not an error), and when the connection
// is lost, the sessions it carried answer CKR_DEVICE_REMOVED, slot calls answer
// CKR_TOKEN_NOT_PRESENT while no server is reachable, and the next call connects again —
// to the next endpoint first — without the application reloading anything.
#pragma once

#include "base/result.h"
#include "wire/args.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ferrohsm::sidecar {

class Connection;

struct Settings {
  std::vector<std::string> endpoints;  // "unix:/run/ferrohsm/ferrohsm.sock", "tcp:host:port"; tried in order
  std::string cert, key, ca;           // the client certificate and the server's CA (required for tcp:)
  std::string server_name;             // expected in the server's certificate; default: the endpoint's host
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds retry_interval{200};  // the shortest time between two attempts to reconnect
  std::chrono::microseconds busy_poll{50};         // ConnectOptions::busy_poll
};

class Client {
 public:
  explicit Client(Settings settings);
  ~Client();

  // One call: the Return, or the transport's failure as the code the application gets
  // (CKR_DEVICE_REMOVED when the connection was lost during the call, CKR_TOKEN_NOT_PRESENT
  // when no server can be reached).
  // `generation` is the context's generation the call was encoded for: when the
  // connection of that generation is gone, the call is not sent anywhere else.
  Result<wire::Return> send(wire::Call& call, uint32_t generation);

  wire::client::Context& context() { return ctx_; }
  // True while a connection is up (for C_WaitForSlotEvent and slot lists).
  bool connected();
  // Connects now if there is no connection and the retry interval has passed.
  bool ensure_connected();
  const std::string& identity() const { return identity_; }
  // In the child after fork(): forgets the parent's connection without touching it
  // (only the forking thread lives on, so no lock is taken and nothing is freed).
  void abandon();

 private:
  // The live connection, or nullptr (a connection found lost is let go here).
  std::shared_ptr<Connection> current();
  std::shared_ptr<Connection> reconnect();
  void lost(const std::shared_ptr<Connection>& c);
  void lost_locked();

  Settings settings_;
  wire::client::Context ctx_;
  mutable std::mutex mu_;                 // guards the fields below (never held during a call)
  std::shared_ptr<Connection> conn_;
  size_t next_endpoint_ = 0;
  std::chrono::steady_clock::time_point last_attempt_{};
  std::string identity_;
};

}  // namespace ferrohsm::sidecar
