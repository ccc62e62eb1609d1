#include "server/server.h"

#include "base/busy_poll.h"
#include "base/log.h"
#include "server/connection_streams.h"
#include "server/hub.h"
#include "server/listener.h"
#include "server/tls.h"
#include "wire/protocol.h"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <thread>
#include <unordered_map>

namespace ferrohsm::server {
namespace {

unsigned cpus() { return std::max(1u, std::thread::hardware_concurrency()); }
unsigned io_thread_count(const ServerConfig& c) { return c.io_threads > 0 ? c.io_threads : cpus(); }
unsigned worker_count(const ServerConfig& c) { return c.workers > 0 ? c.workers : std::max(2u, cpus()); }

void fill_unix_peer(int fd, Peer& p) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    p.uid = cred.uid;
    p.gid = cred.gid;
    p.pid = cred.pid;
    p.identity = "uid:" + std::to_string(cred.uid);
    p.address = "pid " + std::to_string(cred.pid);
  } else {
    p.identity = "uid:(unknown)";
    p.address = "unknown process";
  }
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(32);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      p.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;
    groups.resize(glen / sizeof(gid_t) + 1);
  }
#endif
}

std::chrono::milliseconds sweep_period(const Limits& l) {
  uint32_t shortest = l.handshake_timeout_ms;
  if (l.idle_timeout_ms > 0) shortest = std::min(shortest, l.idle_timeout_ms);
  return std::chrono::milliseconds(std::clamp<uint32_t>(shortest / 4, 20, 1000));
}

}  // namespace

class Server::Impl final : public Hub, public ConnectionSink {
 public:
  Impl(ServerConfig config, Service& service)
      : config_(std::move(config)),
        service_(service),
        ios_(make_ios(io_thread_count(config_))),
        workers_(worker_count(config_)),
        blocking_(config_.blocking_workers),
        sweep_(ios_[0]->get_executor()) {}

  ~Impl() override {
    if (running_) stop();
    if (!threads_.empty()) join();
  }

