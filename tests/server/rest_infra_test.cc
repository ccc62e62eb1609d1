// The REST API's operational parts over real HTTPS, on one server for the suite:
// GET /metrics (the numbers move by exactly what was done), the Idempotency-Key header
// on generate (a retry, another body, two at once), format=jwk (the numbers OpenSSL reads
// from the DER), and the key list's filters and pages.
#include "rest_fixture.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <set>
#include <thread>

namespace ferrohsm::server::rest::testing {
namespace {

class RestInfra : public SharedServerTest<RestInfra> {
 protected:
  void TearDown() override {
    if (c_ && !bearer_.empty()) c_->Post("/v1/tokens/rest/logout", bearer(bearer_), "", "application/json");
  }

  json list(const std::string& query) {
    auto res = c_->Get("/v1/tokens/rest/keys?" + query, bearer(bearer_));
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body, nullptr, false);
  }

};

// One sample's value in the scrape ("name{labels}" exactly as rendered); 0 when absent.
double sample(const std::string& text, const std::string& series) {
  const std::string want = "\n" + series + " ";
  size_t at = ("\n" + text).find(want);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + want.size() - 1));
}

std::string requests(const char* method, const char* route, int status, const char* result) {
  return std::string("ferrohsm_rest_requests_total{method=\"") + method + "\",route=\"" + route + "\",status=\"" +
         std::to_string(status) + "\",result=\"" + result + "\"}";
}

TEST_F(RestInfra, MetricsMoveByExactlyWhatWasDone) {
  const std::string id = generate(*c_, bearer_, {{"type", "ec"}, {"label", "metrics"}});
  ASSERT_FALSE(id.empty());
  auto scrape = [&] {
    auto res = c_->Get("/metrics");
    EXPECT_TRUE(res);
    if (!res) return std::string();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return res->body;
  };
  const std::string before = scrape();
  const std::string sign = "/v1/tokens/rest/keys/" + id + "/sign";
  const std::string data = to_base64url(as_bytes(std::string("count me")));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c_->Get("/v1/tokens")->status, 200);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(c_->Post(sign, bearer(bearer_), json{{"mechanism", "ECDSA_SHA256"}, {"data", data}}.dump(),
                       "application/json")->status, 200);
  problem(c_->Post("/v1/tokens/rest/keys/no-such-key/sign", bearer(bearer_),
                   json{{"mechanism", "ECDSA_SHA256"}, {"data", data}}.dump(), "application/json"),
          404, "CKR_KEY_HANDLE_INVALID");
  problem(c_->Get("/v1/not-a-route"), 404, "CKR_FUNCTION_NOT_SUPPORTED");
  auto second = server_->client(test_pki().app2);
  const std::string other = login(*second);  // one more live bearer
  const std::string after = scrape();

  auto moved = [&](const std::string& series) { return sample(after, series) - sample(before, series); };
  EXPECT_EQ(moved(requests("GET", "/v1/tokens", 200, "CKR_OK")), 3);
  EXPECT_EQ(moved(requests("POST", "/v1/tokens/{token}/keys/{key}/sign", 200, "CKR_OK")), 2);
  EXPECT_EQ(moved(requests("POST", "/v1/tokens/{token}/keys/{key}/sign", 404, "CKR_KEY_HANDLE_INVALID")), 1);
  EXPECT_EQ(moved("ferrohsm_rest_requests_total{method=\"\",route=\"(unmatched)\",status=\"404\",result=\"CKR_"
                  "FUNCTION_NOT_SUPPORTED\"}"),
            1);
  EXPECT_EQ(moved(requests("GET", "/metrics", 200, "CKR_OK")), 1);  // the first scrape
  EXPECT_EQ(moved(requests("POST", "/v1/tokens/{token}/login", 200, "CKR_OK")), 1);
  const std::string sign_route = "method=\"POST\",route=\"/v1/tokens/{token}/keys/{key}/sign\"";
  EXPECT_EQ(moved("ferrohsm_rest_request_duration_seconds_count{" + sign_route + "}"), 3);
  EXPECT_EQ(moved("ferrohsm_rest_request_duration_seconds_bucket{" + sign_route + ",le=\"+Inf\"}"), 3);
  EXPECT_GT(moved("ferrohsm_rest_request_duration_seconds_sum{" + sign_route + "}"), 0);
  EXPECT_EQ(moved("ferrohsm_rest_sessions"), 1);
  EXPECT_EQ(after.find(id), std::string::npos) << "a key id in a metric label";
  EXPECT_EQ(sample(after, "ferrohsm_logged_in_tokens"), 1);  // "rest", by two bearers
  EXPECT_EQ(sample(after, "ferrohsm_store_up"), 1);
  for (const char* family : {"ferrohsm_rest_requests_total counter", "ferrohsm_rest_request_duration_seconds histogram",
                             "ferrohsm_rest_sessions gauge", "ferrohsm_logged_in_tokens gauge", "ferrohsm_store_up gauge"})
    EXPECT_NE(after.find(std::string("\n# TYPE ") + family + "\n"), std::string::npos) << family;
  second->Post("/v1/tokens/rest/logout", bearer(other), "", "application/json");
  EXPECT_EQ(sample(scrape(), "ferrohsm_rest_sessions"), sample(after, "ferrohsm_rest_sessions") - 1);
}

