#include "run_tool.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace ferrohsm::cli::test {

namespace {

struct Prepared {
  std::vector<std::string> strings;
  std::vector<char*> envp, argv;
};

void prepare(Prepared& p, const std::string& path, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env) {
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (env.count(kv.substr(0, kv.find('='))) == 0) p.strings.push_back(kv);
  }
  for (const auto& [k, v] : env)
    if (!v.empty()) p.strings.push_back(k + "=" + v);
  size_t n_env = p.strings.size();
  p.strings.push_back(path);
  p.strings.insert(p.strings.end(), args.begin(), args.end());
  for (size_t i = 0; i < p.strings.size(); ++i) (i < n_env ? p.envp : p.argv).push_back(p.strings[i].data());
  p.envp.push_back(nullptr);
  p.argv.push_back(nullptr);
}

}  // namespace

RunResult run_on_terminal(const std::string& path, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const std::vector<Exchange>& script,
                          int timeout_seconds) {
  Prepared p;
  prepare(p, path, args, env);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty");
  if (pid == 0) {
    ::execve(path.c_str(), p.argv.data(), p.envp.data());
    ::_exit(127);
  }
  RunResult r;
  size_t step = 0, seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  for (;;) {
    if (step < script.size() && r.out.find(script[step].prompt, seen) != std::string::npos) {
      seen = r.out.find(script[step].prompt, seen) + script[step].prompt.size();
      const std::string& a = script[step].answer;
      if (::write(master, a.data(), a.size()) != static_cast<ssize_t>(a.size())) break;
      ++step;
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fd{master, POLLIN, 0};
    int n = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[1024];
    ssize_t got = ::read(master, buf, sizeof buf);
    if (got <= 0) break;  // EIO once the child has closed the terminal
    r.out.append(buf, static_cast<size_t>(got));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = (!timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env, int timeout_seconds) {
  Prepared p;  // everything the child needs is built before fork
  prepare(p, path, args, env);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execve(path.c_str(), p.argv.data(), p.envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = (!timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ferrohsm-cli-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

}  // namespace ferrohsm::cli::test
