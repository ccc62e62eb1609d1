// Fresh processes of this benchmark: the login, memory and multi-process suites run
// this executable again (a new process loads the module anew, as a second application
// would), with some of the parent's pipe ends at fixed descriptors.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace p11bench {

// fork + execv of `self` with `args`; in the child each (from, to) pair of `fds` is
// dup2'ed (to 1 for stdout; a dup2'ed descriptor survives exec). Everything is
// prepared before the fork, so the child only calls dup2 and execv. -1 on failure.
pid_t spawn_self(const std::string& self, const std::vector<std::string>& args,
                 const std::vector<std::pair<int, int>>& fds);

}  // namespace p11bench