TEST_F(RestInfra, AnIdempotentGenerateMakesOneKey) {
  const json body = {{"type", "ec"}, {"label", "idem-1"}};
  httplib::Headers h = bearer(bearer_);
  h.emplace("Idempotency-Key", "\"5c1c2f1e-7d0a-4f0e-9a57-1d3c1b6a0a01\"");
  auto first = c_->Post("/v1/tokens/rest/keys", h, body.dump(), "application/json");
  auto retry = c_->Post("/v1/tokens/rest/keys", h, body.dump(), "application/json");
  ASSERT_TRUE(first && retry);
  EXPECT_EQ(first->status, 201) << first->body;
  EXPECT_EQ(retry->status, 201) << retry->body;
  EXPECT_EQ(json::parse(retry->body).at("id"), json::parse(first->body).at("id"));
  EXPECT_EQ(list("label=idem-1").at("keys").size(), 1u);

  // The same key with another body: 422, and no key made.
  problem(c_->Post("/v1/tokens/rest/keys", h, json{{"type", "ec"}, {"label", "idem-2"}}.dump(), "application/json"),
          422, "CKR_ARGUMENTS_BAD");
  EXPECT_EQ(list("label=idem-2").at("keys").size(), 0u);
  // Another caller's same key and body is its own request.
  auto other = server_->client(test_pki().app2);
  httplib::Headers h2 = bearer(login(*other));
  h2.emplace("Idempotency-Key", "\"5c1c2f1e-7d0a-4f0e-9a57-1d3c1b6a0a01\"");
  auto theirs = other->Post("/v1/tokens/rest/keys", h2, body.dump(), "application/json");
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->status, 201);
  EXPECT_NE(json::parse(theirs->body).at("id"), json::parse(first->body).at("id"));
  EXPECT_EQ(list("label=idem-1").at("keys").size(), 2u);
  // A bad header value is a problem, not ignored.
  httplib::Headers bad = bearer(bearer_);
  bad.emplace("Idempotency-Key", std::string(300, 'x'));
  problem(c_->Post("/v1/tokens/rest/keys", bad, body.dump(), "application/json"), 400, "CKR_ARGUMENTS_BAD");
  httplib::Headers empty = bearer(bearer_);
  empty.emplace("Idempotency-Key", "\"\"");
  problem(c_->Post("/v1/tokens/rest/keys", empty, body.dump(), "application/json"), 400, "CKR_ARGUMENTS_BAD");
  EXPECT_EQ(list("label=idem-1").at("keys").size(), 2u);  // none of the refused made a key
}

