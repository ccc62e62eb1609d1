// The HTTP API in-process over loopback (and a Unix socket), with the test double.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <thread>

#include "base/bytes.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"
#include "ferrohsm/signer/http_api.h"
#include "ferrohsm/signer/http_server.h"
#include "support/reference.h"
#include "support/test_double_provider.h"

namespace ferrohsm::signer::testing {
namespace {

using nlohmann::json;

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = RotationStore::open(dir_.file("signer.db"));
    ASSERT_TRUE(st);
    store_ = std::move(*st);
    service_ = std::make_unique<RotationService>(provider_, *store_);
    ASSERT_TRUE(service_->load());
    api_ = std::make_unique<HttpApi>(*service_, provider_, metrics_, ApiOptions{std::chrono::milliseconds(2000)});
    start(ListenAddress{false, "127.0.0.1", 0});
  }
  void start(const ListenAddress& address) {
    auto server = HttpServer::create(TlsSettings{});
    ASSERT_TRUE(server);
    server_ = std::move(*server);
    api_->install(server_->http());
    auto port = server_->bind(address);
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }
  // POST with a JSON body; returns (status, parsed body).
  std::pair<int, json> post(const std::string& path, const std::string& body = "{}") {
    auto res = client().Post(path.c_str(), body, "application/json");
    if (!res) return {0, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> get(const std::string& path) {
    auto res = client().Get(path.c_str());
    if (!res) return {0, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  static std::string digest_body(const Digest& d) { return json{{"digest", to_base64(d)}}.dump(); }
  static PublicKey key_of(const json& key) {
    auto bytes = unhex(key["public_key_hex"].get<std::string>());
    PublicKey p{};
    EXPECT_EQ(bytes.size(), p.size());
    std::copy_n(bytes.begin(), std::min(bytes.size(), p.size()), p.begin());
    return p;
  }

  TempDir dir_;
  TestDoubleProvider provider_;
  std::unique_ptr<RotationStore> store_;
  std::unique_ptr<RotationService> service_;
  Metrics metrics_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(Api, GenerateSignRotateAndPublish) {
  auto [gs, gen] = post("/v1/scopes/pay/keys", R"({"key_id":"v1"})");
  ASSERT_EQ(gs, 201) << gen.dump();
  EXPECT_EQ(gen["state"], "active");
  Digest d = sha512_of("hello");
  auto [ss, sig] = post("/v1/scopes/pay/sign", digest_body(d));
  ASSERT_EQ(ss, 200) << sig.dump();
  EXPECT_EQ(sig["key_id"], "v1");
  auto sig_bytes = from_base64(sig["signature"].get<std::string>());
  ASSERT_TRUE(sig_bytes);
  EXPECT_TRUE(ed25519::verify(key_of(gen), d, *sig_bytes));

  auto [os, opened] = post("/v1/scopes/pay/rotation/open", R"({"key_id":"v2"})");
  ASSERT_EQ(os, 201) << opened.dump();
  EXPECT_EQ(opened["state"], "pending");
  auto [as, activated] = post("/v1/scopes/pay/rotation/activate");
  ASSERT_EQ(as, 200) << activated.dump();
  auto [hs, hexsig] = post("/v1/scopes/pay/sign", json{{"digest_hex", to_hex(d)}}.dump());
  ASSERT_EQ(hs, 200);
  EXPECT_EQ(hexsig["key_id"], "v2");
  EXPECT_TRUE(ed25519::verify(key_of(opened), d, unhex(hexsig["signature_hex"].get<std::string>())));

  auto [ls, listed] = get("/v1/scopes/pay/keys");
  ASSERT_EQ(ls, 200);
  ASSERT_EQ(listed["keys"].size(), 2u);
  EXPECT_EQ(listed["keys"][0]["state"], "retiring");
  EXPECT_EQ(listed["keys"][1]["state"], "active");

  auto [cs, closed] = post("/v1/scopes/pay/rotation/close");
  ASSERT_EQ(cs, 200) << closed.dump();
  EXPECT_EQ(closed["key_id"], "v1");
  EXPECT_EQ(closed["state"], "retired");

  auto [js, jwks] = get("/v1/scopes/pay/jwks");
  ASSERT_EQ(js, 200);
  ASSERT_EQ(jwks["keys"].size(), 1u);  // retired keys leave the JWKS
  EXPECT_EQ(jwks["keys"][0]["kid"], "v2");
  EXPECT_EQ(jwks["keys"][0]["kty"], "OKP");
  EXPECT_EQ(jwks["keys"][0]["crv"], "Ed25519");
  EXPECT_EQ(jwks["keys"][0]["x"], to_base64url(key_of(opened)));

  auto pem = client().Get("/v1/scopes/pay/keys/v2.pem");
  ASSERT_TRUE(pem);
  EXPECT_EQ(pem->status, 200);
  EXPECT_EQ(pem->body, ed25519::public_pem(key_of(opened)));
  auto [all_s, all] = get("/v1/keys");
  EXPECT_EQ(all["keys"].size(), 2u);
}

TEST_F(Api, BadRequestsAre4xxNamingTheProblem) {
  ASSERT_EQ(post("/v1/scopes/pay/keys").first, 201);
  struct Case {
    std::string path, body;
    int status;
    std::string kind, needle;
  } cases[] = {
      {"/v1/scopes/Pay/sign", digest_body(sha512_of("x")), 400, "invalid_argument", "scope"},
      {"/v1/scopes/ferrohsm-readyz/sign", digest_body(sha512_of("x")), 400, "invalid_argument", "reserved"},
      {"/v1/scopes/pay/sign", "{not json", 400, "invalid_argument", "not valid JSON"},
      {"/v1/scopes/pay/sign", "[1,2]", 400, "invalid_argument", "JSON object"},
      {"/v1/scopes/pay/sign", R"({"digets":"x"})", 400, "invalid_argument", "unknown field 'digets'"},
      {"/v1/scopes/pay/sign", "{}", 400, "invalid_argument", "exactly one of 'digest'"},
      {"/v1/scopes/pay/sign", R"({"digest":"AAAA"})", 400, "invalid_argument", "64 bytes"},
      {"/v1/scopes/pay/sign", R"({"digest":"!!!!"})", 400, "invalid_argument", "not valid base64"},
      {"/v1/scopes/pay/sign", R"({"digest_hex":"abc"})", 400, "invalid_argument", "not valid hex"},
      {"/v1/scopes/pay/sign", R"({"digest":5})", 400, "invalid_argument", "must be a string"},
      {"/v1/scopes/pay/keys", R"({"key_id":"A B"})", 400, "invalid_argument", "key_id"},
      {"/v1/scopes/pay/keys", "{}", 409, "invalid_state", "already has an active key"},
      {"/v1/scopes/none/sign", digest_body(sha512_of("x")), 409, "no_active_key", "no active signing key"},
      {"/v1/scopes/pay/rotation/close", "{}", 409, "invalid_state", "no retiring key"},
      {"/v1/scopes/pay/rotation/nope", "{}", 404, "no_route", "no route"},
  };
  for (const auto& c : cases) {
    auto [status, body] = post(c.path, c.body);
    EXPECT_EQ(status, c.status) << c.path << " " << c.body;
    ASSERT_TRUE(body.contains("error")) << body.dump();
    EXPECT_EQ(body["error"]["kind"], c.kind) << c.path << " " << c.body;
    EXPECT_NE(body["error"]["message"].get<std::string>().find(c.needle), std::string::npos) << body.dump();
  }
  auto pem = get("/v1/scopes/pay/keys/zzz.pem");
  EXPECT_EQ(pem.first, 404);
  EXPECT_EQ(pem.second["error"]["kind"], "key_not_found");
}

TEST_F(Api, ProviderOutageIs503AndNotRetried) {
  ASSERT_EQ(post("/v1/scopes/pay/keys").first, 201);
  provider_.clear_calls();
  provider_.inject_failure(Method::kSign, ErrorKind::kProviderUnavailable);
  auto [status, body] = post("/v1/scopes/pay/sign", digest_body(sha512_of("x")));
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["error"]["kind"], "provider_unavailable");
  EXPECT_EQ(provider_.count(Method::kSign), 1u);
  auto ready = get("/readyz");
  EXPECT_EQ(ready.first, 503);
  EXPECT_EQ(ready.second["ready"], false);
  provider_.clear_failure(Method::kSign);
  EXPECT_EQ(get("/readyz").first, 200);
  EXPECT_EQ(post("/v1/scopes/pay/sign", digest_body(sha512_of("x"))).first, 200);

  provider_.inject_failure(Method::kGenerate, ErrorKind::kRotationInProgress);
  auto busy = post("/v1/scopes/pay/rotation/open");
  EXPECT_EQ(busy.first, 409);
  EXPECT_EQ(busy.second["error"]["kind"], "rotation_in_progress");

  auto metrics = client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("ferrohsm_signer_errors_total{kind=\"provider_unavailable\"} 2"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ferrohsm_signer_requests_total{route=\"sign\",code=\"503\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("ferrohsm_signer_requests_total{route=\"sign\",code=\"200\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("ferrohsm_signer_keys{state=\"active\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("ferrohsm_signer_request_duration_seconds_count{route=\"sign\"} 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("ferrohsm_signer_dev_only 0"), std::string::npos);
}

TEST_F(Api, LivezReportsTheProvider) {
  auto [status, body] = get("/livez");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["provider"], "testdouble");
  EXPECT_EQ(body["dev_only"], false);
  EXPECT_FALSE(body.contains("warning"));
}

TEST_F(Api, ServesOverAUnixSocket) {
  server_->stop();
  thread_.join();
  std::string path = dir_.file("signer.sock");
  start(ListenAddress{true, path, 0});
  httplib::Client c(path);
  c.set_address_family(AF_UNIX);
  c.set_connection_timeout(5);
  auto res = c.Get("/livez");
  ASSERT_TRUE(res) << "no answer over " << path;
  EXPECT_EQ(res->status, 200);
  auto gen = c.Post("/v1/scopes/sock/keys", "{}", "application/json");
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->status, 201);
}

TEST(ListenAddress, ParsesEveryForm) {
  auto tcp = parse_listen_address("127.0.0.1:8443");
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 8443);
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto unix_ = parse_listen_address("unix:/run/signer.sock");
  ASSERT_TRUE(unix_);
  EXPECT_TRUE(unix_->unix_socket);
  EXPECT_EQ(unix_->host, "/run/signer.sock");
  for (auto bad : {"8443", "127.0.0.1:http", "127.0.0.1:70000", "unix:relative.sock", ":80"})
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
}

TEST(HttpStatus, OneStatusPerKind) {
  EXPECT_EQ(http_status_for(ErrorKind::kKeyNotFound), 404);
  EXPECT_EQ(http_status_for(ErrorKind::kProviderUnavailable), 503);
  EXPECT_EQ(http_status_for(ErrorKind::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(ErrorKind::kKeyRetired), 409);
  EXPECT_EQ(http_status_for(ErrorKind::kDeadlineExceeded), 504);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
