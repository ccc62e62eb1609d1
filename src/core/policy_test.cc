// The [[policy]] model: parsing with line numbers, globs, rates, and what check_rules
// answers for each rule (the C-ABI side is tests/abi/policy_rules_test.cc).
#include "core/config.h"
#include "core/policy.h"
#include "core/policy_config.h"
#include "core/policy_state.h"

#include <gtest/gtest.h>

#include <thread>

namespace ferrohsm {
namespace {

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(PolicyRate, ReadsCountAndUnit) {
  auto r = parse_policy_rate("100/s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->count, 100u);
  EXPECT_EQ(r->period_ms, 1000u);
  EXPECT_EQ(parse_policy_rate("5/m")->period_ms, 60'000u);
  EXPECT_EQ(parse_policy_rate("2/h")->period_ms, 3'600'000u);
  EXPECT_EQ(parse_policy_rate("1/d")->period_ms, 86'400'000u);
  for (const char* bad : {"", "100", "/s", "0/s", "-1/s", "1.5/s", "10/x", "10/ss", "10 /s", "99999999999/s"})
    EXPECT_FALSE(parse_policy_rate(bad)) << bad;
}

TEST(PolicyGlob, MatchesAndFindsBadPatterns) {
  EXPECT_TRUE(policy_glob_match("svc-*", "svc-api"));
  EXPECT_FALSE(policy_glob_match("svc-*", "app-api"));
  EXPECT_TRUE(policy_glob_match("*", ""));
  EXPECT_TRUE(policy_glob_match("key-[0-9]", "key-7"));
  EXPECT_EQ(policy_glob_problem("svc-*"), "");
  EXPECT_EQ(policy_glob_problem("[]x]"), "");
  EXPECT_NE(policy_glob_problem("svc-[a"), "");
  EXPECT_NE(policy_glob_problem("trailing\\"), "");
  EXPECT_NE(policy_glob_problem(""), "");
}

TEST(PolicyRuleOf, ReadsTheRuleBackFromARefusal) {
  PolicyRefusal r{CKR_MECHANISM_INVALID, "signing-keys", "CKM_RSA_PKCS is not allowed for this key"};
  Error e = r.error();
  EXPECT_EQ(e.rv, CKR_MECHANISM_INVALID);
  EXPECT_EQ(e.message, "policy \"signing-keys\": CKM_RSA_PKCS is not allowed for this key");
  EXPECT_EQ(policy_rule_of(e), "signing-keys");
  EXPECT_FALSE(policy_rule_of(make_error(CKR_MECHANISM_INVALID, "mechanism not supported")));
}

constexpr const char* kGood = R"toml(
[[policy]]
name = "signing-keys"
token = "prod"
key = "svc-*"
mechanisms = ["CKM_ECDSA", "CKM_RSA_PKCS_PSS", 0x1041]
key_sizes = { rsa = [2048, 4096], ec = ["P-256", "secp384r1"], aes = [256] }
enforce_dates = true
max_uses = 100000
rate = "100/s"
use = ["uid:1000", "cert:CN=app1"]
export = []
wrap = ["uid:0"]
destroy = ["uid:0"]

[[policy]]
name = "everything-else"
)toml";

TEST(PolicyConfig, ReadsEveryField) {
  auto c = parse_config(kGood, "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->policy.rules.size(), 2u);
  const PolicyRule& r = c->policy.rules[0];
  EXPECT_EQ(r.name, "signing-keys");
  EXPECT_EQ(r.line, 2);
  EXPECT_EQ(r.token, "prod");
  EXPECT_EQ(r.key, "svc-*");
  EXPECT_EQ(*r.mechanisms, (std::set<CK_MECHANISM_TYPE>{CKM_ECDSA, CKM_RSA_PKCS_PSS, 0x1041}));
  EXPECT_EQ(*r.rsa_bits, (std::set<CK_ULONG>{2048, 4096}));
  EXPECT_EQ(*r.ec_curves, (std::set<std::string>{"P-256", "P-384"})) << "curve names are made canonical";
  EXPECT_EQ(*r.aes_bits, (std::set<CK_ULONG>{256}));
  EXPECT_TRUE(r.enforce_dates);
  EXPECT_EQ(r.max_uses, 100000u);
  EXPECT_EQ(r.rate->count, 100u);
  EXPECT_EQ(*r.use, (std::vector<std::string>{"uid:1000", "cert:CN=app1"}));
  EXPECT_TRUE(r.export_ && r.export_->empty()) << "[] allows no one";
  EXPECT_EQ(*r.wrap, std::vector<std::string>{"uid:0"});
  const PolicyRule& d = c->policy.rules[1];
  EXPECT_EQ(d.token, "*");
  EXPECT_EQ(d.key, "*");
  EXPECT_FALSE(d.mechanisms || d.use || d.has_key_sizes() || d.rate);
  EXPECT_EQ(d.max_uses, 0u);
}

TEST(PolicyConfig, EveryProblemIsNamedWithItsLine) {
  const std::string text = R"toml([[policy]]
name = "a"
mechanisms = ["CKM_NOPE"]
key = "svc-[x"
rate = "fast"
colour = "red"
key_sizes = { rsa = [100], ec = ["P-999"], dsa = [1024], aes = [100] }
use = ["root"]
max_uses = 0

[[policy]]
token = "x"
)toml";
  std::vector<std::string> problems = check_policy_text(text, "bad.toml");
  const std::string all = Joined(problems);
  for (const char* want : {"line 3: policy \"a\": mechanisms: unknown mechanism \"CKM_NOPE\"",
                           "line 4: policy \"a\": key \"svc-[x\" has a '[' that is never closed",
                           "line 5: policy \"a\": rate must be",
                           "line 6: policy \"a\": unknown key \"colour\"",
                           "line 7: policy \"a\": key_sizes.rsa holds integers",
                           "line 7: policy \"a\": key_sizes.ec: \"P-999\" is no curve",
                           "line 7: policy \"a\": key_sizes: unknown key type \"dsa\"",
                           "line 8: policy \"a\": use: \"root\" is no identity",
                           "line 9: policy \"a\": max_uses must be a positive integer",
                           "line 11: [[policy]]: needs name"})
    EXPECT_NE(all.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << all;
  // The loader refuses the file with the first of them.
  auto c = parse_config(text, "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("line 3"), std::string::npos) << c.error().message;
}

TEST(PolicyConfig, SyntaxErrorsAndConflictsAreFound) {
  EXPECT_NE(Joined(check_policy_text("[[policy]]\nname = \"a\nx", "s.toml")).find("line 2"), std::string::npos);
  const std::string text = R"toml([[policy]]
name = "ec-only"
mechanisms = ["CKM_ECDSA"]

[[policy]]
name = "rsa-svc"
key = "svc-*"
mechanisms = ["CKM_RSA_PKCS"]

[[policy]]
name = "ec-only"
token = "other"
)toml";
  const std::string all = Joined(check_policy_text(text, "c.toml"));
  EXPECT_NE(all.find("line 5: policy \"rsa-svc\" conflicts with policy \"ec-only\" (line 1)"), std::string::npos) << all;
  EXPECT_NE(all.find("line 10: policy \"ec-only\": the name is already that of the rule on line 1"), std::string::npos)
      << all;
  EXPECT_TRUE(check_policy_text(kGood, "good.toml").empty()) << Joined(check_policy_text(kGood, "good.toml"));
}

// check_rules on hand-made facts: each refusal's code and rule.
class CheckRules : public testing::Test {
 protected:
  void SetUp() override {
    rule_.name = "r";
    key_.token = "prod";
    key_.label = "svc-a";
    key_.cls = CKO_PRIVATE_KEY;
    key_.key_type = CKK_RSA;
    key_.bits = 2048;
  }
  std::optional<PolicyRefusal> Check(KeyAction a, CK_MECHANISM_TYPE m = CKM_RSA_PKCS_PSS,
                                     const std::string& who = "uid:1000", const std::string& today = "20260101") {
    return check_rules({&rule_}, key_, a, who, true, m, today);
  }
  PolicyRule rule_;
  KeyFacts key_;
};

TEST_F(CheckRules, AnEmptyRuleAllowsEverything) { EXPECT_FALSE(Check(KeyAction::Use)); }

TEST_F(CheckRules, Mechanisms) {
  rule_.mechanisms = std::set<CK_MECHANISM_TYPE>{CKM_RSA_PKCS_PSS};
  EXPECT_FALSE(Check(KeyAction::Use));
  auto r = Check(KeyAction::Use, CKM_RSA_PKCS);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rv, CKR_MECHANISM_INVALID);
  EXPECT_EQ(r->rule, "r");
  EXPECT_FALSE(check_rules({&rule_}, key_, KeyAction::Destroy, "uid:1", false, 0, "")) << "no mechanism, no test";
}

TEST_F(CheckRules, KeySizes) {
  rule_.rsa_bits = std::set<CK_ULONG>{3072, 4096};
  auto r = Check(KeyAction::Use);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rv, CKR_KEY_SIZE_RANGE);
  key_.bits = 4096;
  EXPECT_FALSE(Check(KeyAction::Use));
  rule_.ec_curves = std::set<std::string>{"P-384"};
  key_.key_type = CKK_EC;
  key_.curve = "P-256";
  EXPECT_EQ(Check(KeyAction::Use, CKM_ECDSA)->rv, CKR_KEY_SIZE_RANGE);
  key_.curve = "P-384";
  EXPECT_FALSE(Check(KeyAction::Use, CKM_ECDSA));
}

TEST_F(CheckRules, Identities) {
  rule_.use = std::vector<std::string>{"uid:1000", "cert:CN=app*"};
  rule_.destroy = std::vector<std::string>{};
  EXPECT_FALSE(Check(KeyAction::Use));
  EXPECT_FALSE(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "cert:CN=app7"));
  auto r = Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1001");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rv, CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_NE(r->why.find("uid:1001 may not use"), std::string::npos) << r->why;
  EXPECT_EQ(Check(KeyAction::Destroy)->rv, CKR_KEY_FUNCTION_NOT_PERMITTED) << "[] is no one";
  EXPECT_FALSE(Check(KeyAction::Export)) << "an unset list is anyone";
}

TEST_F(CheckRules, ValidityWindow) {
  key_.start_date = "20260201";
  key_.end_date = "20261231";
  EXPECT_FALSE(Check(KeyAction::Use)) << "dates are not enforced unless the rule says so";
  rule_.enforce_dates = true;
  EXPECT_EQ(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1000", "20260131")->rv, CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_FALSE(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1000", "20260201"));
  EXPECT_FALSE(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1000", "20261231"));
  EXPECT_EQ(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1000", "20270101")->rv, CKR_KEY_FUNCTION_NOT_PERMITTED);
  key_.dates_unknown = true;  // a bridged library that will not tell: refused, not waved through
  EXPECT_EQ(Check(KeyAction::Use, CKM_RSA_PKCS_PSS, "uid:1000", "20260601")->rv, CKR_KEY_FUNCTION_NOT_PERMITTED);
}

TEST(PolicyMatching, TokenAndKeyGlobsPickTheRules) {
  Policy p;
  p.rules.resize(3);
  p.rules[0].name = "all";
  p.rules[1].name = "prod-svc";
  p.rules[1].token = "prod";
  p.rules[1].key = "svc-*";
  p.rules[2].name = "dev";
  p.rules[2].token = "dev*";
  auto m = matching_rules(p, "prod", "svc-x");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1]->name, "prod-svc");
  EXPECT_EQ(matching_rules(p, "prod", "app").size(), 1u);
  EXPECT_EQ(matching_rules(p, "dev-2", "app").size(), 2u);
}

