// A REST listener (RestServer) over a real core and SQLite store in a temporary folder,
// for the REST tests that share one server per suite: tokens "rest" and "rest2" (user
// PIN kPin), CN=app1 sees both, CN=app2 sees "rest"; and the HTTPS client helpers.
#pragma once

#include "base/base64.h"
#include "core/core.h"
#include "server/config.h"
#include "server/rest/rest_server.h"
#include "server_fixture.h"
#include "store/open_store.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace ferrohsm::server::rest::testing {

using nlohmann::json;
using server::testing::ClientCert;
using server::testing::test_pki;

inline constexpr const char* kPin = "rest-user-pin";
inline constexpr const char* kSoPin = "rest-so-pin";

struct RestUnderTest {
  std::string dir;
  ServerConfig config;
  std::shared_ptr<Core> core;
  std::unique_ptr<RestServer> rest;
  int port = 0;

  // `extra` goes at the end of server.toml; `edit` may change the parsed configuration
  // (e.g. values under the parser's bounds), given the temporary folder. Fails the test
  // (ADD_FAILURE) and returns null when it cannot start.
  static std::unique_ptr<RestUnderTest> start(
      const std::string& extra = "", const std::function<void(ServerConfig&, const std::string& dir)>& edit = {}) {
    auto t = std::make_unique<RestUnderTest>();
    t->dir = server::testing::make_temp_dir();
    const auto& p = test_pki();
    std::string toml = "[server]\nlisten = [\"unix:" + t->dir + "/s.sock\"]\ntls_cert = \"" + p.server_cert +
                       "\"\ntls_key = \"" + p.server_key + "\"\nclient_ca = \"" + p.ca + "\"\n" +
                       "[rest]\nlisten = \"127.0.0.1:0\"\nmax_body = 4096\n" +
                       "[[access]]\npeer = \"cert:CN=app1\"\ntokens = [\"rest\", \"rest2\"]\n" +
                       "[[access]]\npeer = \"cert:CN=app2\"\ntokens = [\"rest\"]\n" + "[store]\npath = \"" + t->dir +
                       "/store.db\"\n" + "[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n" + extra;
    auto cfg = parse_server_config(toml, "rest-test");
    if (!cfg) {
      ADD_FAILURE() << cfg.error().message;
      return nullptr;
    }
    t->config = *cfg;
    if (edit) edit(t->config, t->dir);
    auto store = store::open_store(store_settings(t->config.core));
    if (!store) {
      ADD_FAILURE() << store.error().message;
      return nullptr;
    }
    auto core = Core::open(t->config.core, std::move(*store));
    if (!core) {
      ADD_FAILURE() << core.error().message;
      return nullptr;
    }
    t->core = *core;
    for (const char* label : {"rest", "rest2"})
      if (!t->init_token(label)) return nullptr;
    auto rest = RestServer::start(t->config, t->core);
    if (!rest) {
      ADD_FAILURE() << rest.error().message;
      return nullptr;
    }
    t->rest = std::move(*rest);
    t->port = std::stoi(t->rest->address().substr(t->rest->address().rfind(':') + 1));
    return t;
  }

  ~RestUnderTest() {
    rest.reset();
    core.reset();
    if (!dir.empty()) server::testing::remove_tree(dir);
  }

  // Initialises the first empty token as `label` with the SO PIN kSoPin and user PIN kPin.
  bool init_token(const std::string& label) {
    auto app = core->open_app(AppOptions{});
    auto slots = app->slot_list(false);
    if (!slots) return false;
    for (CK_SLOT_ID s : *slots) {
      auto info = app->token_info(s);
      if (!info || (info->flags & CKF_TOKEN_INITIALIZED)) continue;
      if (!app->init_token(s, kSoPin, label).ok()) break;
      auto h = app->open_session(s, CKF_SERIAL_SESSION | CKF_RW_SESSION);
      bool ok = h.ok() && app->login(*h, CKU_SO, kSoPin).ok() && app->init_pin(*h, kPin).ok();
      app->close();
      if (!ok) ADD_FAILURE() << "cannot set the user PIN of " << label;
      return ok;
    }
    ADD_FAILURE() << "no empty token for " << label;
    app->close();
    return false;
  }

