// The REST API over real HTTPS (TLS 1.3, client certificates) on loopback, served by
// RestServer over a real core and SQLite store in a temporary folder: the README's
// curl session (login, generate Ed25519, sign, public key as PEM, verify with OpenSSL),
// and the refusals — wrong PIN, no bearer, another certificate's bearer, another CA,
// unknown route, oversized body, unknown mechanism — each with its problem body.
#include "rest_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <set>

namespace ferrohsm::server::rest {
namespace {

TEST_F(RestTest, TheReadmeSessionLogsInGeneratesSignsAndOpenSslVerifies) {
  auto c = Client(test_pki().app1);
  std::string bearer = Login(*c);
  ASSERT_FALSE(bearer.empty());

  auto gen = c->Post("/v1/tokens/rest/keys", Bearer(bearer), json{{"type", "ed25519"}, {"label", "k1"}}.dump(),
                     "application/json");
  ASSERT_TRUE(gen);
  ASSERT_EQ(gen->status, 201) << gen->body;
  json key = json::parse(gen->body);
  EXPECT_EQ(key.at("label"), "k1");
  EXPECT_EQ(key.at("class"), "private");
  const std::string id = key.at("id");

  const std::string message = "signed through REST";
  auto sig = c->Post("/v1/tokens/rest/keys/" + id + "/sign", Bearer(bearer),
                     json{{"mechanism", "EDDSA"}, {"data", to_base64url(as_bytes(message))}}.dump(), "application/json");
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->status, 200) << sig->body;
  auto signature = from_base64url(json::parse(sig->body).at("signature").get<std::string>());
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), 64u);

  auto pub = c->Get("/v1/tokens/rest/keys/" + id + "/public?format=pem", Bearer(bearer));
  ASSERT_TRUE(pub);
  ASSERT_EQ(pub->status, 200) << pub->body;
  BIO* bio = BIO_new_mem_buf(pub->body.data(), static_cast<int>(pub->body.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pkey, nullptr) << pub->body;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(md, signature->data(), signature->size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);

  // The server's own verify agrees, and says false for another message.
  auto ok = c->Post("/v1/tokens/rest/keys/" + id + "/verify", Bearer(bearer),
                    json{{"mechanism", "CKM_EDDSA"}, {"data", to_base64url(as_bytes(message))},
                         {"signature", to_base64url(*signature)}}.dump(),
                    "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(json::parse(ok->body).at("valid"), true) << ok->body;
  auto bad = c->Post("/v1/tokens/rest/keys/" + id + "/verify", Bearer(bearer),
                     json{{"mechanism", "EDDSA"}, {"data", to_base64url(as_bytes(std::string("other")))},
                          {"signature", to_base64url(*signature)}}.dump(),
                     "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(json::parse(bad->body).at("valid"), false) << bad->body;

  auto list = c->Get("/v1/tokens/rest/keys?label=k1", Bearer(bearer));
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body).at("keys").size(), 1u) << list->body;

  auto del = c->Delete("/v1/tokens/rest/keys/" + id, Bearer(bearer));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  Problem(c->Get("/v1/tokens/rest/keys/" + id, Bearer(bearer)), 404, "CKR_KEY_HANDLE_INVALID");

  auto out = c->Post("/v1/tokens/rest/logout", Bearer(bearer), "", "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  Problem(c->Get("/v1/tokens/rest/keys", Bearer(bearer)), 401, "CKR_SESSION_HANDLE_INVALID");
}

TEST_F(RestTest, TokensHealthRandomAndTheDocument) {
  auto c = Client(test_pki().app1);
  auto tokens = c->Get("/v1/tokens");
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->status, 200);
  json t = json::parse(tokens->body).at("tokens");
  // The rule shows app1 "rest" and "rest2" only, not the empty slot's token.
  std::set<std::string> labels;
  for (const auto& x : t) labels.insert(x.at("label"));
  EXPECT_EQ(labels, (std::set<std::string>{"rest", "rest2"})) << tokens->body;
  EXPECT_EQ(c->Get("/livez")->status, 200);
  EXPECT_EQ(c->Get("/readyz")->status, 200);
  auto doc = c->Get("/v1/openapi.json");
  ASSERT_TRUE(doc);
  EXPECT_EQ(json::parse(doc->body).at("openapi"), "3.1.0");
  auto rnd = c->Post("/v1/random", json{{"bytes", 48}}.dump(), "application/json");
  ASSERT_TRUE(rnd);
  ASSERT_EQ(rnd->status, 200) << rnd->body;
  EXPECT_EQ(from_base64url(json::parse(rnd->body).at("random").get<std::string>())->size(), 48u);
  Problem(c->Post("/v1/random", json{{"bytes", 4096}}.dump(), "application/json"), 400, "CKR_ARGUMENTS_BAD");
}

