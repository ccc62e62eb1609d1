// AWS's published Signature Version 4 suite (../shared/aws-sigv4/v4, every case, header
// form) through the signer's SigV4 code, and through the fakes' independent checker.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/sigv4_check.h"
#include "ferrohsm/signer/cloud/aws_sigv4.h"

namespace ferrohsm::signer::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An HTTP request as the suite writes it: request line, headers (a line starting with
// whitespace continues the previous one), a blank line, the body.
ReceivedRequest parse_request(const std::string& text) {
  ReceivedRequest r;
  std::size_t at = 0;
  auto next_line = [&]() -> std::optional<std::string> {
    if (at > text.size()) return std::nullopt;
    auto nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? text.size() + 1 : nl + 1;
    return line;
  };
  std::string first = *next_line();
  auto sp = first.find(' ');
  r.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, first.rfind(" HTTP/") - sp - 1);
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (auto line = next_line()) {
    if (line->empty()) break;
    if ((line->front() == ' ' || line->front() == '\t') && !r.headers.empty()) {
      r.headers.back().second += "\n" + *line;
      continue;
    }
    auto colon = line->find(':');
    r.headers.emplace_back(line->substr(0, colon), line->substr(colon + 1));
  }
  if (at <= text.size()) r.body = text.substr(at);
  return r;
}

struct Case {
  std::string name;
  fs::path dir;
  json context;
};

std::vector<Case> suite() {
  std::vector<Case> cases;
  fs::path root = fs::path(FERROHSM_SHARED_DIR) / "aws-sigv4" / "v4";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.is_directory() && fs::exists(entry.path() / "context.json"))
      cases.push_back({entry.path().filename().string(), entry.path(), json::parse(slurp(entry.path() / "context.json"))});
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

std::string amz_date_of(const std::string& iso) {  // 2015-08-30T12:36:00Z → 20150830T123600Z
  std::string out;
  for (char c : iso)
    if (c != '-' && c != ':') out += c;
  return out;
}

TEST(AwsSigV4Suite, TheSuiteIsThere) {
  // The published suite has 38 cases; fewer means the copy in ../shared is not the one expected.
  EXPECT_GE(suite().size(), 38u) << "missing " << FERROHSM_SHARED_DIR << "/aws-sigv4/v4";
}

TEST(AwsSigV4Suite, SignerMatchesEveryHeaderCase) {
  auto cases = suite();
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ReceivedRequest raw = parse_request(slurp(c.dir / "request.txt"));
    const json& creds = c.context["credentials"];
    cloud::sigv4::Request req{raw.method, raw.path, raw.query, raw.headers, raw.body};
    cloud::sigv4::Credentials keys{creds["access_key_id"], creds["secret_access_key"], creds.value("token", "")};
    cloud::sigv4::Options opt{c.context["region"], c.context["service"], amz_date_of(c.context["timestamp"]),
                              c.context.value("normalize", true), c.context.value("sign_body", false),
                              !c.context.value("omit_session_token", false)};
    auto s = cloud::sigv4::sign(req, keys, opt);
    EXPECT_EQ(s.canonical_request, slurp(c.dir / "header-canonical-request.txt"));
    EXPECT_EQ(s.string_to_sign, slurp(c.dir / "header-string-to-sign.txt"));
    EXPECT_EQ(s.signature, slurp(c.dir / "header-signature.txt"));
    std::string expected_auth;
    for (const auto& [k, v] : parse_request(slurp(c.dir / "header-signed-request.txt")).headers)
      if (k == "Authorization") expected_auth = v;
    EXPECT_EQ(s.authorization, expected_auth);
  }
}

TEST(AwsSigV4Suite, FakesCheckerAcceptsEverySignedRequestAndRefusesChanges) {
  auto cases = suite();
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ReceivedRequest signed_req = parse_request(slurp(c.dir / "header-signed-request.txt"));
    std::string akid = c.context["credentials"]["access_key_id"];
    std::string secret = c.context["credentials"]["secret_access_key"];
    SecretLookup lookup = [&](const std::string& id) -> std::optional<std::string> {
      if (id == akid) return secret;
      return std::nullopt;
    };
    SigV4Expectation expect{c.context["region"], c.context["service"], c.context.value("normalize", true), std::nullopt};
    auto verdict = check_sigv4(signed_req, lookup, expect);
    EXPECT_TRUE(verdict.ok) << verdict.error_type << ": " << verdict.message;
    auto changed_body = signed_req;
    changed_body.body += "x";
    EXPECT_FALSE(check_sigv4(changed_body, lookup, expect).ok);
    auto changed_method = signed_req;
    changed_method.method = signed_req.method == "GET" ? "POST" : "GET";
    EXPECT_FALSE(check_sigv4(changed_method, lookup, expect).ok);
    auto wrong_secret = check_sigv4(signed_req, [](const std::string&) { return std::optional<std::string>("x"); }, expect);
    EXPECT_EQ(wrong_secret.error_type, "InvalidSignatureException");
    auto unknown = check_sigv4(signed_req, [](const std::string&) { return std::optional<std::string>(); }, expect);
    EXPECT_EQ(unknown.error_type, "UnrecognizedClientException");
    auto wrong_region = expect;
    wrong_region.region = "eu-west-1";
    EXPECT_FALSE(check_sigv4(signed_req, lookup, wrong_region).ok);
    auto late = expect;
    late.now = std::chrono::system_clock::now();  // the suite's requests are from 2015
    EXPECT_EQ(check_sigv4(signed_req, lookup, late).message, "Signature expired");
  }
}

TEST(AwsSigV4, AmzDateIsUtcBasicFormat) {
  EXPECT_EQ(cloud::sigv4::amz_date(std::chrono::system_clock::from_time_t(1440938160)), "20150830T123600Z");
}

}  // namespace
}  // namespace ferrohsm::signer::testing
