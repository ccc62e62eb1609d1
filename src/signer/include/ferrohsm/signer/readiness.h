// The /readyz probe: signs a fixed digest through the provider with a probe key and
// checks the signature against the probe key's public key.
//
// The probe key lives in the reserved scope "ferrohsm-readyz" (the API refuses every
// scope starting with "ferrohsm-"), key id "probe"; it is generated on first use.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer {

inline constexpr std::string_view kReservedScopePrefix = "ferrohsm-";

class ReadinessProbe {
 public:
  explicit ReadinessProbe(KeyProvider& provider) : provider_(provider) {}
  Status check(const Context& ctx);

 private:
  KeyProvider& provider_;
  std::mutex mu_;
  std::optional<GeneratedKey> probe_;
};

}  // namespace ferrohsm::signer
