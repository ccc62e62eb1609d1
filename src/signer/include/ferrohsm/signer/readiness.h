// The /readyz probe: signs a fixed digest through the provider with a probe key and
// checks the signature against the probe key's public key.
//
// With replicas on a shared state database, the probe first asks whether the key states
// are confirmed (the sign guard's own question): a replica that lost the database, and
// so refuses to sign, is not ready either.
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

class RotationService;

class ReadinessProbe {
 public:
  explicit ReadinessProbe(KeyProvider& provider, const RotationService* service = nullptr)
      : provider_(provider), service_(service) {}
  Status check(const Context& ctx);

 private:
  KeyProvider& provider_;
  const RotationService* service_;
  std::mutex mu_;
  std::optional<GeneratedKey> probe_;
};

}  // namespace ferrohsm::signer
