#include "server/access.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ferrohsm::server {
namespace {

Peer unix_peer(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
  Peer p;
  p.uid = uid;
  p.gid = gid;
  p.groups = std::move(groups);
  p.identity = "uid:" + std::to_string(uid);
  return p;
}

Peer cert_peer(std::string subject, std::vector<std::string> sans = {}) {
  Peer p;
  p.cert_subject = std::move(subject);
  p.cert_sans = std::move(sans);
  p.identity = "cert:" + p.cert_subject;
  return p;
}

AccessRule rule(const std::string& peer) {
  auto r = parse_peer_pattern(peer);
  EXPECT_TRUE(r.ok()) << peer << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : AccessRule{};
}

TEST(Access, UidAndGidRules) {
  EXPECT_TRUE(rule("uid:1000").matches(unix_peer(1000, 100)));
  EXPECT_FALSE(rule("uid:1000").matches(unix_peer(1001, 100)));
  EXPECT_TRUE(rule("gid:100").matches(unix_peer(1001, 100)));
  EXPECT_TRUE(rule("gid:27").matches(unix_peer(1001, 100, {27, 100})));  // a supplementary group
  EXPECT_FALSE(rule("gid:27").matches(unix_peer(1001, 100, {100})));
  // A certificate peer has no uid.
  EXPECT_FALSE(rule("uid:0").matches(cert_peer("CN=root")));
  // Names are looked up when the rule is read.
  EXPECT_EQ(rule("uid:root").id, 0u);
  EXPECT_FALSE(parse_peer_pattern("uid:no-such-user-in-this-test").ok());
  EXPECT_FALSE(parse_peer_pattern("gid:no-such-group-in-this-test").ok());
}

TEST(Access, CertificateSubjectRulesNeedEveryAttribute) {
  Peer p = cert_peer("CN=app1,OU=Payments,O=Example");
  EXPECT_TRUE(rule("cert:CN=app1").matches(p));
  EXPECT_TRUE(rule("cert:cn=app1, o=Example").matches(p));  // names without case, spaces around
  EXPECT_FALSE(rule("cert:CN=App1").matches(p));            // values exactly
  EXPECT_FALSE(rule("cert:CN=app1,O=Other").matches(p));
  EXPECT_FALSE(rule("cert:CN=app").matches(p));
  // An escaped comma is part of the value, not a separator.
  Peer q = cert_peer("CN=Doe\\, Jane,O=Example");
  EXPECT_TRUE(rule("cert:CN=Doe\\, Jane").matches(q));
  EXPECT_FALSE(rule("cert:CN=Doe").matches(q));
  EXPECT_FALSE(rule("cert:CN=app1").matches(unix_peer(0, 0)));
}

TEST(Access, CertificateSanRules) {
  Peer p = cert_peer("", {"URI:spiffe://example.org/app", "DNS:app.example.org"});
  EXPECT_TRUE(rule("cert:URI:spiffe://example.org/app").matches(p));
  EXPECT_TRUE(rule("cert:DNS:app.example.org").matches(p));
  EXPECT_FALSE(rule("cert:URI:spiffe://example.org/other").matches(p));
  EXPECT_FALSE(parse_peer_pattern("cert:URI:").ok());
  EXPECT_FALSE(parse_peer_pattern("cert:").ok());
  EXPECT_FALSE(parse_peer_pattern("cert:CN").ok());
}

TEST(Access, TheFirstMatchingRuleGrants) {
  std::vector<AccessRule> rules = {rule("uid:1000"), rule("gid:100"), rule("cert:CN=app1")};
  rules[0].tokens = {"alpha"};
  rules[1].tokens = {"beta*"};
  rules[1].admin = true;
  auto g = find_grant(rules, unix_peer(1000, 100));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->rule, "access[0] peer=uid:1000");
  EXPECT_TRUE(g->sees("alpha"));
  EXPECT_FALSE(g->sees("beta1"));
  EXPECT_FALSE(g->admin);
  g = find_grant(rules, unix_peer(1001, 100));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->rule, "access[1] peer=gid:100");
  EXPECT_TRUE(g->sees("beta1"));
  EXPECT_TRUE(g->admin);
  EXPECT_FALSE(find_grant(rules, unix_peer(1001, 101)).has_value());
  EXPECT_EQ(describe_rules(rules), "access[0] uid:1000, access[1] gid:100, access[2] cert:CN=app1");
  EXPECT_EQ(describe_rules({}), "no [[access]] rules");
}

TEST(Access, SplitDn) {
  auto parts = split_dn("CN=a\\+b+UID=7,O=Ex\\=ample");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], (std::pair<std::string, std::string>{"CN", "a+b"}));
  EXPECT_EQ(parts[1], (std::pair<std::string, std::string>{"UID", "7"}));
  EXPECT_EQ(parts[2], (std::pair<std::string, std::string>{"O", "Ex=ample"}));
}

}  // namespace
}  // namespace ferrohsm::server
