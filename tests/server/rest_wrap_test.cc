// Wrapping and unwrapping over REST (docs/REST.md): a key wrapped with AES key wrap and
// with RSA-OAEP (with a label) comes back as a new key that decrypts what the original
// encrypted, or signs what the original verifies; the PKCS#11 and hardening refusals
// arrive as their documented problems, and the server keeps serving.
#include "rest_fixture.h"

namespace ferrohsm::server::rest {
namespace {

const std::string kKeys = "/v1/tokens/rest/keys/";

std::string b64(const std::string& s) { return to_base64url(as_bytes(s)); }

std::string text_of(const json& j, const char* field) {
  auto b = from_base64url(j.at(field).get<std::string>());
  return b ? std::string(b->begin(), b->end()) : "<not base64url>";
}

TEST_F(RestTest, AWrappedKeyUnwrapsIntoAKeyThatDecryptsWhatTheOriginalEncrypted) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  const std::string kek = Generate(*c, s, {{"type", "aes"}, {"usages", {"wrap", "unwrap"}}});
  const std::string data_key = Generate(*c, s, {{"type", "aes"}, {"extractable", true}});
  ASSERT_FALSE(kek.empty());
  ASSERT_FALSE(data_key.empty());
  json enc = PostOk(*c, kKeys + data_key + "/encrypt", s,
                    {{"mechanism", "AES_GCM"}, {"plaintext", b64("wrapped and back")}});
  ASSERT_TRUE(enc.is_object());
  json cbc = PostOk(*c, kKeys + data_key + "/encrypt", s, {{"mechanism", "AES_CBC_PAD"}, {"plaintext", b64("cbc too")}});
  ASSERT_TRUE(cbc.is_object());
  ASSERT_TRUE(cbc.contains("iv"));

  for (const char* mech : {"AES_KEY_WRAP_PAD", "AES_KEY_WRAP"}) {
    SCOPED_TRACE(mech);
    json w = PostOk(*c, kKeys + kek + "/wrap", s, {{"mechanism", mech}, {"key", data_key}});
    ASSERT_TRUE(w.is_object());
    // RFC 3394 adds 8 bytes; PKCS#11's _PAD first pads the 32-byte key to 48 (PKCS#7).
    EXPECT_EQ(from_base64url(w.at("wrapped").get<std::string>())->size(), std::string(mech) == "AES_KEY_WRAP" ? 40u : 56u);
    json k = PostOk(*c, kKeys + kek + "/unwrap", s,
                    {{"mechanism", mech}, {"wrapped", w.at("wrapped")},
                     {"template", {{"type", "aes"}, {"label", "back"}, {"usages", {"decrypt"}}}}},
                    201);
    ASSERT_TRUE(k.is_object());
    EXPECT_NE(k.at("id"), data_key);
    EXPECT_EQ(k.at("label"), "back");
    EXPECT_EQ(k.at("class"), "secret");
    json dec = PostOk(*c, kKeys + k.at("id").get<std::string>() + "/decrypt", s,
                      {{"mechanism", "AES_GCM"}, {"parameters", {{"iv", enc.at("iv")}}}, {"ciphertext", enc.at("ciphertext")}});
    ASSERT_TRUE(dec.is_object());
    EXPECT_EQ(text_of(dec, "plaintext"), "wrapped and back");
    json dec_cbc = PostOk(*c, kKeys + k.at("id").get<std::string>() + "/decrypt", s,
                          {{"mechanism", "AES_CBC_PAD"}, {"parameters", {{"iv", cbc.at("iv")}}},
                           {"ciphertext", cbc.at("ciphertext")}});
    ASSERT_TRUE(dec_cbc.is_object());
    EXPECT_EQ(text_of(dec_cbc, "plaintext"), "cbc too");
    // It was given decrypt only.
    Problem(PostJson(*c, kKeys + k.at("id").get<std::string>() + "/encrypt", s,
                     {{"mechanism", "AES_GCM"}, {"plaintext", b64("x")}}),
            403, "CKR_KEY_FUNCTION_NOT_PERMITTED");
  }
}

TEST_F(RestTest, RsaOaepWrapsWithItsLabelAndAPrivateKeyUnwrapsToSign) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  const std::string rsa = Generate(*c, s, {{"type", "rsa"}, {"usages", {"wrap", "unwrap"}}});
  // RSA-2048 gives 112 bits of security: the hardening rules let it wrap no stronger
  // sensitive key, so the key wrapped is a 112-bit HMAC key.
  const std::string mac_key = Generate(*c, s, {{"type", "hmac"}, {"bits", 112}, {"extractable", true}});
  ASSERT_FALSE(rsa.empty());
  ASSERT_FALSE(mac_key.empty());
  const json oaep = {{"hash", "SHA384"}, {"mgf", "MGF1_SHA384"}, {"label", b64("tenant-7")}};
  json w = PostOk(*c, kKeys + rsa + "/wrap", s, {{"mechanism", "RSA_PKCS_OAEP"}, {"parameters", oaep}, {"key", mac_key}});
  ASSERT_TRUE(w.is_object());
  EXPECT_EQ(from_base64url(w.at("wrapped").get<std::string>())->size(), 256u);
  // Another label: the OAEP check fails.
  json other = oaep;
  other["label"] = b64("tenant-8");
  Problem(PostJson(*c, kKeys + rsa + "/unwrap", s,
                   {{"mechanism", "RSA_PKCS_OAEP"}, {"parameters", other}, {"wrapped", w.at("wrapped")},
                    {"template", {{"type", "hmac"}}}}),
          400, "CKR_WRAPPED_KEY_INVALID");
  json k = PostOk(*c, kKeys + rsa + "/unwrap", s,
                  {{"mechanism", "RSA_PKCS_OAEP"}, {"parameters", oaep}, {"wrapped", w.at("wrapped")},
                   {"template", {{"type", "hmac"}}}},
                  201);
  ASSERT_TRUE(k.is_object());
  // The copy computes the original's MACs.
  json mac1 = PostOk(*c, kKeys + mac_key + "/mac", s, {{"mechanism", "SHA256_HMAC"}, {"data", b64("same key")}});
  json mac2 = PostOk(*c, kKeys + k.at("id").get<std::string>() + "/mac", s,
                     {{"mechanism", "SHA256_HMAC"}, {"data", b64("same key")}});
  ASSERT_TRUE(mac1.is_object() && mac2.is_object());
  EXPECT_EQ(mac1.at("mac"), mac2.at("mac"));

