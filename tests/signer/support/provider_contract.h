// The KeyProvider contract suite, shared by every adapter. An adapter's test file
// instantiates it with INSTANTIATE_TEST_SUITE_P(<Adapter>, ProviderContract, Values(factory)).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>

#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer::testing {

struct ProviderFactory {
  std::string name;
  // A fresh provider over a fresh custodian (new seed, new token …).
  std::function<std::unique_ptr<KeyProvider>()> make;
  // When the adapter's private key for (scope, key_id) is knowable from outside
  // (software: HKDF of the seed), the expected Ed25519 private seed.
  std::function<std::optional<std::array<std::uint8_t, 32>>(const Scope&, const KeyId&)> expected_private_seed;
  // When the adapter can hold a given private key (test double), loads it and returns its handle.
  std::function<std::optional<GeneratedKey>(KeyProvider&, const Scope&, const KeyId&,
                                            std::span<const std::uint8_t, 32>)>
      import_key;
};

// gtest prints the factory by its name instead of its bytes.
inline void PrintTo(const ProviderFactory& f, std::ostream* os) { *os << f.name; }

class ProviderContract : public ::testing::TestWithParam<ProviderFactory> {
 protected:
  void SetUp() override {
    provider_ = GetParam().make();
    if (!provider_) GTEST_SKIP() << GetParam().name << ": no provider (its custodian is not available here)";
  }
  KeyProvider& provider() { return *provider_; }
  std::unique_ptr<KeyProvider> provider_;
};

inline std::string factory_name(const ::testing::TestParamInfo<ProviderFactory>& info) { return info.param.name; }

}  // namespace ferrohsm::signer::testing
