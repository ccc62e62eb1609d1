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

TEST(ProviderRegistry, CloudProvidersWithoutTheirOptionNameTheOption) {
  struct Case {
    const char* name;
    const char* option;
  } cases[] = {{"aws-kms", "-DFERROHSM_SIGNER_AWS_KMS=ON"},
               {"gcp-kms", "-DFERROHSM_SIGNER_GCP_KMS=ON"},
               {"azure-kv", "-DFERROHSM_SIGNER_AZURE_KV=ON"}};
  for (const auto& c : cases) {
    if (find_provider(c.name)->availability == ProviderAvailability::kCompiled) continue;
    auto p = make_provider(c.name, ProviderSettings{});
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