TEST_F(RestTest, RefusalsAreProblemsThatNameTheCode) {
  auto c = Client(test_pki().app1);
  json wrong = Problem(c->Post("/v1/tokens/rest/login", json{{"pin", "not-the-pin"}}.dump(), "application/json"), 401,
                       "CKR_PIN_INCORRECT");
  EXPECT_EQ(wrong.dump().find("not-the-pin"), std::string::npos);  // never the PIN
  Problem(c->Post("/v1/tokens/nope/login", json{{"pin", kPin}}.dump(), "application/json"), 404,
          "CKR_TOKEN_NOT_PRESENT");
  Problem(c->Get("/v1/tokens/rest/keys"), 401, "CKR_USER_NOT_LOGGED_IN");
  Problem(c->Post("/v1/tokens/rest/login", "{not json", "application/json"), 400, "CKR_ARGUMENTS_BAD");
  Problem(c->Get("/v1/nothing-here"), 404, "CKR_FUNCTION_NOT_SUPPORTED");

  std::string bearer = Login(*c);
  ASSERT_FALSE(bearer.empty());
  auto gen = c->Post("/v1/tokens/rest/keys", Bearer(bearer), json{{"type", "ec"}, {"curve", "P-256"}}.dump(),
                     "application/json");
  ASSERT_TRUE(gen);
  ASSERT_EQ(gen->status, 201) << gen->body;
  const std::string id = json::parse(gen->body).at("id");
  Problem(c->Post("/v1/tokens/rest/keys/" + id + "/sign", Bearer(bearer),
                  json{{"mechanism", "NOT_A_MECHANISM"}, {"data", "AAAA"}}.dump(), "application/json"),
          400, "CKR_MECHANISM_INVALID");
  Problem(c->Post("/v1/tokens/rest/keys/" + id + "/sign", Bearer(bearer),
                  json{{"mechanism", "ECDSA_SHA256"}, {"data", std::string(8000, 'A')}}.dump(), "application/json"),
          413, "CKR_DATA_LEN_RANGE");

  // A bearer is bound to the certificate it was issued to.
  auto other = Client(test_pki().app2);
  Problem(other->Get("/v1/tokens/rest/keys", Bearer(bearer)), 401, "CKR_SESSION_HANDLE_INVALID");
}

TEST_F(RestTest, AesGcmRoundTripsAndHmacVerifies) {
  auto c = Client(test_pki().app1);
  std::string bearer = Login(*c);
  ASSERT_FALSE(bearer.empty());
  auto gen = c->Post("/v1/tokens/rest/keys", Bearer(bearer), json{{"type", "aes"}, {"bits", 256}}.dump(), "application/json");
  ASSERT_TRUE(gen);
  ASSERT_EQ(gen->status, 201) << gen->body;
  const std::string aes = json::parse(gen->body).at("id");
  const std::string secret = "attack at dawn";
  const std::string aad = to_base64url(as_bytes(std::string("header")));
  auto enc = c->Post("/v1/tokens/rest/keys/" + aes + "/encrypt", Bearer(bearer),
                     json{{"mechanism", "AES_GCM"}, {"parameters", {{"aad", aad}}},
                          {"plaintext", to_base64url(as_bytes(secret))}}.dump(),
                     "application/json");
  ASSERT_TRUE(enc);
  ASSERT_EQ(enc->status, 200) << enc->body;
  json e = json::parse(enc->body);
  ASSERT_TRUE(e.contains("iv"));  // chosen by the server
  EXPECT_EQ(from_base64url(e.at("ciphertext").get<std::string>())->size(), secret.size() + 16);
  auto dec = c->Post("/v1/tokens/rest/keys/" + aes + "/decrypt", Bearer(bearer),
                     json{{"mechanism", "AES_GCM"}, {"parameters", {{"iv", e.at("iv")}, {"aad", aad}}},
                          {"ciphertext", e.at("ciphertext")}}.dump(),
                     "application/json");
  ASSERT_TRUE(dec);
  ASSERT_EQ(dec->status, 200) << dec->body;
  auto plain = from_base64url(json::parse(dec->body).at("plaintext").get<std::string>());
  EXPECT_EQ(std::string(plain->begin(), plain->end()), secret);
  // Another AAD: the tag does not verify.
  Problem(c->Post("/v1/tokens/rest/keys/" + aes + "/decrypt", Bearer(bearer),
                  json{{"mechanism", "AES_GCM"}, {"parameters", {{"iv", e.at("iv")}}},
                       {"ciphertext", e.at("ciphertext")}}.dump(),
                  "application/json"),
          400, "CKR_ENCRYPTED_DATA_INVALID");

  auto hgen = c->Post("/v1/tokens/rest/keys", Bearer(bearer), json{{"type", "hmac"}}.dump(), "application/json");
  ASSERT_TRUE(hgen);
  ASSERT_EQ(hgen->status, 201) << hgen->body;
  const std::string hmac = json::parse(hgen->body).at("id");
  const std::string data = to_base64url(as_bytes(std::string("mac me")));
  auto mac = c->Post("/v1/tokens/rest/keys/" + hmac + "/mac", Bearer(bearer),
                     json{{"mechanism", "SHA256_HMAC"}, {"data", data}}.dump(), "application/json");
  ASSERT_TRUE(mac);
  ASSERT_EQ(mac->status, 200) << mac->body;
  json m = json::parse(mac->body);
  EXPECT_EQ(from_base64url(m.at("mac").get<std::string>())->size(), 32u);
  auto ver = c->Post("/v1/tokens/rest/keys/" + hmac + "/verify", Bearer(bearer),
                     json{{"mechanism", "SHA256_HMAC"}, {"data", data}, {"signature", m.at("mac")}}.dump(),
                     "application/json");
  ASSERT_TRUE(ver);
  EXPECT_EQ(json::parse(ver->body).at("valid"), true) << ver->body;
}

TEST_F(RestTest, ACertificateFromAnotherCaIsRefusedAtTheHandshake) {
  auto c = Client(test_pki().other_ca_app1);
  auto res = c->Get("/v1/tokens");
  EXPECT_FALSE(res);  // no HTTP answer at all
}

}  // namespace
}  // namespace ferrohsm::server::rest