TEST_F(RestInfra, TwoSimultaneousIdenticalGeneratesMakeOneKey) {
  // RSA 2048 takes long enough that the second request arrives while the first runs.
  const json body = {{"type", "rsa"}, {"bits", 2048}, {"label", "idem-race"}};
  httplib::Headers h = bearer(bearer_);
  h.emplace("Idempotency-Key", "race-1");
  struct Got {
    int status = 0;
    std::string body;
  } got[2];
  std::thread threads[2];
  for (int i = 0; i < 2; ++i)
    threads[i] = std::thread([&, i] {
      auto c = server_->client(test_pki().app1);
      auto r = c->Post("/v1/tokens/rest/keys", h, body.dump(), "application/json");
      if (r) got[i] = {r->status, r->body};
    });
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const Got& g : got) {
    if (g.status == 201) {
      ids.insert(json::parse(g.body).at("id").get<std::string>());
    } else {  // the other was still running
      EXPECT_EQ(g.status, 409) << g.body;
      EXPECT_EQ(json::parse(g.body, nullptr, false).value("title", ""), "CKR_OPERATION_ACTIVE") << g.body;
    }
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(list("label=idem-race").at("keys").size(), 1u);
  // Once it has finished, a retry answers the key made.
  auto again = c_->Post("/v1/tokens/rest/keys", h, body.dump(), "application/json");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 201);
  EXPECT_EQ(ids.count(json::parse(again->body).at("id").get<std::string>()), 1u);
}

// The JWK's numbers are what OpenSSL reads from the key's DER.
TEST_F(RestInfra, JwkNumbersAreTheDerKeys) {
  struct Want {
    json body;
    const char* kty;
    const char* crv;
  };
  const Want keys[] = {{{{"type", "ec"}, {"curve", "P-384"}}, "EC", "P-384"},
                       {{{"type", "ec"}, {"curve", "P-521"}}, "EC", "P-521"},
                       {{{"type", "ed25519"}}, "OKP", "Ed25519"},
                       {{{"type", "ed448"}}, "OKP", "Ed448"}};
  for (const Want& w : keys) {
    SCOPED_TRACE(w.body.dump());
    const std::string id = generate(*c_, bearer_, w.body);
    ASSERT_FALSE(id.empty());
    auto der = c_->Get("/v1/tokens/rest/keys/" + id + "/public?format=der", bearer(bearer_));
    auto jwk = c_->Get("/v1/tokens/rest/keys/" + id + "/public?format=jwk", bearer(bearer_));
    ASSERT_TRUE(der && jwk);
    ASSERT_EQ(jwk->status, 200) << jwk->body;
    EXPECT_EQ(jwk->get_header_value("Content-Type"), "application/jwk+json");
    json j = json::parse(jwk->body);
    EXPECT_EQ(j.at("kty"), w.kty);
    EXPECT_EQ(j.at("crv"), w.crv);
    EXPECT_EQ(j.at("kid"), id);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->body.data());
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der->body.size()));
    ASSERT_NE(k, nullptr);
    auto b64 = [&](const char* name) { return from_base64url(j.at(name).get<std::string>()).value_or(std::vector<uint8_t>{}); };
    if (std::string(w.kty) == "EC") {
      for (auto [param, name] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, "x"}, std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, "y"}}) {
        BIGNUM* bn = nullptr;
        ASSERT_EQ(EVP_PKEY_get_bn_param(k, param, &bn), 1);
        std::vector<uint8_t> want(std::string(w.crv) == "P-384" ? 48 : 66);
        BN_bn2binpad(bn, want.data(), static_cast<int>(want.size()));
        BN_free(bn);
        EXPECT_EQ(b64(name), want) << name;
      }
    } else {
      size_t len = 0;
      EVP_PKEY_get_raw_public_key(k, nullptr, &len);
      std::vector<uint8_t> raw(len);
      ASSERT_EQ(EVP_PKEY_get_raw_public_key(k, raw.data(), &len), 1);
      EXPECT_EQ(b64("x"), raw);
    }
    EVP_PKEY_free(k);
  }
  const std::string aes = generate(*c_, bearer_, {{"type", "aes"}});
  problem(c_->Get("/v1/tokens/rest/keys/" + aes + "/public?format=jwk", bearer(bearer_)), 400,
          "CKR_ATTRIBUTE_TYPE_INVALID");
}

