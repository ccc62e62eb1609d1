// Small pieces every cloud adapter shares: the process environment and resource-name escaping.
#include <cstdlib>

#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/settings.h"

namespace ferrohsm::signer {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

namespace cloud {
std::string escape_name_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '_') out += "_5f";
    else if (c == '.') out += "_2e";
    else out.push_back(c);
  }
  return out;
}
}  // namespace cloud

}  // namespace ferrohsm::signer
