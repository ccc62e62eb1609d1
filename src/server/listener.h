// The listening sockets (internal to src/server): one per [server] listen entry, bound
// here or handed over by systemd (LISTEN_FDS), each with an accept loop that gives
// every new socket to the server.
#pragma once

#include "base/result.h"
#include "server/connection_streams.h"
#include "wire/endpoint.h"

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::server {

class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  // The I/O thread the next connection lives on.
  virtual Executor next_executor() = 0;
  virtual void accepted(UnixSocket socket, const std::string& endpoint) = 0;
  virtual void accepted(TcpSocket socket, const std::string& endpoint) = 0;
};

struct SocketFileOptions {
  uint32_t mode = 0660;
  std::optional<gid_t> group;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // The endpoint as bound: "tcp:127.0.0.1:40123" when the configuration said port 0.
  virtual std::string bound() const = 0;
  virtual bool adopted() const = 0;
  virtual void start() = 0;
  // Stops accepting (from any thread); a socket file this process made is removed.
  virtual void close() = 0;
};

// Binds and listens, or adopts `adopted_fd` (>= 0) when systemd passed a socket for it.
// The accept loop runs on `io` (one thread).
Result<std::unique_ptr<Listener>> open_listener(asio::io_context& io, ConnectionSink& sink,
                                                const wire::Endpoint& endpoint, int adopted_fd,
                                                const SocketFileOptions& file);

// The sockets systemd passed (sd_listen_fds: LISTEN_FDS for this LISTEN_PID, which are
// then unset), and which listen entry each one is: the index into `endpoints` per fd.
// An fd that matches no entry is an error (the unit and the configuration disagree).
Result<std::vector<int>> systemd_sockets(const std::vector<wire::Endpoint>& endpoints);

}  // namespace ferrohsm::server
