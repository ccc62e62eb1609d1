// The two kinds of connection (internal to src/server): a unix: socket, whose peer is
// known from SO_PEERCRED at accept, and TLS 1.3 over tcp:, whose peer is the verified
// client certificate. Each only moves bytes; Connection does the rest.
#pragma once

#include "server/connection.h"
#include "server/tls.h"

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

namespace ferrohsm::server {

using UnixSocket = asio::basic_stream_socket<asio::local::stream_protocol, Executor>;
using TcpSocket = asio::basic_stream_socket<asio::ip::tcp, Executor>;

class UnixConnection final : public Connection {
 public:
  UnixConnection(Hub& hub, UnixSocket socket, Peer peer)
      : Connection(hub, socket.get_executor(), std::move(peer)), socket_(std::move(socket)) {}

 protected:
  void read_some(uint8_t* data, size_t size) override {
    socket_.async_read_some(asio::buffer(data, size),
                            [self = shared_from_this(), this](const asio::error_code& ec, size_t n) { on_read(ec, n); });
  }
  void write(const std::string& data) override {
    asio::async_write(socket_, asio::buffer(data),
                      [self = shared_from_this(), this](const asio::error_code& ec, size_t n) { on_written(ec, n); });
  }
  void close_stream() override {
    asio::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  UnixSocket socket_;
};

class TlsConnection final : public Connection {
 public:
  TlsConnection(Hub& hub, TcpSocket socket, Peer peer, std::shared_ptr<asio::ssl::context> tls)
      : Connection(hub, socket.get_executor(), std::move(peer)), tls_(std::move(tls)), stream_(std::move(socket), *tls_) {}

 protected:
  void start_tls() override {
    tls_pending_ = true;
    attach_verify_note(stream_.native_handle(), &verify_note_);
    stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this(), this](asio::error_code ec) {
      if (!ec && !fill_cert_identity(stream_.native_handle(), peer_))
        ec = asio::error::make_error_code(asio::error::access_denied);
      on_tls(ec, verify_note_);
    });
  }
  void read_some(uint8_t* data, size_t size) override {
    stream_.async_read_some(asio::buffer(data, size),
                            [self = shared_from_this(), this](const asio::error_code& ec, size_t n) { on_read(ec, n); });
  }
  void write(const std::string& data) override {
    asio::async_write(stream_, asio::buffer(data),
                      [self = shared_from_this(), this](const asio::error_code& ec, size_t n) { on_written(ec, n); });
  }
  void close_stream() override {
    asio::error_code ignored;
    stream_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

 private:
  std::shared_ptr<asio::ssl::context> tls_;  // kept alive: the stream's SSL came from it
  asio::ssl::stream<TcpSocket> stream_;
  std::string verify_note_;
};

}  // namespace ferrohsm::server
