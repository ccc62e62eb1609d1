#include "server/peer.h"

#include <fnmatch.h>

namespace ferrohsm::server {

bool Grant::sees(const std::string& token_label) const {
  for (const std::string& pattern : tokens)
    if (fnmatch(pattern.c_str(), token_label.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace ferrohsm::server
