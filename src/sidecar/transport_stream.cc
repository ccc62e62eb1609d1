#include "sidecar/transport_stream.h"

#include "base/busy_poll.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace ferrohsm::sidecar {
namespace {

Error connect_error(const std::string& endpoint, const std::string& why) {
  return make_error(CKR_DEVICE_ERROR, "cannot connect to " + endpoint + ": " + why);
}

Error lost(const std::string& why) { return make_error(CKR_DEVICE_REMOVED, "connection lost: " + why); }

// Milliseconds left until `deadline` for poll(): -1 without one.
int poll_timeout(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Waits for `events`; false when the deadline passed first.
Result<bool> wait_fd(int fd, short events, std::optional<Clock::time_point> deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, poll_timeout(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return lost(std::string("poll: ") + std::strerror(errno));
  }
}

// Polls `fd` for input without sleeping, within what `busy` allows. True when input
// arrived; false when the caller should block instead. After the first 10 µs (a quick
// call's whole round trip) it yields the CPU between polls, so that the threads it waits
// for — the server's among them — still run.
bool spin_for_input(int fd, BusyPoll& busy) {
  Clock::time_point start = Clock::now();
  if (!busy.enabled(start)) return false;
  const Clock::time_point polite = start + std::chrono::microseconds(10);
  for (Clock::time_point last = start;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return true;  // input, end of file, an error: the read says which
    Clock::time_point now = Clock::now();
    if (!busy.keep_polling(start, last, now)) return false;
    if (now >= polite) ::sched_yield();
    last = now;
  }
}

void set_blocking(int fd, bool blocking) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
}

// Connects a non-blocking socket before the deadline.
Status connect_fd(int fd, const sockaddr* addr, socklen_t len, Clock::time_point deadline, const std::string& endpoint) {
  if (::connect(fd, addr, len) == 0) return {};
  if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) return connect_error(endpoint, std::strerror(errno));
  FH_ASSIGN_OR_RETURN(bool ready, wait_fd(fd, POLLOUT, deadline));
  if (!ready) return connect_error(endpoint, "timed out");
  int err = 0;
  socklen_t elen = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  if (err != 0) return connect_error(endpoint, std::strerror(err));
  return {};
}

// ---- unix: a plain blocking socket ------------------------------------------------

class PlainStream final : public Stream {
 public:
  PlainStream(int fd, std::chrono::microseconds busy_poll) : fd_(fd), busy_(busy_poll) {}
  ~PlainStream() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status write_all(const uint8_t* data, size_t size) override {
    while (size > 0) {
      ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return lost(n < 0 ? std::strerror(errno) : "the socket took nothing");
      data += n;
      size -= static_cast<size_t>(n);
    }
    return {};
  }
  Result<size_t> read_some(uint8_t* data, size_t size, std::optional<Clock::time_point> deadline) override {
    if (!deadline) spin_for_input(fd_, busy_);
    for (;;) {
      if (deadline) {
        FH_ASSIGN_OR_RETURN(bool ready, wait_fd(fd_, POLLIN, deadline));
        if (!ready) return lost("no answer in time");
      }
      ssize_t n = ::recv(fd_, data, size, 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) return lost("the server closed the connection");
      if (errno != EINTR) return lost(std::strerror(errno));
    }
  }
  void shutdown() override { ::shutdown(fd_, SHUT_RDWR); }
  void abandon() override {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  BusyPoll busy_;
};

// ---- tcp: TLS 1.3 -------------------------------------------------------------------

// A socket BIO that sends with MSG_NOSIGNAL: a server gone away must not raise SIGPIPE
// in the application that loaded the library.
int bio_write(BIO* b, const char* buf, int len) {
  int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(fd, buf, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* buf, int len) {
  int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(fd, buf, static_cast<size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

const BIO_METHOD* nosignal_socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferrohsm socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return errno != 0 ? std::strerror(errno) : "end of file";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

class TlsStream final : public Stream {
 public:
  TlsStream(int fd, SSL_CTX* ctx, SSL* ssl, std::chrono::microseconds busy_poll)
      : fd_(fd), ctx_(ctx), ssl_(ssl), busy_(busy_poll) {}
  ~TlsStream() override {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  // The handshake, before the stream is shared.
  Status handshake(Clock::time_point deadline, const std::string& endpoint) {
    for (;;) {
      ERR_clear_error();
      int r = SSL_connect(ssl_);
      if (r == 1) return {};
      int err = SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        long verify = SSL_get_verify_result(ssl_);
        std::string why = verify != X509_V_OK ? std::string("the server's certificate: ") +
                                                    X509_verify_cert_error_string(verify)
                                              : ssl_error_text();
        return connect_error(endpoint, "TLS handshake failed: " + why);
      }
      auto ready = wait_fd(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (!ready) return connect_error(endpoint, ready.error().message);
      if (!*ready) return connect_error(endpoint, "TLS handshake timed out");
    }
  }

  Status write_all(const uint8_t* data, size_t size) override {
    while (size > 0) {
      int want;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ERR_clear_error();
        int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) {
          data += n;
          size -= static_cast<size_t>(n);
          continue;
        }
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_WRITE) {
          want = POLLOUT;
        } else if (err == SSL_ERROR_WANT_READ) {
          want = POLLIN;
        } else {
          return lost(ssl_error_text());
        }
      }
      FH_TRY(wait_fd(fd_, static_cast<short>(want), std::nullopt));
    }
    return {};
  }

  Result<size_t> read_some(uint8_t* data, size_t size, std::optional<Clock::time_point> deadline) override {
    // Nothing buffered in OpenSSL (the usual case: a reply not yet arrived): wait for the
    // socket first rather than let SSL_read try a recv that would only say EAGAIN.
    bool buffered;
    {
      std::lock_guard<std::mutex> lock(mu_);
      buffered = SSL_has_pending(ssl_) == 1;
    }
    if (!buffered && !(!deadline && spin_for_input(fd_, busy_))) {
      FH_ASSIGN_OR_RETURN(bool ready, wait_fd(fd_, POLLIN, deadline));
      if (!ready) return lost("no answer in time");
    }
    for (;;) {
      int want;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) return static_cast<size_t>(n);
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_READ) {
          want = POLLIN;
        } else if (err == SSL_ERROR_WANT_WRITE) {
          want = POLLOUT;
        } else if (err == SSL_ERROR_ZERO_RETURN) {
          return lost("the server closed the connection");
        } else {
          return lost(ssl_error_text());
        }
      }
      FH_ASSIGN_OR_RETURN(bool ready, wait_fd(fd_, static_cast<short>(want), deadline));
      if (!ready) return lost("no answer in time");
    }
  }

  void shutdown() override { ::shutdown(fd_, SHUT_RDWR); }
  void abandon() override {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  BusyPoll busy_;
  std::mutex mu_;  // OpenSSL's SSL object takes one call at a time
};

