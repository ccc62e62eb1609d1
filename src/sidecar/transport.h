// The sidecar client's transport: one connection to ferrohsm-server over a unix:
// socket or TLS 1.3 over tcp:, the Hello exchange, then calls multiplexed by id.
//
//   auto conn = sidecar::Connection::connect("tcp:hsm.example:5696", {.tls = TlsFiles{…}});
//   wire::Call c; c.set_function(…); …
//   Result<wire::Return> r = (*conn)->call(c);   // from any number of threads at once
//
// call() is safe from many threads at once. The thread whose reply is awaited reads
// the socket itself while no other thread does (leader/follower): with one calling
// thread there is no hand-off at all; with several, the reader hands each reply to its
// caller. There are no read timeouts (a login takes ~0.3 s, an RSA-4096 key generation
// seconds): a lost server is seen as an error or end of file on the socket (TCP
// keepalive finds a vanished host).
//
// Errors carry a CK_RV for the library to map: CKR_DEVICE_ERROR when a connection
// cannot be made (unreachable, TLS failure, refused by the server — the message says
// which), CKR_DEVICE_REMOVED once an established connection is lost (every call then
// fails; make a new Connection), CKR_DEVICE_MEMORY for one call larger than the
// server's max_message (the connection stays).
#pragma once

#include "base/result.h"
#include "wire/ferrohsm_wire.pb.h"
#include "wire/frame.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ferrohsm::sidecar {

struct TlsFiles {
  std::string cert;  // this client's certificate (PEM, chain allowed)
  std::string key;   // its private key (PEM)
  std::string ca;    // the CA the server's certificate must chain to (PEM)
  // The name the server's certificate must carry (DNS or IP SAN); default: the
  // endpoint's host.
  std::string server_name;
};

struct ConnectOptions {
  std::optional<TlsFiles> tls;  // required for tcp:; not used for unix: (the server checks the peer's uid)
  uint64_t max_message = wire::kDefaultMaxMessage;  // the largest frame this side reads
  std::chrono::milliseconds connect_timeout{10000};  // connect, TLS handshake and Hello together
  // How long a reader polls the socket without sleeping before it blocks (0: never).
  // A reply that comes within it is picked up without the wake-up of a sleeping thread,
  // the larger part of a round trip on virtual machines (docs/SERVER.md, "Busy polling").
  std::chrono::microseconds busy_poll{kDefaultBusyPoll};
  static constexpr std::chrono::microseconds kDefaultBusyPoll{50};
};

class Connection {
 public:
  // Connects to "unix:/path" or "tcp:host:port" and exchanges Hellos.
  static Result<std::unique_ptr<Connection>> connect(const std::string& endpoint, const ConnectOptions& options);

  // The owner makes sure no call() is running when it destroys the connection
  // (shutdown() first makes running calls return).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `call` (its id is set here) and waits for its Return.
  Result<wire::Return> call(wire::Call& call);

  // What the server answered to our Hello (its functions, limits, identity for us).
  const wire::HelloReply& hello() const;
  const std::string& endpoint() const;
  // True once the connection is lost (or shut down); every call fails from then on.
  bool lost() const;
  // Closes the connection; calls in progress return CKR_DEVICE_REMOVED.
  void shutdown();
  // In the child after fork(): forgets the socket without touching the parent's
  // connection (no shutdown, no TLS close_notify); every call then fails.
  void abandon();

  class Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrohsm::sidecar
