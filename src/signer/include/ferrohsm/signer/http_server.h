// The listening side: plain HTTP (loopback or Unix socket) or HTTPS with optional
// client certificates, over cpp-httplib.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "ferrohsm/signer/config.h"
#include "ferrohsm/signer/errors.h"

namespace httplib {
class Server;
}

namespace ferrohsm::signer {

struct ListenAddress {
  bool unix_socket = false;
  std::string host;  // or the socket path
  int port = 0;      // 0 → any free port
};

Result<ListenAddress> parse_listen_address(const std::string& text);

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> create(const TlsSettings& tls);
  ~HttpServer();

  httplib::Server& http() { return *server_; }
  bool tls() const { return tls_; }
  // Binds; returns the TCP port (0 for a Unix socket).
  Result<int> bind(const ListenAddress& address);
  // Serves until stop(); call after bind(). Returns at once if stop() came first.
  void run();
  // Stops run(), also when run() is only just starting; safe from any thread.
  void stop();

 private:
  HttpServer(std::unique_ptr<httplib::Server> server, bool tls);
  std::unique_ptr<httplib::Server> server_;
  bool tls_;
  std::string unix_path_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_entered_{false};
  std::atomic<bool> run_returned_{false};
};

}  // namespace ferrohsm::signer
