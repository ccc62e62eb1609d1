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
  EXPECT_EQ(c->bridges[0].token, "there");
  EXPECT_EQ(c->bridges[1].module, "/opt/vendor/libp11.so");
  EXPECT_EQ(c->bridges[1].token, "");
}

TEST(BridgeConfig, NoEntryNoBridge) {
  auto c = parse_config("[log]\nlevel = \"warn\"\n", "test");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->bridges.empty());
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

}  // namespace
}  // namespace ferrohsm