TEST_F(RestInfra, PagesListEveryKeyExactlyOnce) {
  // aes, hmac, ec in turn; the hmac keys may also derive (CKA_DERIVE is false unless asked).
  std::set<std::string> made, aes, derive;
  for (int i = 0; i < 8; ++i) {
    json body = {{"type", i % 3 == 0 ? "aes" : i % 3 == 1 ? "hmac" : "ec"}, {"label", "paged"}};
    if (i % 3 == 1) body["usages"] = {"sign", "verify", "derive"};
    std::string id = generate(*c_, bearer_, body);
    ASSERT_FALSE(id.empty());
    made.insert(id);
    if (i % 3 == 0) aes.insert(id);
    if (i % 3 == 1) derive.insert(id);
  }
  // Page through with 3 a page; a key deleted between pages is not listed afterwards.
  std::vector<std::string> seen;
  std::string token, deleted;
  int pages = 0;
  do {
    json page = list("label=paged&page_size=3" + (token.empty() ? "" : "&page_token=" + token));
    ASSERT_TRUE(page.is_object());
    EXPECT_LE(page.at("keys").size(), 3u);
    for (const auto& k : page.at("keys")) seen.push_back(k.at("id"));
    token = page.value("next_page_token", "");
    if (++pages == 1) {
      // The last key in id order is on no page yet: delete it.
      deleted = *made.rbegin();
      ASSERT_EQ(c_->Delete("/v1/tokens/rest/keys/" + deleted, bearer(bearer_))->status, 204);
    }
  } while (!token.empty() && pages < 10);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a key listed twice";
  made.erase(deleted);
  EXPECT_EQ(unique, made);
  EXPECT_EQ(pages, 3);  // 7 keys: 3 + 3 + 1
  aes.erase(deleted);
  derive.erase(deleted);

  auto ids = [](const json& page) {
    std::set<std::string> out;
    for (const auto& k : page.at("keys")) out.insert(k.at("id"));
    return out;
  };
  EXPECT_EQ(ids(list("label=paged&type=aes")), aes);
  EXPECT_EQ(ids(list("label=paged&usage=derive")), derive);
  EXPECT_EQ(ids(list("label=paged&type=generic-secret&usage=derive")), derive);
  EXPECT_TRUE(ids(list("label=paged&type=aes&usage=derive")).empty());
  // A key has exactly the usages it was given (or its type's default: AES encrypt and
  // decrypt, a pair sign and verify); a pair's verify is its public half's.
  std::set<std::string> verifiers;
  for (const std::string& id : made)
    if (!aes.count(id)) verifiers.insert(id);
  EXPECT_EQ(ids(list("label=paged&usage=verify")), verifiers);

  json first = list("label=paged&page_size=2");
  const std::string next = first.at("next_page_token");
  problem(c_->Get("/v1/tokens/rest/keys?label=other&page_size=2&page_token=" + next, bearer(bearer_)), 400,
          "CKR_ARGUMENTS_BAD");  // made for other filters
  for (const char* q : {"page_token=bm90LWEtdG9rZW4", "page_token=%%%", "page_size=0", "page_size=1001",
                        "page_size=ten", "type=dsa", "usage=fly"})
    problem(c_->Get(std::string("/v1/tokens/rest/keys?") + q, bearer(bearer_)), 400, "CKR_ARGUMENTS_BAD");
}

}  // namespace
}  // namespace ferrohsm::server::rest::testing
