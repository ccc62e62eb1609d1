#include "pg_instance.h"

#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace ferrohsm::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kInitdbTimeout = std::chrono::seconds(120);
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(30);

// The newest Debian PostgreSQL server binaries: /usr/lib/postgresql/<version>/bin.
std::string server_bin_dir() {
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = e.path() / "bin";
    if (!fs::exists(bin / "postgres", ec) || !fs::exists(bin / "initdb", ec)) continue;
    const int v = std::atoi(e.path().filename().c_str());
    if (v > best_version) best_version = v, best = bin.string();
  }
  return best;
}

std::string tail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// In a child: output to `log`, the server's user, the folder as working directory, and
// the default signal dispositions; then exec. Never returns.
[[noreturn]] void exec_as(uid_t uid, gid_t gid, const std::string& dir, const std::string& log,
                          const std::vector<std::string>& argv) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) {
    (void)::fchown(fd, uid, gid);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
  if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) _exit(126);
  if (::chdir(dir.c_str()) != 0) _exit(126);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  _exit(127);
}

// Waits for `pid` until `deadline`; kills it when the deadline passes. Its exit status,
// or -1 when it had to be killed.
int wait_bounded(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The guardian: starts the server as its child, reports its pid, and when the control
// pipe closes stops it (fast shutdown, then SIGKILL) and removes the folder.
[[noreturn]] void guardian(int control, int report, uid_t uid, gid_t gid, const std::string& dir,
                           const std::vector<std::string>& argv) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_IGN);  // the test's end is the pipe's EOF
  auto spawn = [&]() -> pid_t {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(control);
      ::close(report);
      // Should the guardian itself be killed, the server shuts down too.
      ::prctl(PR_SET_PDEATHSIG, SIGINT);
      exec_as(uid, gid, dir, dir + "/postgres.log", argv);
    }
    return pid;
  };
  pid_t server = spawn();
  (void)!::write(report, &server, sizeof server);
  // 'd': stop the server, keeping its data (answer 0); 'u': start it again (answer its
  // pid); the pipe's end: stop it and remove everything.
  for (char b;;) {
    const ssize_t n = ::read(control, &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (b == 'd' && server > 0) {
      ::kill(server, SIGINT);
      (void)wait_bounded(server, Clock::now() + kStopTimeout);
      server = 0;
    } else if (b == 'u' && server <= 0) {
      server = spawn();
    }
    (void)!::write(report, &server, sizeof server);
  }
  ::close(report);
  if (server > 0) {
    ::kill(server, SIGINT);  // PostgreSQL's fast shutdown
    (void)wait_bounded(server, Clock::now() + kStopTimeout);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  _exit(0);
}

}  // namespace

