// ferrohsm-server's network layer: listeners (unix: with SO_PEERCRED, tcp: with TLS 1.3
// and client certificates, or sockets handed over by systemd), access rules, limits and
// timeouts, and the threads that run calls. What it serves is a Service (service.h).
//
//   Server server(config, service);
//   if (Status s = server.start(); !s) …;   // binds, logs where it listens
//   …
//   server.reload(new_config);               // SIGHUP
//   server.stop();                           // SIGTERM
#pragma once

#include "base/result.h"
#include "server/config.h"
#include "server/service.h"
#include "wire/ferrohsm_wire.pb.h"

#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server {

class Server {
 public:
  Server(ServerConfig config, Service& service);
  // Stops the server if it still runs (see stop()).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS material, binds every listen entry (or takes the sockets systemd
  // passed), starts the threads and logs where it listens.
  Status start();

  // The endpoints as bound: "tcp:127.0.0.1:40123" where the configuration said port 0.
  std::vector<std::string> listening() const;

  // Takes new TLS material (for new connections), access rules and limits (for new
  // connections; an open connection whose peer the new rules refuse or grant something
  // else is closed). Listen entries and worker counts need a restart. On an error
  // nothing changes.
  Status reload(const ServerConfig& config);

  // Stops accepting, lets calls in flight finish and their Returns be written (for at
  // most limits.shutdown_timeout_ms), closes every connection (each Application gets
  // closed()) and stops the threads. False when calls were still running at the
  // deadline: the threads running them are left alone, and the caller should end the
  // process without destroying the Server.
  bool stop();

  // Open connections (handshakes included).
  size_t connection_count() const;
  wire::ServerStatus status() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrohsm::server