  // Hub
  asio::thread_pool& worker_pool() override { return workers_; }
  asio::thread_pool& blocking_pool() override { return blocking_; }
  Service& service() override { return service_; }
  std::shared_ptr<const Settings> settings() const override {
    std::lock_guard<std::mutex> lock(settings_mu_);
    return settings_;
  }
  bool admit(const std::string& identity) override {
    uint32_t limit = settings()->limits.max_connections_per_peer;
    std::lock_guard<std::mutex> lock(mu_);
    uint32_t& n = per_peer_[identity];
    if (n >= limit) {
      if (n == 0) per_peer_.erase(identity);
      return false;
    }
    ++n;
    ++admitted_;
    return true;
  }
  void finished(Connection* c, bool admitted) override {
    std::shared_ptr<Connection> keep;  // released outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    auto it = conns_.find(c);
    if (it != conns_.end()) {
      keep = std::move(it->second);
      conns_.erase(it);
    }
    if (admitted) {
      auto p = per_peer_.find(c->peer().identity);
      if (p != per_peer_.end() && --p->second == 0) per_peer_.erase(p);
      --admitted_;
    }
    cv_.notify_all();
  }
  wire::ServerStatus status() const override {
    wire::ServerStatus s;
    s.set_software(wire::software_version());
    s.set_uptime_ms(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count()));
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.set_connections(admitted_);
      for (const auto& [identity, n] : per_peer_) {
        wire::PeerConnections* pc = s.add_peers();
        pc->set_identity(identity);
        pc->set_connections(n);
      }
    }
    ServiceStatus ss = service_.status();
    s.set_sessions(ss.sessions);
    for (const std::string& t : ss.logged_in_tokens) s.add_logged_in_tokens(t);
    for (const std::string& l : listening()) s.add_listen(l);
    return s;
  }

  // ConnectionSink
  Executor next_executor() override {
    size_t i = next_io_.fetch_add(1, std::memory_order_relaxed) % ios_.size();
    return ios_[i]->get_executor();
  }
  void accepted(UnixSocket socket, const std::string& endpoint) override {
    Peer p;
    p.endpoint = endpoint;
    fill_unix_peer(socket.native_handle(), p);
    admit_connection(std::make_shared<UnixConnection>(*this, std::move(socket), std::move(p)));
  }
  void accepted(TcpSocket socket, const std::string& endpoint) override {
    asio::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    Peer p;
    p.endpoint = endpoint;
    auto remote = socket.remote_endpoint(ec);
    p.address = ec ? std::string("unknown address")
                   : (remote.address().is_v6() ? "[" + remote.address().to_string() + "]" : remote.address().to_string()) +
                         ":" + std::to_string(remote.port());
    std::shared_ptr<const Settings> s = settings();
    admit_connection(std::make_shared<TlsConnection>(*this, std::move(socket), std::move(p), s->tls));
  }

  Status start() {
    auto settings = std::make_shared<Settings>();
    FH_TRY(build_settings(config_, *settings));
    settings_ = std::move(settings);
    FH_ASSIGN_OR_RETURN(std::vector<int> fds, systemd_sockets(config_.listen));
    SocketFileOptions file{config_.socket_mode, config_.socket_group};
    for (size_t i = 0; i < config_.listen.size(); ++i) {
      auto l = open_listener(*ios_[0], *this, config_.listen[i], fds[i], file);
      if (!l) {
        close_listeners();
        return l.error();
      }
      listeners_.push_back(std::move(*l));
    }
    started_ = std::chrono::steady_clock::now();
    for (auto& io : ios_) {
      work_.emplace_back(io->get_executor());
      threads_.emplace_back([this, ctx = io.get()] { run_io(*ctx); });
    }
    running_ = true;
    for (auto& l : listeners_) {
      l->start();
      std::string how = l->bound().starts_with("tcp:")
                            ? "TLS 1.3, client certificates from " + config_.client_ca
                            : "socket mode " + mode_text(config_.socket_mode);
      log().info("listening on {} ({}{})", l->bound(), how, l->adopted() ? ", socket from systemd" : "");
    }
    asio::post(ios_[0]->get_executor(), [this] { arm_sweep(); });
    log().info("{} serving with {} I/O threads, {} workers and {} blocking workers, {} access rules",
               wire::software_version(), ios_.size(), worker_count(config_), config_.blocking_workers,
               config_.access.size());
    return {};
  }

  std::vector<std::string> listening() const {
    std::vector<std::string> out;
    for (const auto& l : listeners_) out.push_back(l->bound());
    return out;
  }

  Status reload(const ServerConfig& next) {
    auto settings = std::make_shared<Settings>();
    FH_TRY(build_settings(next, *settings));
    FH_TRY(service_.reload(next));
    std::vector<std::string> before, after;
    for (const auto& e : config_.listen) before.push_back(e.text);
    for (const auto& e : next.listen) after.push_back(e.text);
    if (before != after) log().warn("reload: the listen entries changed; that takes a restart");
    if (next.io_threads != config_.io_threads || next.workers != config_.workers ||
        next.blocking_workers != config_.blocking_workers || next.busy_poll_us != config_.busy_poll_us)
      log().warn("reload: the worker counts or busy_poll_us changed; that takes a restart");
    std::shared_ptr<const Settings> now = settings;
    {
      std::lock_guard<std::mutex> lock(settings_mu_);
      settings_ = now;
    }
    for (const auto& c : snapshot()) c->recheck_grant(now);
    log().info("reloaded {}: {} access rules{}", next.source.empty() ? std::string("the configuration") : next.source,
               next.access.size(), now->tls ? ", TLS material for new connections" : "");
    return {};
  }

  bool stop() {
    if (!running_) return true;
    running_ = false;
    stopping_ = true;
    close_listeners();
    asio::post(ios_[0]->get_executor(), [this] { sweep_.cancel(); });
    for (const auto& c : snapshot()) c->stop();
    auto limit = std::chrono::milliseconds(settings()->limits.shutdown_timeout_ms);
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, limit, [this] { return conns_.empty(); })) {
      log().warn("stopping: {} connections still have calls in flight after {} ms; closing them", conns_.size(),
                 limit.count());
      lock.unlock();
      for (const auto& c : snapshot()) c->abort("");
      lock.lock();
      if (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return conns_.empty(); })) {
        log().error("stopping: calls are still running in {} connections; leaving them", conns_.size());
        return false;
      }
    }
    lock.unlock();
    join();
    log().info("stopped");
    return true;
  }

  size_t connection_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return conns_.size();
  }

 private:
  static std::string mode_text(uint32_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
  }

  Status build_settings(const ServerConfig& c, Settings& s) {
    s.limits = c.limits;
    s.access = c.access;
    if (c.has_tcp()) {
      FH_ASSIGN_OR_RETURN(s.tls, make_server_tls(c.tls_cert, c.tls_key, c.client_ca));
    }
    return {};
  }

  void admit_connection(std::shared_ptr<Connection> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;  // the socket closes with c
      uint32_t limit = settings()->limits.max_connections;
      if (conns_.size() >= limit) {
        log().warn("refused {} on {}: max_connections ({}) reached", c->peer().address, c->peer().endpoint, limit);
        return;
      }
      conns_.emplace(c.get(), c);
    }
    c->start();
  }

  std::vector<std::shared_ptr<Connection>> snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<Connection>> out;
    out.reserve(conns_.size());
    for (const auto& [k, v] : conns_) out.push_back(v);
    return out;
  }

  void arm_sweep() {
    sweep_.expires_after(sweep_period(settings()->limits));
    sweep_.async_wait([this](const asio::error_code& ec) {
      if (ec || stopping_) return;
      auto now = Connection::Clock::now();
      for (const auto& c : snapshot()) c->check_timeouts(now);
      arm_sweep();
    });
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_ios(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> ios;
    for (unsigned i = 0; i < n; ++i) ios.push_back(std::make_unique<asio::io_context>(1));  // one thread each
    return ios;
  }

  void run_io(asio::io_context& io) {
    for (;;) {
      try {
        if (config_.busy_poll_us == 0) {
          io.run();
        } else {
          BusyPoll busy{std::chrono::microseconds(config_.busy_poll_us)};
          run_busy_polling(io, busy);
        }
        return;
      } catch (const std::exception& e) {
        log().error("an I/O handler failed: {}", e.what());
      }
    }
  }

  // Runs handlers as they come; after the last one, polls (epoll_wait with no timeout)
  // for the busy-poll budget before blocking, so that a client's next call, typically
  // a few microseconds behind its answer, is read without waking a sleeping thread — on a
  // virtual machine that wake-up is most of a round trip (src/base/busy_poll.h).
  static void run_busy_polling(asio::io_context& io, BusyPoll& busy) {
    using Clock = BusyPoll::Clock;
    Clock::time_point start = Clock::now(), last = start;
    while (!io.stopped()) {
      if (io.poll() > 0) {
        start = last = Clock::now();
        continue;
      }
      Clock::time_point now = Clock::now();
      if (busy.enabled(now) && busy.keep_polling(start, last, now)) {
        last = now;
        continue;
      }
      if (io.run_one() == 0) return;  // stopped, or out of work
      start = last = Clock::now();
    }
  }

  void close_listeners() {
    for (auto& l : listeners_) l->close();
  }

  void join() {
    work_.clear();
    for (auto& io : ios_) io->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    workers_.join();
    blocking_.join();
  }

  ServerConfig config_;
  Service& service_;
  std::vector<std::unique_ptr<asio::io_context>> ios_;  // one per I/O thread
  std::atomic<size_t> next_io_{0};
  std::vector<asio::executor_work_guard<Executor>> work_;
  std::vector<std::thread> threads_;
  asio::thread_pool workers_;
  asio::thread_pool blocking_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor> sweep_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  mutable std::mutex settings_mu_;
  std::shared_ptr<const Settings> settings_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns_;
  std::map<std::string, uint32_t> per_peer_;
  uint64_t admitted_ = 0;
  bool running_ = false;
  std::atomic<bool> stopping_{false};
};

Server::Server(ServerConfig config, Service& service) : impl_(std::make_unique<Impl>(std::move(config), service)) {}
Server::~Server() = default;
Status Server::start() { return impl_->start(); }
std::vector<std::string> Server::listening() const { return impl_->listening(); }
Status Server::reload(const ServerConfig& config) { return impl_->reload(config); }
bool Server::stop() { return impl_->stop(); }
size_t Server::connection_count() const { return impl_->connection_count(); }
wire::ServerStatus Server::status() const { return impl_->status(); }

}  // namespace ferrohsm::server
