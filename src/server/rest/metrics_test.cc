// GET /metrics' text: it parses as the Prometheus text format (every sample under a
// "# TYPE" line of its family, labels escaped), and its numbers are exactly what was
// observed, also when several threads count at once.
#include "server/rest/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace ferrohsm::server::rest {
namespace {

using Routes = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

// A strict reader of the text format: fails the test on a line it cannot read.
std::vector<Sample> parse(const std::string& text) {
  std::vector<Sample> out;
  std::map<std::string, std::string> types;
  std::string family;  // of the last # TYPE
  std::istringstream in(text);
  const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)");
  const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, help)) << line;
      continue;
    }
    if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, m, type)) << line;
      if (m.empty()) continue;
      EXPECT_EQ(types.count(m[1]), 0u) << "a second # TYPE for " << m[1];
      types[m[1]] = m[2];
      family = m[1];
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, m, sample)) << line;
    if (m.empty()) continue;
    Sample s;
    s.name = m[1];
    const bool histogram = types[family] == "histogram";
    EXPECT_TRUE(s.name == family || (histogram && (s.name == family + "_bucket" || s.name == family + "_sum" ||
                                                   s.name == family + "_count")))
        << s.name << " is not under its # TYPE line (last: " << family << ")";
    const std::string value = m[3];
    s.value = value == "+Inf" ? INFINITY : std::stod(value);
    // Labels: name="value" pairs, commas between, escapes \\ \" \n only.
    std::string l = m[2].matched ? std::string(m[2]).substr(1, m[2].length() - 2) : "";
    for (size_t i = 0; i < l.size();) {
      size_t eq = l.find("=\"", i);
      EXPECT_NE(eq, std::string::npos) << line;
      if (eq == std::string::npos) break;
      std::string name = l.substr(i, eq - i), v;
      EXPECT_TRUE(std::regex_match(name, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) << line;
      size_t j = eq + 2;
      for (; j < l.size() && l[j] != '"'; ++j) {
        if (l[j] == '\\') {
          ++j;
          EXPECT_TRUE(j < l.size() && (l[j] == '\\' || l[j] == '"' || l[j] == 'n')) << "bad escape in " << line;
          if (j < l.size()) v += l[j] == 'n' ? '\n' : l[j];
        } else {
          EXPECT_NE(l[j], '\n');
          v += l[j];
        }
      }
      EXPECT_LT(j, l.size()) << "unterminated label value in " << line;
      s.labels[name] = v;
      i = j + 1;
      if (i < l.size()) {
        EXPECT_EQ(l[i], ',') << line;
        ++i;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

double value_of(const std::vector<Sample>& all, const std::string& name, const std::map<std::string, std::string>& want) {
  for (const Sample& s : all) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) match = match && s.labels.count(k) && s.labels.at(k) == v;
    if (match) return s.value;
  }
  return -1;
}

TEST(RestMetrics, CountsByRouteAndResultAndParses) {
  Metrics m(Routes{{"GET", "/v1/tokens/{token}/keys"}, {"POST", "/v1/tokens/{token}/keys/{key}/sign"}});
  using namespace std::chrono_literals;
  m.observe(0, 200, CKR_OK, 300us);
  m.observe(0, 200, CKR_OK, 2ms);
  m.observe(1, 404, CKR_KEY_HANDLE_INVALID, 50us);
  m.observe(1, 200, CKR_OK, 7s);  // past the last bucket: +Inf only
  m.observe(m.unmatched(), 404, CKR_FUNCTION_NOT_SUPPORTED, 10us);
  auto s = parse(m.render({.sessions = 3, .logged_in_tokens = 2, .store_up = true}));
  EXPECT_EQ(value_of(s, "ferrohsm_rest_requests_total",
                     {{"method", "GET"}, {"route", "/v1/tokens/{token}/keys"}, {"status", "200"}, {"result", "CKR_OK"}}),
            2);
  EXPECT_EQ(value_of(s, "ferrohsm_rest_requests_total",
                     {{"route", "/v1/tokens/{token}/keys/{key}/sign"}, {"status", "404"}, {"result", "CKR_KEY_HANDLE_INVALID"}}),
            1);
  EXPECT_EQ(value_of(s, "ferrohsm_rest_requests_total", {{"route", "(unmatched)"}, {"status", "404"}}), 1);
  // The histogram is cumulative: 300 µs is under 0.0005, 2 ms under 0.0025.
  std::map<std::string, std::string> keys = {{"route", "/v1/tokens/{token}/keys"}};
  auto le = [&](const char* bound) {
    auto l = keys;
    l["le"] = bound;
    return value_of(s, "ferrohsm_rest_request_duration_seconds_bucket", l);
  };
  EXPECT_EQ(le("0.00025"), 0);
  EXPECT_EQ(le("0.0005"), 1);
  EXPECT_EQ(le("0.001"), 1);
  EXPECT_EQ(le("0.0025"), 2);
  EXPECT_EQ(le("+Inf"), 2);
  EXPECT_EQ(value_of(s, "ferrohsm_rest_request_duration_seconds_count", keys), 2);
  EXPECT_NEAR(value_of(s, "ferrohsm_rest_request_duration_seconds_sum", keys), 0.0023, 1e-9);
  std::map<std::string, std::string> sign = {{"route", "/v1/tokens/{token}/keys/{key}/sign"}, {"le", "5"}};
  EXPECT_EQ(value_of(s, "ferrohsm_rest_request_duration_seconds_bucket", sign), 1);
  sign["le"] = "+Inf";
  EXPECT_EQ(value_of(s, "ferrohsm_rest_request_duration_seconds_bucket", sign), 2);
  EXPECT_EQ(value_of(s, "ferrohsm_rest_sessions", {}), 3);
  EXPECT_EQ(value_of(s, "ferrohsm_logged_in_tokens", {}), 2);
  EXPECT_EQ(value_of(s, "ferrohsm_store_up", {}), 1);
  EXPECT_EQ(value_of(parse(m.render({})), "ferrohsm_store_up", {}), 0);
}

TEST(RestMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  const std::string odd = "/v1/\"quoted\"\\back\nline";
  Metrics m(Routes{{"GET", odd}});
  m.observe(0, 200, CKR_OK, std::chrono::microseconds(1));
  const std::string text = m.render({});
  auto s = parse(text);
  EXPECT_EQ(value_of(s, "ferrohsm_rest_requests_total", {{"route", odd}}), 1) << text;
}

TEST(RestMetrics, ThreadsCountWithoutLosingAny) {
  Metrics m(Routes{{"GET", "/a"}});
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kEach; ++i) m.observe(0, 200 + (i % 3) * 100 + t, CKR_OK, std::chrono::microseconds(i % 700));
    });
  for (auto& t : threads) t.join();
  auto s = parse(m.render({}));
  double total = 0;
  std::set<std::string> statuses;
  for (const Sample& x : s)
    if (x.name == "ferrohsm_rest_requests_total") {
      total += x.value;
      statuses.insert(x.labels.at("status"));
    }
  EXPECT_EQ(total, kThreads * kEach);
  EXPECT_EQ(statuses.size(), 12u);  // 3 per thread, none merged or lost
  EXPECT_EQ(value_of(s, "ferrohsm_rest_request_duration_seconds_count", {{"route", "/a"}}), kThreads * kEach);
}

}  // namespace
}  // namespace ferrohsm::server::rest
