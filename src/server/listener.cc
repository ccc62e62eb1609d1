#include "server/listener.h"

#include "base/log.h"

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <future>

namespace ferrohsm::server {
namespace {

Error listen_error(const std::string& endpoint, const std::string& why) {
  return make_error(CKR_GENERAL_ERROR, "cannot listen on " + endpoint + ": " + why);
}

std::string tcp_text(const asio::ip::tcp::endpoint& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return "tcp:" + addr + ":" + std::to_string(ep.port());
}

template <typename Protocol>
class AcceptLoop final : public Listener {
 public:
  using Acceptor = asio::basic_socket_acceptor<Protocol, Executor>;
  using Socket = asio::basic_stream_socket<Protocol, Executor>;

  AcceptLoop(asio::io_context& io, ConnectionSink& sink)
      : sink_(sink), executor_(io.get_executor()), acceptor_(executor_), retry_(executor_) {}

  std::string bound() const override { return bound_; }
  bool adopted() const override { return adopted_; }
  void start() override {
    started_ = true;
    asio::post(executor_, [this] { accept(); });
  }
  void close() override {
    if (!started_) {  // no thread runs the loop yet: nothing to race with
      asio::error_code ignored;
      acceptor_.close(ignored);
      if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
      return;
    }
    std::promise<void> done;
    asio::post(executor_, [this, &done] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
      done.set_value();
    });
    done.get_future().wait();
    if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
  }

  Acceptor& acceptor() { return acceptor_; }
  std::string bound_;
  std::string unlink_path_;
  bool adopted_ = false;

 private:
  void accept() {
    acceptor_.async_accept(sink_.next_executor(), [this](const asio::error_code& ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of file descriptors, most likely: wait a little rather than spin.
        log().warn("accepting on {} failed: {}; retrying in 100 ms", bound_, ec.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const asio::error_code& e) {
          if (!e) accept();
        });
        return;
      }
      sink_.accepted(std::move(socket), bound_);
      accept();
    });
  }

  ConnectionSink& sink_;
  bool started_ = false;
  Executor executor_;
  Acceptor acceptor_;
  asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor> retry_;
};

// A socket file left by a server that is gone is removed; one a live server answers on
// is not taken over.
Status clear_stale_socket(const std::string& path, const std::string& endpoint) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode)) return listen_error(endpoint, path + " exists and is not a socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return listen_error(endpoint, std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  if (live) return listen_error(endpoint, "another process is listening on " + path);
  if (::unlink(path.c_str()) != 0) return listen_error(endpoint, "cannot remove the stale " + path);
  return {};
}

Result<std::unique_ptr<Listener>> open_unix(asio::io_context& io, ConnectionSink& sink, const wire::Endpoint& ep,
                                            int fd, const SocketFileOptions& file) {
  using Proto = asio::local::stream_protocol;
  auto l = std::make_unique<AcceptLoop<Proto>>(io, sink);
  l->bound_ = ep.text;
  asio::error_code ec;
  if (fd >= 0) {
    l->acceptor().assign(Proto(), fd, ec);
    if (ec) return listen_error(ep.text, "the socket systemd passed: " + ec.message());
    l->adopted_ = true;
    return std::unique_ptr<Listener>(std::move(l));
  }
  FH_TRY(clear_stale_socket(ep.path, ep.text));
  // The socket is made under a temporary name and renamed into place once it listens, so
  // that the path appears only when a client can connect (a client that waits for the
  // file never meets ECONNREFUSED). A path too long for the suffix is bound directly.
  std::string staging = ep.path + ".new";
  if (staging.size() >= sizeof(sockaddr_un{}.sun_path)) staging = ep.path;
  ::unlink(staging.c_str());
  Proto::endpoint addr(staging);
  l->acceptor().open(addr.protocol(), ec);
  if (!ec) l->acceptor().bind(addr, ec);
  if (ec) return listen_error(ep.text, ec.message());
  l->unlink_path_ = staging;
  // Mode and group before listen(): nobody can connect until then.
  if (::chmod(staging.c_str(), file.mode) != 0)
    return listen_error(ep.text, std::string("chmod: ") + std::strerror(errno));
  if (file.group && ::chown(staging.c_str(), static_cast<uid_t>(-1), *file.group) != 0)
    return listen_error(ep.text, std::string("chgrp: ") + std::strerror(errno));
  l->acceptor().listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return listen_error(ep.text, ec.message());
  if (staging != ep.path && ::rename(staging.c_str(), ep.path.c_str()) != 0)
    return listen_error(ep.text, std::string("rename: ") + std::strerror(errno));
  l->unlink_path_ = ep.path;
  return std::unique_ptr<Listener>(std::move(l));
}