std::string PgInstance::start() {
  const std::string bin = server_bin_dir();
  if (bin.empty())
    return "no PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin: install Debian's postgresql "
           "(scripts/install-deps.sh)";
  char templ[] = "/tmp/fh-pg-XXXXXX";  // short: a socket path must fit in 107 bytes
  if (::mkdtemp(templ) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
  dir_ = templ;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (uid == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr)
      return "running as root, and there is no postgres user to run PostgreSQL as (Debian's postgresql package "
             "creates it: scripts/install-deps.sh)";
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    user_ = "postgres";
    if (::chown(dir_.c_str(), uid, gid) != 0) return "chown " + dir_ + ": " + std::strerror(errno);
  } else {
    const passwd* pw = ::getpwuid(uid);
    user_ = pw ? pw->pw_name : "postgres";
  }
  auto fail = [&](const std::string& why) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    return why;
  };
  const std::string data = dir_ + "/data";
  pid_t initdb = ::fork();
  if (initdb == 0)
    exec_as(uid, gid, dir_, dir_ + "/initdb.log",
            {bin + "/initdb", "-D", data, "-U", user_, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"});
  if (initdb < 0) return fail(std::string("fork: ") + std::strerror(errno));
  if (int rc = wait_bounded(initdb, Clock::now() + kInitdbTimeout); rc != 0)
    return fail("initdb failed (" + std::to_string(rc) + "): " + tail(dir_ + "/initdb.log"));

  {
    // Every role logs in over the socket without a password (trust), except pw_user,
    // which a test creates to show that a password is really sent (and a wrong one fails).
    const std::string hba = data + "/pg_hba.conf";
    std::ifstream in(hba);
    std::stringstream rest;
    rest << in.rdbuf();
    std::ofstream out(hba, std::ios::trunc);
    out << "local all pw_user scram-sha-256\n" << rest.str();
    if (!out) return fail("cannot write " + hba);
  }
  int control[2], report[2];
  if (::pipe2(control, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0)
    return fail(std::string("pipe: ") + std::strerror(errno));
  const std::vector<std::string> argv = {bin + "/postgres", "-D", data, "-k", dir_, "-p", "5432",
                                         "-c", "listen_addresses=", "-c", "max_connections=200",
                                         "-c", "shared_buffers=32MB"};
  guardian_ = ::fork();
  if (guardian_ == 0) {
    ::close(control[1]);
    ::close(report[0]);
    guardian(control[0], report[1], uid, gid, dir_, argv);
  }
  ::close(control[0]);
  ::close(report[1]);
  control_fd_ = control[1];
  if (guardian_ < 0) return fail(std::string("fork: ") + std::strerror(errno));
  if (::read(report[0], &server_pid_, sizeof server_pid_) != sizeof server_pid_ || server_pid_ <= 0) server_pid_ = -1;
  report_fd_ = report[0];
  if (server_pid_ < 0) return "the guardian could not start postgres";
  return wait_ready();
}

std::string PgInstance::wait_ready() {
  const std::string info = conninfo("postgres");
  const auto deadline = Clock::now() + kReadyTimeout;
  for (;;) {
    if (PQping(info.c_str()) == PQPING_OK) return "";
    if (::kill(server_pid_, 0) != 0 || Clock::now() >= deadline) {
      const std::string log = tail(dir_ + "/postgres.log");
      stop();
      return "postgres did not become ready within " + std::to_string(kReadyTimeout.count()) + " s: " + log;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

pid_t PgInstance::ask_guardian(char request) {
  if (control_fd_ < 0 || report_fd_ < 0) return -1;
  if (::write(control_fd_, &request, 1) != 1) return -1;
  // Bounded: the guardian answers within its own stop timeout.
  pollfd p{report_fd_, POLLIN, 0};
  const int ms = static_cast<int>(std::chrono::milliseconds(kStopTimeout + std::chrono::seconds(5)).count());
  if (::poll(&p, 1, ms) != 1) return -1;
  pid_t pid = -1;
  if (::read(report_fd_, &pid, sizeof pid) != sizeof pid) return -1;
  return pid;
}

std::string PgInstance::stop_server() {
  if (ask_guardian('d') != 0) return "the guardian did not stop the server";
  server_pid_ = -1;
  return "";
}

std::string PgInstance::start_server() {
  const pid_t pid = ask_guardian('u');
  if (pid <= 0) return "the guardian did not start the server";
  server_pid_ = pid;
  return wait_ready();
}

void PgInstance::stop() {
  if (report_fd_ >= 0) ::close(report_fd_);
  report_fd_ = -1;
  if (control_fd_ < 0) return;
  ::close(control_fd_);
  control_fd_ = -1;
  if (wait_bounded(guardian_, Clock::now() + kStopTimeout + std::chrono::seconds(5)) < 0 && server_pid_ > 0)
    ::kill(server_pid_, SIGKILL);  // the guardian was stuck: the server may not outlive the test
  guardian_ = -1;
}

std::string PgInstance::conninfo(const std::string& db) const {
  return "host=" + dir_ + " port=5432 user=" + user_ + " dbname=" + db;
}

std::string PgInstance::sql(const std::string& sql) const {
  PGconn* c = PQconnectdb(conninfo("postgres").c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);  // "already exists, skipping"
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return err;
}

}  // namespace ferrohsm::testing
