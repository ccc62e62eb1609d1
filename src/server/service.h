// The seam between the server's network layer (listeners, TLS, peer identity, access
// rules, framing, limits) and what it serves. The network layer accepts a connection,
// establishes the Peer, finds its Grant, exchanges Hellos, then hands every Call to the
// connection's Application and writes back the Return. A Service makes Applications:
// the PKCS#11 service (src/server/pkcs11_service.*) maps each to one PKCS#11
// application on the core; tests may serve anything else.
#pragma once

#include "server/peer.h"
#include "wire/ferrohsm_wire.pb.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server {

// One connection: one PKCS#11 application, whose sessions, login state and session
// objects live here and die with it.
class Application {
 public:
  virtual ~Application() = default;
  // Answers one call. Runs on a worker; several calls of one connection may run at
  // once (a client may have several threads). `out.id` is set by the caller.
  virtual void call(const wire::Call& in, wire::Return& out) = 0;
  // The connection is gone (closed, killed, timed out): free everything it held.
  virtual void closed() {}
};

struct ServiceStatus {
  uint64_t sessions = 0;
  std::vector<std::string> logged_in_tokens;
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::unique_ptr<Application> open(const Peer& peer, const Grant& grant) = 0;
  // The function indexes served (for the HelloReply).
  virtual std::vector<uint32_t> functions() const = 0;
  // True for calls that may take long (PIN key derivation, RSA key generation): the
  // network layer runs them on the blocking pool so that quick calls never wait behind them.
  virtual bool slow(uint32_t function) const = 0;
  virtual ServiceStatus status() const = 0;
};

}  // namespace ferrohsm::server
