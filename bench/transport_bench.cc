// transport_bench: the round trip of a null call through the sidecar transport and
// ferrohsm-server's network layer, over the unix socket and over TCP + mTLS on
// loopback (issue 13's goals: ≤ 12 µs and ≤ 40 µs). The server runs in a child process
// serving a service that answers at once; the floor is a bare unix-socket ping-pong
// between the same two processes.
//   transport_bench [--calls N] [--threads 1,2,4,8] [--io-threads N] [--busy-poll US]
// (--busy-poll sets the server's busy_poll_us and the client's; default: theirs)
// Not part of make test.
#include "server/dev_pki.h"
#include "server/server.h"
#include "sidecar/transport.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ferrohsm;
using Clock = std::chrono::steady_clock;

class NullApplication final : public server::Application {
 public:
  void call(const wire::Call&, wire::Return& out) override { out.set_rv(CKR_OK); }
};

class NullService final : public server::Service {
 public:
  std::unique_ptr<server::Application> open(const server::Peer&, const server::Grant&) override {
    return std::make_unique<NullApplication>();
  }
  std::vector<uint32_t> functions() const override { return {1}; }
  bool slow(uint32_t) const override { return false; }
  server::ServiceStatus status() const override { return {}; }
};

struct Options {
  int calls = 20000;
  std::vector<int> threads = {1, 2, 4, 8};
  int io_threads = 0;
  int busy_poll_us = -1;  // -1: the defaults
};

// The server process: serves until its parent closes the pipe.
[[noreturn]] void serve(const std::string& dir, const server::DevPkiFiles& pki, const Options& opt, int stop_fd) {
  std::string toml = "[server]\nlisten = [\"unix:" + dir + "/bench.sock\", \"tcp:127.0.0.1:0\"]\n" +
                     "tls_cert = \"" + pki.server_cert + "\"\ntls_key = \"" + pki.server_key + "\"\n" +
                     "client_ca = \"" + pki.ca + "\"\nio_threads = " + std::to_string(opt.io_threads) + "\n" +
                     (opt.busy_poll_us >= 0 ? "busy_poll_us = " + std::to_string(opt.busy_poll_us) + "\n" : "") +
                     "[[access]]\npeer = \"uid:" + std::to_string(::getuid()) + "\"\n" +
                     "[[access]]\npeer = \"cert:CN=ferrohsm-dev-client\"\n[log]\nlevel = \"warn\"\n";
  auto config = server::parse_server_config(toml, "bench");
  if (!config) {
    std::fprintf(stderr, "bench config: %s\n", config.error().message.c_str());
    std::_Exit(1);
  }
  NullService service;
  server::Server s(*config, service);
  if (!s.start()) std::_Exit(1);
  for (const std::string& l : s.listening()) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  char c;
  while (::read(stop_fd, &c, 1) > 0) {
  }
  s.stop();
  std::_Exit(0);
}

struct Stats {
  double mean_us = 0, p50_us = 0, p99_us = 0, calls_per_s = 0;
};

Stats summarize(std::vector<double>& us, double seconds, size_t calls) {
  Stats s;
  std::sort(us.begin(), us.end());
  s.mean_us = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
  s.p50_us = us[us.size() / 2];
  s.p99_us = us[us.size() * 99 / 100];
  s.calls_per_s = static_cast<double>(calls) / seconds;
  return s;
}

// `threads` callers, `shared`: on one connection, else one connection each.
Stats run(const std::string& endpoint, const sidecar::ConnectOptions& o, int threads, bool shared, int calls) {
  std::vector<std::unique_ptr<sidecar::Connection>> conns;
  for (int i = 0; i < (shared ? 1 : threads); ++i) {
    auto c = sidecar::Connection::connect(endpoint, o);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.error().message.c_str());
      std::exit(1);
    }
    conns.push_back(std::move(*c));
  }
  int per_thread = calls / threads;
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      sidecar::Connection& conn = *conns[shared ? 0 : static_cast<size_t>(t)];
      wire::Call call;
      call.set_function(1);
      for (int i = 0; i < 200; ++i) (void)conn.call(call);  // warm up
      auto& mine = lat[static_cast<size_t>(t)];
      mine.reserve(static_cast<size_t>(per_thread));
      ++ready;
      while (!go) std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i) {
        auto start = Clock::now();
        auto r = conn.call(call);
        auto end = Clock::now();
        if (!r || r->rv() != CKR_OK) std::abort();
        mine.push_back(std::chrono::duration<double, std::micro>(end - start).count());
      }
    });
  }
  while (ready < threads) std::this_thread::yield();
  auto start = Clock::now();
  go = true;
  for (auto& t : ts) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  return summarize(all, seconds, all.size());
}

