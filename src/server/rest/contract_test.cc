// The REST API's one contract: every route the server serves is in docs/openapi.json,
// and every route the document lists is served; errors follow one table.
#include "server/rest/api.h"
#include "server/rest/problem.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace ferrohsm::server::rest {
namespace {

using Pair = std::pair<std::string, std::string>;  // method, path

std::set<Pair> documented() {
  auto doc = nlohmann::json::parse(openapi_document());
  std::set<Pair> out;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      out.insert({m, path});
    }
  return out;
}

std::set<Pair> served() {
  Api api(nullptr, std::chrono::seconds(60));
  std::set<Pair> out;
  for (const Route& r : api.routes()) out.insert({r.method, r.path});
  return out;
}

TEST(RestContract, TheDocumentIsOpenApi31) {
  auto doc = nlohmann::json::parse(openapi_document());
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  EXPECT_TRUE(doc.at("info").contains("title"));
  EXPECT_TRUE(doc.at("components").at("securitySchemes").contains("mutualTLS"));
}

// Collects every "$ref" in a document.
void refs_in(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out.push_back(v.get<std::string>());
      refs_in(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) refs_in(v, out);
  }
}

// What an OpenAPI validator checks beyond the shape: every reference resolves inside the
// document, every operation answers something, operation ids are unique, and each path
// template's parameters are declared as path parameters (and only those).
TEST(RestContract, TheDocumentIsConsistent) {
  auto doc = nlohmann::json::parse(openapi_document());
  std::vector<std::string> refs;
  refs_in(doc, refs);
  EXPECT_FALSE(refs.empty());
  for (const std::string& r : refs) {
    ASSERT_EQ(r.rfind("#/", 0), 0u) << r;
    EXPECT_TRUE(doc.contains(nlohmann::json::json_pointer(r.substr(1)))) << "unresolved $ref " << r;
  }
  std::set<std::string> ids;
  for (const auto& [path, item] : doc.at("paths").items()) {
    std::set<std::string> in_path;
    for (size_t at = path.find('{'); at != std::string::npos; at = path.find('{', at + 1))
      in_path.insert(path.substr(at + 1, path.find('}', at) - at - 1));
    for (const auto& [method, op] : item.items()) {
      const std::string where = method + " " + path;
      ASSERT_TRUE(op.contains("responses") && !op.at("responses").empty()) << where;
      if (op.contains("operationId")) {
        EXPECT_TRUE(ids.insert(op.at("operationId").get<std::string>()).second) << where;
      }
      std::set<std::string> declared;
      for (const auto& prm : op.value("parameters", nlohmann::json::array())) {
        nlohmann::json p = prm.contains("$ref") ? doc.at(nlohmann::json::json_pointer(prm.at("$ref").get<std::string>().substr(1)))
                                                : prm;
        if (p.value("in", "") == "path") {
          EXPECT_TRUE(p.value("required", false)) << where << ": path parameter " << p.value("name", "");
          declared.insert(p.value("name", ""));
        }
      }
      EXPECT_EQ(declared, in_path) << where;
    }
  }
}

TEST(RestContract, EveryServedRouteIsDocumented) {
  std::set<Pair> doc = documented();
  for (const Pair& p : served()) EXPECT_TRUE(doc.count(p)) << p.first << " " << p.second << " is served but not in docs/openapi.json";
}

TEST(RestContract, EveryDocumentedRouteIsServed) {
  std::set<Pair> routes = served();
  for (const Pair& p : documented()) EXPECT_TRUE(routes.count(p)) << p.first << " " << p.second << " is documented but not served";
}

TEST(RestContract, EveryOperationDocumentsItsProblems) {
  auto doc = nlohmann::json::parse(openapi_document());
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      bool has_problem = false;
      for (const auto& [code, resp] : op.at("responses").items())
        if (code[0] != '2' && resp.contains("$ref")) has_problem = true;
      EXPECT_TRUE(has_problem) << method << " " << path << " lists no problem response";
    }
}

TEST(RestProblem, StatusesComeFromOneTable) {
  EXPECT_EQ(http_status(CKR_OK), 200);
  EXPECT_EQ(http_status(CKR_PIN_INCORRECT), 401);
  EXPECT_EQ(http_status(CKR_PIN_LOCKED), 423);
  EXPECT_EQ(http_status(CKR_KEY_FUNCTION_NOT_PERMITTED), 403);
  EXPECT_EQ(http_status(CKR_KEY_HANDLE_INVALID), 404);
  EXPECT_EQ(http_status(CKR_MECHANISM_INVALID), 400);
  EXPECT_EQ(http_status(CKR_FUNCTION_NOT_SUPPORTED), 501);
  EXPECT_EQ(http_status(CKR_DEVICE_ERROR), 503);
  EXPECT_EQ(http_status(0x7fffffffUL), 500);  // not in the table
}

TEST(RestProblem, ABodyNamesTheCodeAndKeepsTheDetail) {
  auto j = nlohmann::json::parse(problem_json(CKR_PIN_INCORRECT, "the PIN is wrong"));
  EXPECT_EQ(j.at("title"), "CKR_PIN_INCORRECT");
  EXPECT_EQ(j.at("status"), 401);
  EXPECT_EQ(j.at("detail"), "the PIN is wrong");
  EXPECT_EQ(j.at("type"), "https://ferrohsm.dev/problems/CKR_PIN_INCORRECT");
  EXPECT_EQ(nlohmann::json::parse(problem_json(CKR_FUNCTION_REJECTED, "slow down", 429)).at("status"), 429);
}

}  // namespace
}  // namespace ferrohsm::server::rest
