// A private PostgreSQL server for one test binary: Debian's own binaries
// (/usr/lib/postgresql/<version>/bin, the newest installed), a cluster made by initdb in a
// temporary folder, listening only on a Unix socket in that folder (no TCP port, so
// parallel test binaries never collide), every role trusted on that socket except
// `pw_user` (a test may create it: it must give its password, scram-sha-256), run as
// the `postgres` user when the test runs
// as root (PostgreSQL refuses root; the Debian package creates that user). The Debian
// cluster service is not used.
//
// Stopping is a guardian process's job: it is the server's parent and waits on a pipe
// from the test; when the pipe closes — stop(), or the test process ending any way at all
// (a failed assertion, an abort, SIGKILL) — it sends the server SIGINT (a fast
// shutdown), waits a bounded time, SIGKILLs it if needed, and removes the folder. A test
// may also ask it, over the same pipe, to stop the server and to start it again on the
// same data (a database outage that the code under test must survive); it answers each
// request with the server's pid on its report pipe.
#pragma once

#include <sys/types.h>

#include <string>

namespace ferrohsm::testing {

class PgInstance {
 public:
  // Starts the server; "" on success, else what went wrong (with the server's log tail).
  std::string start();
  // Stops it and waits (bounded) until the guardian has removed the folder.
  void stop();
  // An outage: the guardian stops the server (fast shutdown: sessions are cut), keeping
  // its data; start_server() starts it again and waits until it accepts connections.
  // "" on success, else what went wrong.
  std::string stop_server();
  std::string start_server();
  ~PgInstance() { stop(); }

  // A libpq connection string for database `db` on this server, as its superuser.
  std::string conninfo(const std::string& db) const;
  // Runs `sql` as the superuser on database "postgres"; "" on success, else the error.
  std::string sql(const std::string& sql) const;
  const std::string& dir() const { return dir_; }
  pid_t server_pid() const { return server_pid_; }

 private:
  std::string dir_;
  std::string user_;  // the role initdb made: the user the server runs as
  pid_t guardian_ = -1;
  pid_t server_pid_ = -1;
  int control_fd_ = -1;  // its closing tells the guardian to stop the server
  int report_fd_ = -1;   // the guardian's answers (the server's pid, 0 when stopped)
  // Sends `request` to the guardian and reads its answer (bounded); -1 on failure.
  pid_t ask_guardian(char request);
  std::string wait_ready();
};

}  // namespace ferrohsm::testing
