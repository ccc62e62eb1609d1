// What the server tests share: certificates made once per test program, server.toml
// text, an in-process server serving the test service, raw sockets for clients that
// misbehave, child processes (started and stopped by pid), and the server's log.
#pragma once

#include "server/server.h"
#include "sidecar/transport.h"
#include "test_service.h"

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server::testing {

struct ClientCert {
  std::string cert;
  std::string key;
};

// Made once per program in a temporary folder: a CA with a server certificate for
// localhost/127.0.0.1 and client certificates CN=app1, CN=app2, CN=admin (with SAN
// URI:spiffe://test/admin); CN=app1 from another CA; CN=app1 expired.
struct Pki {
  std::string dir;
  std::string ca;
  std::string server_cert;
  std::string server_key;
  ClientCert app1, app2, admin, other_ca_app1, expired_app1;
};
const Pki& test_pki();

std::string make_temp_dir();
void remove_tree(const std::string& dir);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// A server.toml: listen on `dir`/s.sock and on `tcp` (e.g. "tcp:127.0.0.1:0"), the
// test PKI, the given [[access]] blocks and extra [limits] lines, logging to `log`.
struct TomlOptions {
  std::string dir;
  std::string tcp = "tcp:127.0.0.1:0";
  std::vector<std::string> access;  // peer patterns; "!" prefix: admin = true
  std::string limits;               // lines for [limits]
  std::string log;                  // log file ("" = dir/server.log)
  std::string tls_cert, tls_key, client_ca;  // "" = the test PKI's
};
std::string server_toml(const TomlOptions& o);
std::string my_uid_rule();  // "uid:<getuid()>"
std::string other_uid_rule();  // a uid that is not ours

// A Server with the test service, in this process, logging to its own file.
class InProcessServer {
 public:
  // Fails the calling test (ADD_FAILURE) and leaves started() false when it cannot start.
  explicit InProcessServer(TomlOptions options);
  ~InProcessServer();
  bool started() const { return started_; }
  std::string unix_endpoint() const;
  std::string tcp_endpoint() const;
  std::string socket_path() const;
  Server& server() { return *server_; }
  TestCounters& counters() { return counters_; }
  const std::string& log_path() const { return log_; }
  const TomlOptions& options() const { return options_; }

 private:
  TomlOptions options_;
  std::string log_;
  TestCounters counters_;
  std::unique_ptr<TestService> service_;
  std::unique_ptr<Server> server_;
  bool started_ = false;
};

// Connect helpers.
sidecar::ConnectOptions tls_options(const ClientCert& client);
Result<std::unique_ptr<sidecar::Connection>> connect(const std::string& endpoint, const sidecar::ConnectOptions& o = {});
// One echo call with `payload`; true when the same payload comes back.
bool echo_ok(sidecar::Connection& conn, const std::string& payload = "ping");

// Waits until `predicate` holds or `limit` passes.
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds limit = std::chrono::seconds(10));
// Waits for a log line containing every one of `parts`; returns that line ("" on timeout).
std::string wait_for_log(const std::string& path, const std::vector<std::string>& parts,
                         std::chrono::milliseconds limit = std::chrono::seconds(10));

// Raw sockets for clients that misbehave.
int raw_unix(const std::string& path);
int raw_tcp(const std::string& endpoint);  // "tcp:127.0.0.1:port"
bool send_all(int fd, const std::string& bytes);
std::string frame(const google::protobuf::MessageLite& m);
// Reads until the server closes (returns what came, and sets `closed`) or the bound passes.
std::string read_until_closed(int fd, bool& closed, std::chrono::milliseconds limit = std::chrono::seconds(10));

// A child process, stopped by its pid when the object dies.
class Process {
 public:
  // argv[0] is the program's path. `fds` are dup'ed to 3, 4, … in the child; with
  // `listen_fds`, LISTEN_FDS and LISTEN_PID (the child's own pid) are set for them.
  Process(std::vector<std::string> argv, std::vector<std::string> env = {}, std::vector<int> fds = {},
          bool listen_fds = false, const std::string& stdout_file = {});
  ~Process();
  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit: its status (as from waitpid), or -1 when the bound passes.
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(20));

 private:
  pid_t pid_ = -1;
};

int open_fd_count(pid_t pid);
long resident_kb(pid_t pid);

// The test programs beside this one (their paths are compiled in).
std::string test_server_path();
std::string test_client_path();

}  // namespace ferrohsm::server::testing
