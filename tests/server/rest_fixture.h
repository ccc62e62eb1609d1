// The REST API's test fixture: a RestServer over a real core and SQLite store in a
// temporary folder, on a loopback port with TLS 1.3 and the test PKI's client
// certificates; the token "rest" with a user PIN. Shared by rest_test.cc,
// rest_wrap_test.cc and rest_import_test.cc.
#pragma once

#include "core/core.h"
#include "server/config.h"
#include "server/rest/rest_server.h"
#include "server_fixture.h"
#include "store/open_store.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/base64.h"

namespace ferrohsm::server::rest {

using nlohmann::json;
using testing::ClientCert;
using testing::test_pki;

constexpr const char* kPin = "rest-user-pin";

class RestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir();
    std::string toml = "[server]\nlisten = [\"unix:" + dir_ + "/s.sock\"]\n" + "tls_cert = \"" + test_pki().server_cert +
                       "\"\ntls_key = \"" + test_pki().server_key + "\"\nclient_ca = \"" + test_pki().ca + "\"\n" +
                       "[rest]\nlisten = \"127.0.0.1:0\"\nmax_body = 4096\n" +
                       "[[access]]\npeer = \"cert:CN=app1\"\ntokens = [\"rest\"]\n" +
                       "[[access]]\npeer = \"cert:CN=app2\"\ntokens = [\"rest\"]\n" +
                       "[store]\npath = \"" + dir_ + "/store.db\"\n" +
                       "[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n";
    auto cfg = parse_server_config(toml, "rest-test");
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto store = store::open_store(store_settings(cfg->core));
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto core = Core::open(cfg->core, std::move(*store));
    ASSERT_TRUE(core.ok()) << core.error().message;
    core_ = *core;
    InitToken();
    auto rest = RestServer::start(*cfg, core_);
    ASSERT_TRUE(rest.ok()) << rest.error().message;
    rest_ = std::move(*rest);
    port_ = std::stoi(rest_->address().substr(rest_->address().rfind(':') + 1));
  }
  void TearDown() override {
    rest_.reset();
    core_.reset();
    testing::remove_tree(dir_);
  }

  void InitToken() {
    auto app = core_->open_app(AppOptions{});
    auto slots = app->slot_list(false);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    ASSERT_TRUE(app->init_token(slots->front(), "rest-so-pin", "rest").ok());
    auto now = app->slot_list(true);
    ASSERT_TRUE(now.ok() && !now->empty());
    CK_SLOT_ID slot = 0;
    for (CK_SLOT_ID s : *now)
      if (app->token_label(s) == "rest") slot = s;
    auto h = app->open_session(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(app->login(*h, CKU_SO, "rest-so-pin").ok());
    ASSERT_TRUE(app->init_pin(*h, kPin).ok());
    app->close();
  }

  std::unique_ptr<httplib::SSLClient> Client(const ClientCert& who) {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_, who.cert, who.key);
    c->set_ca_cert_path(test_pki().ca.c_str());
    c->enable_server_certificate_verification(true);
    return c;
  }

  std::string Login(httplib::SSLClient& c, const std::string& pin = kPin) {
    auto res = c.Post("/v1/tokens/rest/login", json{{"pin", pin}}.dump(), "application/json");
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    if (!res || res->status != 200) return "";
    return json::parse(res->body).at("session");
  }

  static httplib::Headers Bearer(const std::string& b) { return {{"Authorization", "Bearer " + b}}; }

  // POST a JSON body with the bearer.
  static httplib::Result PostJson(httplib::SSLClient& c, const std::string& path, const std::string& bearer,
                                  const json& body) {
    return c.Post(path, Bearer(bearer), body.dump(), "application/json");
  }
  // POST and expect `status`: the answer's JSON (null when it failed: the expectation says why).
  static json PostOk(httplib::SSLClient& c, const std::string& path, const std::string& bearer, const json& body,
                     int status = 200) {
    auto res = PostJson(c, path, bearer, body);
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, status) << path << ": " << res->body;
    if (res->status != status) return nullptr;
    return json::parse(res->body, nullptr, false);
  }
  // A generated key's id ("" when generation failed).
  static std::string Generate(httplib::SSLClient& c, const std::string& bearer, const json& body) {
    json k = PostOk(c, "/v1/tokens/rest/keys", bearer, body, 201);
    return k.is_object() ? k.value("id", "") : "";
  }

  static json Problem(const httplib::Result& res, int status, const char* title) {
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/problem+json");
    json j = json::parse(res->body, nullptr, false);
    EXPECT_EQ(j.value("title", ""), title) << res->body;
    return j;
  }

  std::string dir_;
  std::shared_ptr<Core> core_;
  std::unique_ptr<RestServer> rest_;
  int port_ = 0;
};

}  // namespace ferrohsm::server::rest
