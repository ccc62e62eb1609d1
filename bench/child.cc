#include "child.h"

#include <unistd.h>

namespace p11bench {

pid_t spawn_self(const std::string& self, const std::vector<std::string>& args,
                 const std::vector<std::pair<int, int>>& fds) {
  std::vector<std::string> v = {self};
  v.insert(v.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : v) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [from, to] : fds)
      if (dup2(from, to) < 0) _exit(127);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace p11bench