TEST(PolicyState, RateIsATokenBucketPerIdentityAndKey) {
  PolicyState s(Policy{});
  EXPECT_FALSE(s.active());
  const PolicyRate rate{3, 60'000};  // 3 per minute: no refill within the test
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.take_rate("r", "uid:1", "k", rate)) << i;
  EXPECT_FALSE(s.take_rate("r", "uid:1", "k", rate));
  EXPECT_TRUE(s.take_rate("r", "uid:2", "k", rate)) << "another identity has its own bucket";
  EXPECT_TRUE(s.take_rate("r", "uid:1", "k2", rate)) << "another key has its own bucket";
  const PolicyRate fast{2, 50};  // refills one every 25 ms
  EXPECT_TRUE(s.take_rate("f", "uid:1", "k", fast));
  EXPECT_TRUE(s.take_rate("f", "uid:1", "k", fast));
  EXPECT_FALSE(s.take_rate("f", "uid:1", "k", fast));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_TRUE(s.take_rate("f", "uid:1", "k", fast)) << "the bucket refills with time";
  Policy one;
  one.rules.emplace_back();
  s.set(one);
  EXPECT_TRUE(s.active());
  EXPECT_TRUE(s.take_rate("r", "uid:1", "k", rate)) << "a reload starts the rates afresh";
}

}  // namespace
}  // namespace ferrohsm
