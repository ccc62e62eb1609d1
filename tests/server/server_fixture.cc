#include "server_fixture.h"

#include "base/log.h"
#include "server/dev_pki.h"
#include "wire/frame.h"
#include "wire/protocol.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ferrohsm::server::testing {
namespace fs = std::filesystem;

std::string make_temp_dir() {
  char tmpl[] = "/tmp/fh-srv-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  if (d == nullptr) throw std::runtime_error("mkdtemp failed");
  return d;
}

void remove_tree(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

namespace {

struct PkiHolder {
  Pki pki;
  ~PkiHolder() { remove_tree(pki.dir); }
};

ClientCert issue_client(const Issued& ca, const std::string& dir, const std::string& name, CertSpec spec) {
  auto issued = issue_certificate(spec, &ca);
  if (!issued) throw std::runtime_error(issued.error().message);
  ClientCert c{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  if (!write_certificate(c.cert, issued->cert.get()) || !write_private_key(c.key, issued->key.get()))
    throw std::runtime_error("cannot write " + name);
  return c;
}

std::unique_ptr<PkiHolder> make_pki() {
  auto h = std::make_unique<PkiHolder>();
  Pki& p = h->pki;
  p.dir = make_temp_dir();
  auto ca = issue_certificate({.common_name = "test CA", .ca = true}, nullptr);
  auto other = issue_certificate({.common_name = "other CA", .ca = true}, nullptr);
  if (!ca || !other) throw std::runtime_error("cannot make the test CAs");
  p.ca = p.dir + "/ca.pem";
  if (!write_certificate(p.ca, ca->cert.get())) throw std::runtime_error("cannot write the CA");
  auto server = issue_certificate(
      {.common_name = "localhost", .dns = {"localhost"}, .ips = {"127.0.0.1"}, .server = true}, &*ca);
  if (!server) throw std::runtime_error(server.error().message);
  p.server_cert = p.dir + "/server.pem";
  p.server_key = p.dir + "/server.key";
  if (!write_certificate(p.server_cert, server->cert.get()) || !write_private_key(p.server_key, server->key.get()))
    throw std::runtime_error("cannot write the server certificate");
  p.app1 = issue_client(*ca, p.dir, "app1", {.common_name = "app1", .organization = "Test", .client = true});
  p.app2 = issue_client(*ca, p.dir, "app2", {.common_name = "app2", .client = true});
  p.admin = issue_client(*ca, p.dir, "admin",
                         {.common_name = "admin", .uris = {"spiffe://test/admin"}, .client = true});
  p.other_ca_app1 = issue_client(*other, p.dir, "other", {.common_name = "app1", .organization = "Test", .client = true});
  p.expired_app1 = issue_client(*ca, p.dir, "expired",
                                {.common_name = "app1", .organization = "Test", .client = true,
                                 .not_before_s = -3 * 86400, .not_after_s = -86400});
  return h;
}

}  // namespace

const Pki& test_pki() {
  static std::unique_ptr<PkiHolder> holder = make_pki();
  return holder->pki;
}

std::string my_uid_rule() { return "uid:" + std::to_string(::getuid()); }
std::string other_uid_rule() { return "uid:" + std::to_string(::getuid() + 4242); }

std::string server_toml(const TomlOptions& o) {
  const Pki& p = test_pki();
  std::string log = o.log.empty() ? o.dir + "/server.log" : o.log;
  std::ostringstream t;
  t << "[server]\n";
  t << "listen = [\"unix:" << o.dir << "/s.sock\"" << (o.tcp.empty() ? "" : ", \"" + o.tcp + "\"") << "]\n";
  t << "tls_cert = \"" << (o.tls_cert.empty() ? p.server_cert : o.tls_cert) << "\"\n";
  t << "tls_key = \"" << (o.tls_key.empty() ? p.server_key : o.tls_key) << "\"\n";
  t << "client_ca = \"" << (o.client_ca.empty() ? p.ca : o.client_ca) << "\"\n";
  t << "workers = 2\nblocking_workers = 2\n";
  t << "[limits]\n" << o.limits << "\n";
  for (const std::string& a : o.access) {
    bool admin = a.starts_with("!");
    t << "[[access]]\npeer = \"" << (admin ? a.substr(1) : a) << "\"\n";
    if (admin) t << "admin = true\n";
  }
  t << "[log]\nlevel = \"debug\"\ndestination = \"" << log << "\"\n";
  return t.str();
}

InProcessServer::InProcessServer(TomlOptions options) : options_(std::move(options)) {
  log_ = options_.log.empty() ? options_.dir + "/server.log" : options_.log;
  auto config = parse_server_config(server_toml(options_), "test server.toml");
  if (!config) {
    ADD_FAILURE() << config.error().message;
    return;
  }
  configure_logging(config->core.log_level, log_);
  service_ = std::make_unique<TestService>(counters_);
  server_ = std::make_unique<Server>(*config, *service_);
  Status s = server_->start();
  if (!s) {
    ADD_FAILURE() << s.error().message;
    return;
  }
  started_ = true;
}

InProcessServer::~InProcessServer() {
  if (server_) {
    EXPECT_TRUE(server_->stop());
  }
  server_.reset();
  configure_logging("warn", "stderr");
}

std::string InProcessServer::socket_path() const { return options_.dir + "/s.sock"; }
std::string InProcessServer::unix_endpoint() const { return "unix:" + socket_path(); }
std::string InProcessServer::tcp_endpoint() const {
  for (const std::string& l : server_->listening())
    if (l.starts_with("tcp:")) return l;
  return {};
}

sidecar::ConnectOptions tls_options(const ClientCert& client) {
  sidecar::ConnectOptions o;
  o.tls = sidecar::TlsFiles{client.cert, client.key, test_pki().ca, {}};
  o.connect_timeout = std::chrono::seconds(10);
  return o;
}

Result<std::unique_ptr<sidecar::Connection>> connect(const std::string& endpoint, const sidecar::ConnectOptions& o) {
  return sidecar::Connection::connect(endpoint, o);
}

bool echo_ok(sidecar::Connection& conn, const std::string& payload) {
  wire::Call c;
  c.set_function(kEcho);
  c.add_args()->set_data(payload);
  auto r = conn.call(c);
  return r.ok() && r->rv() == CKR_OK && r->args_size() == 1 && r->args(0).data() == payload && r->id() == c.id();
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string wait_for_log(const std::string& path, const std::vector<std::string>& parts,
                         std::chrono::milliseconds limit) {
  std::string found;
  eventually(
      [&] {
        std::istringstream in(read_file(path));
        for (std::string line; std::getline(in, line);) {
          bool all = true;
          for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
          if (all) {
            found = line;
            return true;
          }
        }
        return false;
      },
      limit);
  return found;
}

int raw_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int raw_tcp(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  std::string host = endpoint.substr(4, colon - 4);
  int port = std::stoi(endpoint.substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string frame(const google::protobuf::MessageLite& m) {
  std::string out;
  wire::append_frame(m, out);
  return out;
}

std::string read_until_closed(int fd, bool& closed, std::chrono::milliseconds limit) {
  std::string got;
  closed = false;
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) return got;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      return got;
    }
    got.append(buf, static_cast<size_t>(n));
  }
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env, std::vector<int> fds, bool listen_fds,
                 const std::string& stdout_file) {
  if (listen_fds) {
    std::string script = "LISTEN_PID=$$ LISTEN_FDS=" + std::to_string(fds.size()) + " exec \"$0\" \"$@\"";
    argv.insert(argv.begin(), {"/bin/sh", "-c", script});
  }
  // The given variables win over the inherited ones of the same name.
  size_t given = env.size();
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (size_t i = 0; i < given && !overridden; ++i) overridden = env[i].starts_with(name + "=");
    if (!overridden) env.push_back(entry);
  }
  // Everything the child needs is ready before fork(): it only moves descriptors and execs.
  std::vector<char*> av, ev;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  for (auto& e : env) ev.push_back(e.data());
  ev.push_back(nullptr);
  int out = stdout_file.empty() ? -1 : ::open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_ = ::fork();
  if (pid_ == 0) {
    std::vector<int> high;
    for (int fd : fds) high.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    for (size_t i = 0; i < high.size(); ++i) ::dup2(high[i], 3 + static_cast<int>(i));
    if (out >= 0) ::dup2(out, 1);
    ::execve(av[0], av.data(), ev.data());
    ::_exit(127);
  }
  if (out >= 0) ::close(out);
}

Process::~Process() {
  if (pid_ > 0 && wait(std::chrono::milliseconds(0)) == -1) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  int status = -1;
  bool done = eventually(
      [&] {
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        return r == pid_;
      },
      limit);
  if (!done) return -1;
  pid_ = -1;
  return status;
}

int open_fd_count(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

long resident_kb(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

std::string test_server_path() { return FERROHSM_TEST_SERVER; }
std::string test_client_path() { return FERROHSM_TEST_CLIENT; }

}  // namespace ferrohsm::server::testing
