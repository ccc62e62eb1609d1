// Harness 3: the configuration parser (core/config.cc) over arbitrary text. What it
// accepts must lie within the documented ranges (README "Configuration").
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/config.h"

namespace {

void require(bool ok, const char* what, const std::string& detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz harness: parse_config %s %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto c = ferrohsm::parse_config(text, "fuzz.toml");
  if (!c.ok()) {
    const std::string& why = c.error().message;
    require(c.error().rv == CKR_GENERAL_ERROR && !why.empty() && why.find('\n') == std::string::npos,
            "refused a configuration with an error that is not one line:", why);
    return 0;
  }
  require(!c->store_path.empty(), "accepted an empty store.path");
  require(!c->log_destination.empty(), "accepted an empty log.destination");
  require(c->pin_min_length >= 1 && c->pin_min_length <= 255, "accepted pin.min_length out of range");
  require(c->pin_max_length >= 1 && c->pin_max_length <= 1024, "accepted pin.max_length out of range");
  require(c->pin_min_length <= c->pin_max_length, "accepted pin.min_length above pin.max_length");
  require(c->max_failed_logins >= 1 && c->max_failed_logins <= 1000, "accepted pin.max_failed_logins out of range");
  require(c->kdf_iterations >= 1 && c->kdf_iterations <= 100'000'000, "accepted pin.kdf_iterations out of range");
  require(c->kdf_iterations >= ferrohsm::kMinKdfIterations || c->dev_allow_weak_kdf,
          "accepted a weak kdf_iterations without dev.allow_weak_kdf");
  return 0;
}