// The floor: one byte each way over a socketpair between two processes.
Stats pingpong(int calls) {
  int sv[2];
  ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    char c;
    while (::read(sv[1], &c, 1) == 1) (void)!::write(sv[1], &c, 1);
    std::_Exit(0);
  }
  ::close(sv[1]);
  std::vector<double> us;
  us.reserve(static_cast<size_t>(calls));
  char c = 'x';
  auto begin = Clock::now();
  for (int i = 0; i < calls; ++i) {
    auto start = Clock::now();
    (void)!::write(sv[0], &c, 1);
    (void)!::read(sv[0], &c, 1);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  ::close(sv[0]);
  ::waitpid(pid, nullptr, 0);
  return summarize(us, seconds, us.size());
}

void print(const char* what, int threads, const Stats& s) {
  std::printf("%-34s %7d %9.1f %9.1f %9.1f %12.0f\n", what, threads, s.mean_us, s.p50_us, s.p99_us, s.calls_per_s);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--calls") opt.calls = std::atoi(argv[i + 1]);
    if (a == "--io-threads") opt.io_threads = std::atoi(argv[i + 1]);
    if (a == "--busy-poll") opt.busy_poll_us = std::atoi(argv[i + 1]);
    if (a == "--threads") {
      opt.threads.clear();
      for (char* p = std::strtok(argv[i + 1], ","); p; p = std::strtok(nullptr, ",")) opt.threads.push_back(std::atoi(p));
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  char tmpl[] = "/tmp/fh-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto pki = server::make_dev_pki(dir + "/pki");
  if (!pki) {
    std::fprintf(stderr, "%s\n", pki.error().message.c_str());
    return 1;
  }
  int stop[2], out[2];
  if (::pipe(stop) != 0 || ::pipe(out) != 0) return 1;
  pid_t child = ::fork();  // before any thread exists in this process
  if (child == 0) {
    ::close(stop[1]);
    ::close(out[0]);
    ::dup2(out[1], 1);
    serve(dir, *pki, opt, stop[0]);
  }
  ::close(stop[0]);
  ::close(out[1]);
  std::string listening;
  char buf[256];
  while (std::count(listening.begin(), listening.end(), '\n') < 2) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) return 1;
    listening.append(buf, static_cast<size_t>(n));
  }
  std::string unix_ep = listening.substr(0, listening.find('\n'));
  std::string tcp_ep = listening.substr(listening.find('\n') + 1);
  tcp_ep = tcp_ep.substr(0, tcp_ep.find('\n'));

  sidecar::ConnectOptions plain;
  sidecar::ConnectOptions tls;
  tls.tls = sidecar::TlsFiles{pki->client_cert, pki->client_key, pki->ca, {}};
  if (opt.busy_poll_us >= 0) plain.busy_poll = tls.busy_poll = std::chrono::microseconds(opt.busy_poll_us);

  std::printf("null call round trip, %d calls per row, %u CPUs, server I/O threads %s, busy poll %s\n", opt.calls,
              std::thread::hardware_concurrency(), opt.io_threads ? std::to_string(opt.io_threads).c_str() : "default",
              opt.busy_poll_us >= 0 ? (std::to_string(opt.busy_poll_us) + " µs").c_str() : "default");
  std::printf("%-34s %7s %9s %9s %9s %12s\n", "path", "threads", "mean µs", "p50 µs", "p99 µs", "calls/s");
  print("floor: unix socketpair ping-pong", 1, pingpong(opt.calls));
  for (int t : opt.threads) print("unix: one shared connection", t, run(unix_ep, plain, t, true, opt.calls));
  for (int t : opt.threads)
    if (t > 1) print("unix: a connection per thread", t, run(unix_ep, plain, t, false, opt.calls));
  for (int t : opt.threads) print("tcp+mTLS: one shared connection", t, run(tcp_ep, tls, t, true, opt.calls));
  for (int t : opt.threads)
    if (t > 1) print("tcp+mTLS: a connection per thread", t, run(tcp_ep, tls, t, false, opt.calls));

  ::close(stop[1]);
  ::waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
