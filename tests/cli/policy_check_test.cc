// `ferrohsm policy check FILE` (docs/POLICY.md): the built binary on good and bad files.
#include "run_tool.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace ferrohsm::cli::test {
namespace {

std::string PolicyWrite(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

RunResult PolicyRun(const std::vector<std::string>& args) {
  return run_program(FERROHSM_CLI_PATH, args, {{"FERROHSM_CONF", "/nonexistent/ferrohsm.toml"}}, 60);
}

TEST(PolicyCheck, AValidPolicyPassesAndNamesItsRules) {
  TempDir dir;
  std::string path = PolicyWrite(dir, "ok.toml", R"toml([store]
path = "/nonexistent/never-opened.db"

[[policy]]
name = "signing-keys"
token = "prod"
key = "svc-*"
mechanisms = ["CKM_ECDSA", "CKM_EC_KEY_PAIR_GEN"]
key_sizes = { ec = ["P-256"] }
rate = "100/s"
use = ["uid:1000"]

[[policy]]
name = "kek"
key = "kek-*"
export = []
)toml");
  RunResult r = PolicyRun({"policy", "check", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 policy rules, valid (signing-keys, kek)"), std::string::npos) << r.out;
}

TEST(PolicyCheck, EachProblemIsShownWithItsLineAndTheExitIsNonZero) {
  TempDir dir;
  std::string path = PolicyWrite(dir, "bad.toml", R"toml([[policy]]
name = "a"
mechanisms = ["CKM_ECDSA_SHA265"]
rate = "lots"

[[policy]]
name = "a"
tokne = "prod"
)toml");
  RunResult r = PolicyRun({"policy", "check", path});
  EXPECT_EQ(r.exit_code, 2);
  for (const std::string& want : {path + ": line 3: policy \"a\": mechanisms: unknown mechanism \"CKM_ECDSA_SHA265\"",
                                 path + ": line 4: policy \"a\": rate must be",
                                 path + ": line 6: policy \"a\": the name is already that of the rule on line 1",
                                 path + ": line 8: policy \"a\": unknown key \"tokne\""})
    EXPECT_NE(r.err.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << r.err;

  RunResult j = PolicyRun({"--json", "policy", "check", path});
  EXPECT_EQ(j.exit_code, 2);
  auto doc = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc["valid"], false);
  EXPECT_EQ(doc["problems"].size(), 4u) << j.out;

  RunResult syntax = PolicyRun({"policy", "check", PolicyWrite(dir, "syntax.toml", "[[policy]]\nname = \"x\n")});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_NE(syntax.err.find("line 2"), std::string::npos) << syntax.err;
  EXPECT_NE(PolicyRun({"policy", "check", dir.path() + "/missing.toml"}).exit_code, 0);
}

}  // namespace
}  // namespace ferrohsm::cli::test
