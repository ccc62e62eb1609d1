// What the sidecar tests share: a real ferrohsm-server process (started, restarted and
// stopped by pid), the library's sidecar configuration, the module loaded in the test
// process, child applications (sidecar-app) with their stdout on a pipe, and the
// server's status through its own call. Certificates, temporary folders, log waits and
// /proc readings come from the server tests' fixture (tests/server/server_fixture.h).
#pragma once

#include "p11_ops.h"
#include "server_fixture.h"

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::sidecar_test {

using server::testing::ClientCert;
using server::testing::test_pki;

std::string module_path();
std::string app_path();
CK_FUNCTION_LIST_3_0* module();

struct ServerOptions {
  std::string dir;                  // server.toml, server.log and s.sock go here
  std::string name = "server";      // file names: <name>.toml, <name>.log, <name>.sock
  std::string store;                // default: dir/store.db
  std::string store_toml;           // the whole [store] section instead (e.g. backend = "postgres")
  bool tcp = true;                  // also tcp:127.0.0.1 (a free port, kept across restarts)
  std::vector<std::string> access;  // peer patterns; "!" prefix: admin = true; "|glob": tokens = ["glob"]
  std::string socket_mode;          // e.g. "0666"
  std::vector<std::string> env;     // extra environment of the server process
};

// A ferrohsm-server serving the PKCS#11 service, stopped by its pid when the object dies.
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions o);  // starts it (ADD_FAILURE when it does not serve)
  ~ServerProcess();
  bool start();  // again, on the same endpoints; true once it serves
  int stop(int sig = SIGTERM, std::chrono::milliseconds limit = std::chrono::seconds(20));  // wait status, -1 = still running
  bool running() const { return proc_ != nullptr; }
  pid_t pid() const;
  std::string unix_endpoint() const { return "unix:" + socket_; }
  const std::string& tcp_endpoint() const { return tcp_; }
  const std::string& log_path() const { return log_; }
  const std::string& config_path() const { return config_; }
  // A log line holding every part ("" after `limit`).
  std::string wait_for_log(const std::vector<std::string>& parts,
                           std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

 private:
  ServerOptions o_;
  std::string config_, log_, socket_, tcp_;
  std::unique_ptr<server::testing::Process> proc_;
};

// The library's configuration: mode = "sidecar", these endpoints, the client
// certificate for tcp: ones. Written to `path`; the library logs to `path`.log.
void write_lib_toml(const std::string& path, const std::vector<std::string>& endpoints,
                    const ClientCert* cert = nullptr);

// The module in this process, initialised with one configuration; C_Finalize at the end.
class Library {
 public:
  explicit Library(const std::string& conf);
  ~Library();
  CK_RV init_rv() const { return init_rv_; }
  CK_FUNCTION_LIST_3_0* operator->() const { return f_; }
  CK_FUNCTION_LIST_3_0* f() const { return f_; }

 private:
  CK_FUNCTION_LIST_3_0* f_;
  CK_RV init_rv_;
};

// sidecar-app (or another program) as a child process: stdout on a pipe, stdin on a pipe
// (closed by go()), killed by pid when the object dies. `prefix` runs before the program
// (e.g. setpriv …).
class App {
 public:
  App(const std::vector<std::string>& args, const std::vector<std::string>& prefix = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;
  pid_t pid() const { return pid_; }
  // The next line of its stdout, or nullopt at end of file or after `limit`.
  std::optional<std::string> line(std::chrono::milliseconds limit = std::chrono::seconds(20));
  void go();  // closes its stdin: `together` starts
  void signal(int sig);
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(20));  // wait status; -1 after `limit`

 private:
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  std::string buffered_;
};

// The server's status through its own call (an admin peer: this process's uid on unix:),
// on a connection of its own that `connections` does not count.
struct Status {
  bool ok = false;
  uint64_t connections = 0, sessions = 0;
};
Status server_status(const std::string& unix_endpoint);
// Waits (≤ `limit`) until the server has exactly these connections and sessions.
bool wait_for_status(const std::string& unix_endpoint, uint64_t connections, uint64_t sessions,
                     std::chrono::milliseconds limit = std::chrono::seconds(20));

// Each test in a temporary folder of its own.
class SidecarTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // dir_/<name>: the library's configuration for these endpoints (see write_lib_toml).
  std::string lib_conf(const std::string& name, const std::vector<std::string>& endpoints,
                       const ClientCert* cert = nullptr);
  std::string dir_;
};

}  // namespace ferrohsm::sidecar_test