Result<SSL_CTX*> client_context(const TlsFiles& f, const std::string& endpoint) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  auto fail = [&](const std::string& what) {
    std::string why = what + ": " + ssl_error_text();
    SSL_CTX_free(ctx);
    return connect_error(endpoint, why);
  };
  if (ctx == nullptr) return fail("TLS context");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
    return fail("TLS 1.3");
  if (SSL_CTX_load_verify_locations(ctx, f.ca.c_str(), nullptr) != 1) return fail("CA file " + f.ca);
  if (SSL_CTX_use_certificate_chain_file(ctx, f.cert.c_str()) != 1) return fail("client certificate " + f.cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, f.key.c_str(), SSL_FILETYPE_PEM) != 1) return fail("client key " + f.key);
  if (SSL_CTX_check_private_key(ctx) != 1) return fail("client key " + f.key + " and certificate " + f.cert);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // A record's header and body in one recv (not two), and several records at once.
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

Result<int> connect_tcp(const wire::Endpoint& ep, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res);
  if (rc != 0) return connect_error(ep.text, std::string("cannot resolve ") + ep.host + ": " + gai_strerror(rc));
  Error last = connect_error(ep.text, "no address");
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    Status s = connect_fd(fd, a->ai_addr, a->ai_addrlen, deadline, ep.text);
    if (s) {
      ::freeaddrinfo(res);
      int one = 1, idle = 30, interval = 10, count = 3, user_timeout = 60000;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // A vanished host is found without a read timeout: keepalive probes after 30 s idle.
      ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
      ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
      return fd;
    }
    last = s.error();
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return last;
}

Result<std::unique_ptr<Stream>> open_tls(const wire::Endpoint& ep, const TlsFiles& files,
                                         std::chrono::microseconds busy_poll, Clock::time_point deadline) {
  FH_ASSIGN_OR_RETURN(SSL_CTX * ctx, client_context(files, ep.text));
  auto fd = connect_tcp(ep, deadline);
  if (!fd) {
    SSL_CTX_free(ctx);
    return fd.error();
  }
  SSL* ssl = SSL_new(ctx);
  BIO* bio = ssl ? BIO_new(nosignal_socket_method()) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(*fd);
    return connect_error(ep.text, "TLS: " + ssl_error_text());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(*fd)));
  SSL_set_bio(ssl, bio, bio);
  auto stream = std::make_unique<TlsStream>(*fd, ctx, ssl, busy_poll);  // owns fd, ctx and ssl from here
  const std::string& name = files.server_name.empty() ? ep.host : files.server_name;
  in6_addr probe{};
  bool is_ip = ::inet_pton(AF_INET, name.c_str(), &probe) == 1 || ::inet_pton(AF_INET6, name.c_str(), &probe) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  }
  FH_TRY(stream->handshake(deadline, ep.text));
  return std::unique_ptr<Stream>(std::move(stream));
}

Result<std::unique_ptr<Stream>> open_unix(const wire::Endpoint& ep, std::chrono::microseconds busy_poll,
                                          Clock::time_point deadline) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return connect_error(ep.text, std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, ep.path.c_str(), ep.path.size() + 1);
  Status s = connect_fd(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr, deadline, ep.text);
  if (!s) {
    ::close(fd);
    return s.error();
  }
  set_blocking(fd, true);
  return std::unique_ptr<Stream>(std::make_unique<PlainStream>(fd, busy_poll));
}

}  // namespace

Result<std::unique_ptr<Stream>> open_stream(const wire::Endpoint& endpoint, const ConnectOptions& options,
                                            Clock::time_point deadline) {
  if (endpoint.is_unix()) return open_unix(endpoint, options.busy_poll, deadline);
  if (!options.tls)
    return connect_error(endpoint.text, "a tcp: endpoint needs TLS files (cert, key, ca): there is no plaintext TCP");
  return open_tls(endpoint, *options.tls, options.busy_poll, deadline);
}

}  // namespace ferrohsm::sidecar
