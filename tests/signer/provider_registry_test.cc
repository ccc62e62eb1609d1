// Provider names, build options and the refusal to fall back.
#include <gtest/gtest.h>

#include "ferrohsm/signer/provider_registry.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {
namespace {

TEST(ProviderRegistry, KnowsEveryName) {
  std::vector<std::string> names;
  for (const auto& p : known_providers()) names.emplace_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"software", "pkcs11", "aws-kms", "gcp-kms", "azure-kv"}));
  EXPECT_EQ(find_provider("software")->availability, ProviderAvailability::kCompiled);
  EXPECT_EQ(find_provider("nope"), nullptr);
}

// A build with an option compiles its adapter (which then wants its configuration); a
// build without it refuses the name, naming the option (also shown on a real binary by
// daemon_e2e_test.cc's ferrohsm-signer-without-cloud).
TEST(ProviderRegistry, CloudProvidersFollowTheirBuildOptions) {
  struct Case {
    const char* name;
    const char* option;
    bool built;
  } cases[] = {{"aws-kms", "-DFERROHSM_SIGNER_AWS_KMS=ON", FERROHSM_SIGNER_WITH_AWS_KMS},
               {"gcp-kms", "-DFERROHSM_SIGNER_GCP_KMS=ON", FERROHSM_SIGNER_WITH_GCP_KMS},
               {"azure-kv", "-DFERROHSM_SIGNER_AZURE_KV=ON", FERROHSM_SIGNER_WITH_AZURE_KV}};
  for (const auto& c : cases) {
    ProviderSettings unconfigured;
    auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    unconfigured.aws_kms.env = unconfigured.gcp_kms.env = unconfigured.azure_kv.env = no_env;
    auto p = make_provider(c.name, unconfigured);
    ASSERT_FALSE(p) << c.name;
    if (c.built) {
      EXPECT_EQ(find_provider(c.name)->availability, ProviderAvailability::kCompiled) << c.name;
      EXPECT_EQ(p.error().kind, ErrorKind::kInvalidArgument) << p.error().message;  // its settings are missing
      continue;
    }
    ASSERT_FALSE(p) << c.name;
    EXPECT_EQ(p.error().kind, ErrorKind::kNotBuilt);
    EXPECT_NE(p.error().message.find(c.option), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find("no fall-back"), std::string::npos);
    EXPECT_NE(describe_providers().find(c.option), std::string::npos);
  }
}

TEST(ProviderRegistry, UnknownNameListsTheKnownOnes) {
  auto p = make_provider("hsm9000", ProviderSettings{});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(p.error().message.find("software, pkcs11, aws-kms, gcp-kms, azure-kv"), std::string::npos);
}

TEST(ProviderRegistry, SoftwareNeedsItsSeedFile) {
  TempDir dir;
  ProviderSettings settings;
  settings.software_seed_file = dir.file("absent");
  auto missing = make_provider("software", settings);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("seed file"), std::string::npos);
  std::vector<std::uint8_t> seed(32, 7);
  write_file(dir.file("seed"), seed);
  settings.software_seed_file = dir.file("seed");
  auto p = make_provider("software", settings);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)->name(), "software");
  EXPECT_TRUE((*p)->dev_only());
}

}  // namespace
}  // namespace ferrohsm::signer::testing