Result<std::unique_ptr<Listener>> open_tcp(asio::io_context& io, ConnectionSink& sink, const wire::Endpoint& ep,
                                           int fd) {
  using Proto = asio::ip::tcp;
  auto l = std::make_unique<AcceptLoop<Proto>>(io, sink);
  asio::error_code ec;
  if (fd >= 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    l->acceptor().assign(ss.ss_family == AF_INET6 ? Proto::v6() : Proto::v4(), fd, ec);
    if (ec) return listen_error(ep.text, "the socket systemd passed: " + ec.message());
    l->adopted_ = true;
  } else {
    Proto::resolver resolver(io);
    auto results = resolver.resolve(ep.host, std::to_string(ep.port), Proto::resolver::passive, ec);
    if (ec || results.empty()) return listen_error(ep.text, "cannot resolve " + ep.host + ": " + ec.message());
    Proto::endpoint addr = results.begin()->endpoint();
    l->acceptor().open(addr.protocol(), ec);
    if (!ec) l->acceptor().set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor().bind(addr, ec);
    if (!ec) l->acceptor().listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return listen_error(ep.text, ec.message());
  }
  l->bound_ = tcp_text(l->acceptor().local_endpoint(ec));
  return std::unique_ptr<Listener>(std::move(l));
}

bool tcp_matches(int fd, const wire::Endpoint& ep) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res) != 0) return false;
  bool match = false;
  for (addrinfo* a = res; a != nullptr && !match; a = a->ai_next)
    match = sd_is_socket_sockaddr(fd, SOCK_STREAM, a->ai_addr, a->ai_addrlen, 1) > 0;
  ::freeaddrinfo(res);
  return match;
}

}  // namespace

Result<std::unique_ptr<Listener>> open_listener(asio::io_context& io, ConnectionSink& sink,
                                                const wire::Endpoint& endpoint, int adopted_fd,
                                                const SocketFileOptions& file) {
  if (endpoint.is_unix()) return open_unix(io, sink, endpoint, adopted_fd, file);
  return open_tcp(io, sink, endpoint, adopted_fd);
}

Result<std::vector<int>> systemd_sockets(const std::vector<wire::Endpoint>& endpoints) {
  std::vector<int> fds(endpoints.size(), -1);
  int n = sd_listen_fds(1);
  if (n < 0) return make_error(CKR_GENERAL_ERROR, std::string("LISTEN_FDS: ") + std::strerror(-n));
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    bool found = false;
    for (size_t i = 0; i < endpoints.size() && !found; ++i) {
      if (fds[i] >= 0) continue;
      const wire::Endpoint& ep = endpoints[i];
      bool match = ep.is_unix() ? sd_is_socket_unix(fd, SOCK_STREAM, 1, ep.path.c_str(), 0) > 0 : tcp_matches(fd, ep);
      if (match) {
        fds[i] = fd;
        found = true;
      }
    }
    if (!found)
      return make_error(CKR_GENERAL_ERROR, "systemd passed a listening socket (fd " + std::to_string(fd) +
                                               ") that matches no [server] listen entry");
  }
  return fds;
}

}  // namespace ferrohsm::server
