// Runs the built `ferrohsm` binary for the end-to-end tests: in a new session (no
// controlling terminal, so a missing PIN can never hang on a prompt), stdin from
// /dev/null, with extra environment variables, bounded in time.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ferrohsm::cli::test {

struct RunResult {
  int exit_code = -1;  // -1: killed (timeout or signal)
  std::string out;
  std::string err;
};

// `env` entries replace inherited ones; an empty value removes the variable.
RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env, int timeout_seconds = 120);

// Runs the program on a new pseudo-terminal (its controlling terminal) and answers
// each prompt in turn: waits until the output contains `prompt`, then types
// `answer`. `out` holds everything the terminal showed.
struct Exchange {
  std::string prompt;
  std::string answer;
};
RunResult run_on_terminal(const std::string& path, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const std::vector<Exchange>& script,
                          int timeout_seconds = 60);

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace ferrohsm::cli::test
