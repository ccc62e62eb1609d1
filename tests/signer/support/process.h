// Child processes for the tests: run a command to completion (bounded in time), or
// keep one running (the daemon) and stop it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ferrohsm::signer::testing {

struct RunResult {
  int exit_code = -1;  // -1: killed or timed out
  std::string out;
  std::string err;
};

// Runs argv[0] (PATH is searched) with extra environment; kills it after `timeout`.
RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                      const std::map<std::string, std::string>& env = {});

class ChildProcess {
 public:
  // Starts argv with stdout and stderr redirected to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_file);
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code (-1 if killed).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Waits for exit up to `timeout`; returns the exit code, or -2 while still running.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

}  // namespace ferrohsm::signer::testing