  std::unique_ptr<httplib::SSLClient> client(const ClientCert& who) const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port, who.cert, who.key);
    c->set_ca_cert_path(test_pki().ca.c_str());
    c->enable_server_certificate_verification(true);
    return c;
  }
};

inline std::string login(httplib::SSLClient& c, const std::string& token = "rest", const std::string& pin = kPin) {
  auto res = c.Post("/v1/tokens/" + token + "/login", json{{"pin", pin}}.dump(), "application/json");
  EXPECT_TRUE(res) << httplib::to_string(res.error());
  if (!res || res->status != 200) return "";
  return json::parse(res->body).at("session");
}

inline httplib::Headers bearer(const std::string& b) { return {{"Authorization", "Bearer " + b}}; }

// The problem body of `res`, after checking its status, type and title.
inline json problem(const httplib::Result& res, int status, const char* title) {
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/problem+json");
  json j = json::parse(res->body, nullptr, false);
  EXPECT_EQ(j.value("title", ""), title) << res->body;
  EXPECT_EQ(j.value("type", ""), std::string("https://ferrohsm.dev/problems/") + title) << res->body;
  return j;
}

// Generates a key; its id ("" and a test failure when it cannot).
inline std::string generate(httplib::SSLClient& c, const std::string& b, const json& body,
                            const std::string& token = "rest") {
  auto res = c.Post("/v1/tokens/" + token + "/keys", bearer(b), body.dump(), "application/json");
  EXPECT_TRUE(res);
  if (!res) return "";
  EXPECT_EQ(res->status, 201) << res->body;
  if (res->status != 201) return "";
  return json::parse(res->body).at("id");
}

inline void still_serving(const RestUnderTest& t) {
  auto res = t.client(test_pki().app1)->Get("/livez");
  ASSERT_TRUE(res) << "the server no longer answers";
  EXPECT_EQ(res->status, 200);
}

// One server for a whole test suite (one per derived class), and per test a client with
// app1's certificate logged in to "rest".
template <class Suite>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = RestUnderTest::start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    c_ = server_->client(test_pki().app1);
    bearer_ = login(*c_);
    ASSERT_FALSE(bearer_.empty());
  }

  static inline RestUnderTest* server_ = nullptr;
  std::unique_ptr<httplib::SSLClient> c_;
  std::string bearer_;
};

}  // namespace ferrohsm::server::rest::testing

namespace ferrohsm::server::rest {

using nlohmann::json;
using server::testing::ClientCert;
using server::testing::test_pki;
using testing::kPin;

// A fresh server per test, with the helpers as members (rest_test.cc, rest_wrap_test.cc,
// rest_import_test.cc).
class RestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = testing::RestUnderTest::start();
    ASSERT_NE(t_, nullptr);
    dir_ = t_->dir;
    core_ = t_->core;
    port_ = t_->port;
  }
  void TearDown() override { t_.reset(); }

  std::unique_ptr<httplib::SSLClient> Client(const server::testing::ClientCert& who) { return t_->client(who); }
  std::string Login(httplib::SSLClient& c, const std::string& pin = testing::kPin) {
    return testing::login(c, "rest", pin);
  }
  static httplib::Headers Bearer(const std::string& b) { return testing::bearer(b); }
  // POST a JSON body with the bearer.
  static httplib::Result PostJson(httplib::SSLClient& c, const std::string& path, const std::string& bearer,
                                  const nlohmann::json& body) {
    return c.Post(path, Bearer(bearer), body.dump(), "application/json");
  }
  // POST and expect `status`: the answer's JSON (null when it failed: the expectation says why).
  static nlohmann::json PostOk(httplib::SSLClient& c, const std::string& path, const std::string& bearer,
                               const nlohmann::json& body, int status = 200) {
    auto res = PostJson(c, path, bearer, body);
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, status) << path << ": " << res->body;
    if (res->status != status) return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }
  // A generated key's id ("" when generation failed).
  static std::string Generate(httplib::SSLClient& c, const std::string& bearer, const nlohmann::json& body) {
    return testing::generate(c, bearer, body);
  }
  static nlohmann::json Problem(const httplib::Result& res, int status, const char* title) {
    return testing::problem(res, status, title);
  }

  std::unique_ptr<testing::RestUnderTest> t_;
  std::string dir_;
  std::shared_ptr<Core> core_;
  int port_ = 0;
};

}  // namespace ferrohsm::server::rest
