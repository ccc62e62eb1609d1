// [[bridge]] in ferrohsm.toml: what the configuration loader takes and what it refuses.
#include "core/config.h"

#include <gtest/gtest.h>

namespace ferrohsm {
namespace {

TEST(BridgeConfig, EntriesAreReadInFileOrder) {
  auto c = parse_config(
      "[[bridge]]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken = \"there\"\n\n"
      "[[bridge]]\nmodule = \"/opt/vendor/libp11.so\"\n",
      "test");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->bridges.size(), 2u);
  EXPECT_EQ(c->bridges[0].module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(c->bridges[0].selector.label, "there");
  EXPECT_FALSE(c->bridges[0].selector.serial.has_value());
  EXPECT_EQ(c->bridges[1].module, "/opt/vendor/libp11.so");
  EXPECT_TRUE(c->bridges[1].selector.empty());
  EXPECT_TRUE(c->bridges[1].mechanisms.empty());
}

TEST(BridgeConfig, NoEntryNoBridge) {
  auto c = parse_config("[log]\nlevel = \"warn\"\n", "test");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->bridges.empty());
}

TEST(BridgeConfig, ASerialSelectsByTheTokensSerialNumber) {
  auto c = parse_config("[[bridge]]\nmodule = \"/m.so\"\nserial = \"4f2a9c1b0d3e5a77\"\n", "test");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const TokenSelector& s = c->bridges[0].selector;
  EXPECT_EQ(s.serial, "4f2a9c1b0d3e5a77");
  EXPECT_FALSE(s.label.has_value());
}

TEST(BridgeConfig, AUriSelectsByItsTokenAttributesPercentDecoded) {
  auto c = parse_config(
      "[[bridge]]\nmodule = \"/m.so\"\n"
      "uri = \"pkcs11:token=prod%20keys;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=0a1b\"\n",
      "test");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const TokenSelector& s = c->bridges[0].selector;
  EXPECT_EQ(s.label, "prod keys");
  EXPECT_EQ(s.manufacturer, "SoftHSM project");
  EXPECT_EQ(s.model, "SoftHSM v2");
  EXPECT_EQ(s.serial, "0a1b");
}

TEST(BridgeConfig, MechanismsAreNamesOrNumbers) {
  auto c = parse_config(
      "[[bridge]]\nmodule = \"/m.so\"\nmechanisms = [\"CKM_ECDSA\", \"CKM_EC_KEY_PAIR_GEN\", \"sha256\", 0x80000001]\n",
      "test");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->bridges[0].mechanisms,
            (std::set<unsigned long>{CKM_ECDSA, CKM_EC_KEY_PAIR_GEN, CKM_SHA256, 0x80000001UL}));
}

TEST(BridgeConfig, MistakesAreRefused) {
  for (const char* text : {
           "[[bridge]]\ntoken = \"there\"\n",                          // no module
           "[[bridge]]\nmodule = \"\"\n",                              // an empty module
           "[[bridge]]\nmodule = 7\n",                                 // not a string
           "[[bridge]]\nmodule = \"/m.so\"\ntoken = 1\n",              // not a string
           "[[bridge]]\nmodule = \"/m.so\"\nslot = 0\n",               // an unknown key
           "[bridge]\nmodule = \"/m.so\"\n",                           // a table, not an array of tables
           "bridge = [\"/m.so\"]\n",                                   // an array of strings
       }) {
    auto c = parse_config(text, "test");
    EXPECT_FALSE(c.ok()) << text;
    if (!c.ok()) {
      EXPECT_NE(c.error().message.find("bridge"), std::string::npos) << c.error().message;
    }
  }
}

// Every refusal names the entry (its place and module) and what is wrong with it.
TEST(BridgeConfig, SelectorAndMechanismMistakesNameTheEntry) {
  const std::pair<const char*, const char*> cases[] = {
      {"token = \"a\"\nserial = \"1\"", "give one of them"},
      {"token = \"a\"\nuri = \"pkcs11:token=a\"", "give one of them"},
      {"serial = \"1\"\nuri = \"pkcs11:serial=1\"", "give one of them"},
      {"token = \"\"", "token is empty"},
      {"token = \"123456789012345678901234567890123\"", "at most 32"},
      {"serial = \"12345678901234567\"", "at most 16"},
      {"serial = 1234", "serial must be a string"},
      {"uri = \"pkcs11:token=a;object=key\"", "'object'"},
      {"uri = \"pkcs11:token=a;slot-id=1\"", "'slot-id'"},
      {"uri = \"pkcs11:token=a;library-description=x\"", "'library-description'"},
      {"uri = \"pkcs11:token=a?module-path=/x.so\"", "'module-path'"},
      {"uri = \"pkcs11:token=a%2\"", "escape"},
      {"uri = \"pkcs11:\"", "names no token attribute"},
      {"uri = \"pkcs11:label=a\"", "unknown attribute 'label'"},
      {"uri = \"token=a\"", "pkcs11:"},
      {"mechanisms = [\"CKM_NO_SUCH_THING\"]", "unknown mechanism \"CKM_NO_SUCH_THING\""},
      {"mechanisms = []", "non-empty"},
      {"mechanisms = \"CKM_ECDSA\"", "non-empty list"},
      {"mechanisms = [1.5]", "names (\"CKM_ECDSA\") or numbers"},
      {"mechanisms = [-1]", "names (\"CKM_ECDSA\") or numbers"},
  };
  for (const auto& [keys, why] : cases) {
    std::string text = "[[bridge]]\nmodule = \"/ok.so\"\n\n[[bridge]]\nmodule = \"/m.so\"\n" + std::string(keys) + "\n";
    auto c = parse_config(text, "test");
    ASSERT_FALSE(c.ok()) << keys;
    EXPECT_NE(c.error().message.find("[[bridge]] #2 (module /m.so)"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find(why), std::string::npos) << keys << ": " << c.error().message;
  }
}

TEST(BridgeConfig, APinInTheUriIsRefusedWithoutBeingRepeated) {
  auto c = parse_config("[[bridge]]\nmodule = \"/m.so\"\nuri = \"pkcs11:token=a?pin-value=s3cr3t\"\n", "test");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("PIN"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find("s3cr3t"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace ferrohsm
