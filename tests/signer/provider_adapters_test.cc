// Instantiates the contract suite for every adapter built into this tree.
#include <openssl/rand.h>

#include "ferrohsm/signer/software_provider.h"
#include "support/provider_contract.h"
#include "support/reference.h"
#include "support/test_double_provider.h"

namespace ferrohsm::signer::testing {
namespace {

ProviderFactory software_factory() {
  auto seed = std::make_shared<std::array<std::uint8_t, 32>>();
  ProviderFactory f;
  f.name = "software";
  f.make = [seed]() -> std::unique_ptr<KeyProvider> {
    RAND_bytes(seed->data(), 32);  // a fresh custodian per test
    return std::make_unique<SoftwareProvider>(SecretBytes<32>(std::span<const std::uint8_t, 32>(*seed)));
  };
  f.expected_private_seed = [seed](const Scope& s, const KeyId& k) -> std::optional<std::array<std::uint8_t, 32>> {
    return reference_hkdf_sha512_32(*seed, s.str() + "|" + k.str());
  };
  return f;
}

ProviderFactory test_double_factory() {
  ProviderFactory f;
  f.name = "testdouble";
  f.make = [] { return std::make_unique<TestDoubleProvider>(); };
  f.import_key = [](KeyProvider& p, const Scope& s, const KeyId& k,
                    std::span<const std::uint8_t, 32> seed) -> std::optional<GeneratedKey> {
    auto r = static_cast<TestDoubleProvider&>(p).import_key(s, k, seed);
    if (!r) return std::nullopt;
    return *r;
  };
  return f;
}

INSTANTIATE_TEST_SUITE_P(Adapters, ProviderContract, ::testing::Values(software_factory(), test_double_factory()),
                         factory_name);

}  // namespace
}  // namespace ferrohsm::signer::testing