  // An EC private key wrapped as PKCS#8 under an AES key comes back and signs what the
  // original's public half verifies.
  const std::string kek = Generate(*c, s, {{"type", "aes"}, {"usages", {"wrap", "unwrap"}}});
  const std::string ec = Generate(*c, s, {{"type", "ec"}, {"extractable", true}});
  ASSERT_FALSE(ec.empty());
  json we = PostOk(*c, kKeys + kek + "/wrap", s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"key", ec}});
  ASSERT_TRUE(we.is_object());
  Problem(PostJson(*c, kKeys + kek + "/unwrap", s,
                   {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", we.at("wrapped")},
                    {"template", {{"type", "ec"}, {"usages", {"sign", "verify"}}}}}),
          400, "CKR_ARGUMENTS_BAD");  // verify is the public half's: unwrap makes none
  json ke = PostOk(*c, kKeys + kek + "/unwrap", s,
                   {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", we.at("wrapped")}, {"template", {{"type", "ec"}}}}, 201);
  ASSERT_TRUE(ke.is_object());
  EXPECT_EQ(ke.at("class"), "private");
  json sig = PostOk(*c, kKeys + ke.at("id").get<std::string>() + "/sign", s,
                    {{"mechanism", "ECDSA_SHA256"}, {"data", b64("signed by the copy")}});
  ASSERT_TRUE(sig.is_object());
  json ok = PostOk(*c, kKeys + ec + "/verify", s,
                   {{"mechanism", "ECDSA_SHA256"}, {"data", b64("signed by the copy")}, {"signature", sig.at("signature")}});
  EXPECT_EQ(ok.value("valid", false), true);
}

TEST_F(RestTest, WrapRefusalsAreTheirDocumentedProblems) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  const std::string kek = Generate(*c, s, {{"type", "aes"}, {"usages", {"wrap", "unwrap"}}});
  const std::string sealed = Generate(*c, s, {{"type", "aes"}});  // unextractable by default
  const std::string open = Generate(*c, s, {{"type", "aes"}, {"extractable", true}});
  const std::string pair = Generate(*c, s, {{"type", "ec"}, {"usages", {"sign", "verify"}}});
  ASSERT_FALSE(kek.empty() || sealed.empty() || open.empty() || pair.empty());
  const std::string wrap = kKeys + kek + "/wrap";

  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"key", sealed}}), 403, "CKR_KEY_UNEXTRACTABLE");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "NOT_A_WRAP"}, {"key", open}}), 400, "CKR_MECHANISM_INVALID");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "SHA256_HMAC"}, {"key", open}}), 400, "CKR_MECHANISM_INVALID");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"parameters", {{"iv", "AAAA"}}}, {"key", open}}),
          400, "CKR_MECHANISM_PARAM_INVALID");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_GCM"}, {"parameters", {{"tag_bits", "many"}}}, {"key", open}}),
          400, "CKR_MECHANISM_PARAM_INVALID");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_GCM"}, {"parameters", {{"tag_bits", 12}}}, {"key", open}}), 400,
          "CKR_MECHANISM_PARAM_INVALID");
  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}}), 400, "CKR_ARGUMENTS_BAD");  // no "key"
  Problem(PostJson(*c, wrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"key", "no-such-key"}}), 404,
          "CKR_KEY_HANDLE_INVALID");
  // The EC pair's public half has no CKA_WRAP; an AES key without wrap usage neither.
  Problem(PostJson(*c, kKeys + open + "/wrap", s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"key", open}}), 403,
          "CKR_KEY_FUNCTION_NOT_PERMITTED");

  // AES-GCM wraps too; the IV the server chose comes back and unwraps it.
  json w = PostOk(*c, wrap, s, {{"mechanism", "AES_GCM"}, {"key", open}});
  ASSERT_TRUE(w.is_object());
  ASSERT_TRUE(w.contains("iv"));
  const std::string unwrap = kKeys + kek + "/unwrap";
  PostOk(*c, unwrap, s,
         {{"mechanism", "AES_GCM"}, {"parameters", {{"iv", w.at("iv")}}}, {"wrapped", w.at("wrapped")},
          {"template", {{"type", "aes"}}}},
         201);
  Problem(PostJson(*c, unwrap, s,
                   {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", b64(std::string(24, 'x'))},
                    {"template", {{"type", "aes"}}}}),
          400, "CKR_WRAPPED_KEY_INVALID");
  Problem(PostJson(*c, unwrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", w.at("wrapped")}}), 400,
          "CKR_ARGUMENTS_BAD");  // no template
  Problem(PostJson(*c, unwrap, s,
                   {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", w.at("wrapped")}, {"template", {{"type", "dsa"}}}}),
          400, "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, unwrap, s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"wrapped", "***"}, {"template", {{"type", "aes"}}}}),
          400, "CKR_ARGUMENTS_BAD");
  auto live = c->Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

}  // namespace
}  // namespace ferrohsm::server::rest
