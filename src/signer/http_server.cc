#include "ferrohsm/signer/http_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <thread>
#include <filesystem>

namespace ferrohsm::signer {

Result<ListenAddress> parse_listen_address(const std::string& text) {
  ListenAddress a;
  if (text.starts_with("unix:")) {
    a.unix_socket = true;
    a.host = text.substr(5);
    if (a.host.empty() || a.host.front() != '/')
      return Error::invalid("listen address '" + text + "': a Unix socket needs an absolute path (unix:/path)");
    if (a.host.size() >= 108) return Error::invalid("listen address '" + text + "': socket path too long");
    return a;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Error::invalid("listen address '" + text + "' must be host:port, [ipv6]:port or unix:/path");
  a.host = text.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  std::string port = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || p != port.data() + port.size() || a.port < 0 || a.port > 65535)
    return Error::invalid("listen address '" + text + "': port must be a number from 0 to 65535");
  return a;
}

HttpServer::HttpServer(std::unique_ptr<httplib::Server> server, bool tls) : server_(std::move(server)), tls_(tls) {}

HttpServer::~HttpServer() {
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(const TlsSettings& tls) {
  if (!tls.enabled()) return std::unique_ptr<HttpServer>(new HttpServer(std::make_unique<httplib::Server>(), false));
  auto server = std::make_unique<httplib::SSLServer>(
      tls.cert_file.c_str(), tls.key_file.c_str(), tls.client_ca_file.empty() ? nullptr : tls.client_ca_file.c_str());
  if (!server->is_valid())
    return Error::invalid("cannot set up TLS from certificate " + tls.cert_file + " and key " + tls.key_file +
                          (tls.client_ca_file.empty() ? "" : " with client CA " + tls.client_ca_file));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(server), true));
}

Result<int> HttpServer::bind(const ListenAddress& address) {
  if (address.unix_socket) {
    std::error_code ec;
    if (std::filesystem::is_socket(address.host, ec)) ::unlink(address.host.c_str());  // stale socket
    server_->set_address_family(AF_UNIX);
    if (!server_->bind_to_port(address.host.c_str(), 80))
      return Error::invalid("cannot listen on Unix socket " + address.host);
    ::chmod(address.host.c_str(), 0660);
    unix_path_ = address.host;
    return 0;
  }
  if (address.port == 0) {
    int port = server_->bind_to_any_port(address.host.c_str());
    if (port <= 0) return Error::invalid("cannot listen on " + address.host + " (any port)");
    return port;
  }
  if (!server_->bind_to_port(address.host.c_str(), address.port))
    return Error::invalid("cannot listen on " + address.host + ":" + std::to_string(address.port));
  return address.port;
}

void HttpServer::run() {
  run_entered_ = true;
  if (!stop_requested_) server_->listen_after_bind();
  run_returned_ = true;
}

void HttpServer::stop() {
  stop_requested_ = true;
  // httplib's stop() does nothing before the listen loop runs: wait for it (bounded).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (run_entered_ && !run_returned_ && !server_->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
}

}  // namespace ferrohsm::signer
