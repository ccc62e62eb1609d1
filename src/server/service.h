// The seam between the server's network layer (listeners, TLS, peer identity, access
// rules, framing, limits) and what it serves. The network layer accepts a connection,
// establishes the Peer, finds its Grant, exchanges Hellos, then hands every Call to the
// connection's Application and writes back the Return. A Service makes Applications:
// the PKCS#11 service (src/server/pkcs11_service.*) maps each to one PKCS#11
// application on the core; tests may serve anything else.
#pragma once

#include "base/result.h"
#include "server/peer.h"
#include "wire/ferrohsm_wire.pb.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server {

struct ServerConfig;

// One connection: one PKCS#11 application, whose sessions, login state and session
// objects live here and die with it.
class Application {
 public:
  virtual ~Application() = default;
  // Answers one call. Runs on one of the server's threads: a quick call often on the
  // I/O thread that read it (other connections are served by the other threads
  // meanwhile), a slow() one on the blocking pool; several calls of one connection may
  // run at once (a client may have several threads). `out.id` is set by the caller.
  // An exception becomes CKR_GENERAL_ERROR and a log line; the connection stays.
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
  // A new connection past its Hello and access check. Null refuses it (the peer is
  // told "the server cannot open a connection now"; say why in the log).
  virtual std::unique_ptr<Application> open(const Peer& peer, const Grant& grant) = 0;
  // The function indexes served (for the HelloReply).
  virtual std::vector<uint32_t> functions() const = 0;
  // True for calls that may take long (PIN key derivation, RSA key generation): the
  // network layer runs them on the blocking pool so that quick calls never wait behind them.
  virtual bool slow(uint32_t function) const = 0;
  virtual ServiceStatus status() const = 0;
  // SIGHUP: the configuration file was read again (the core's sections are in
  // config.core). An error keeps the old configuration everywhere and is logged.
  virtual Status reload(const ServerConfig& config) {
    (void)config;
    return {};
  }
};

}  // namespace ferrohsm::server
