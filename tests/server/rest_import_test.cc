// POST /v1/tokens/{token}/keys:import (docs/REST.md): PKCS#8 keys made by `openssl
// genpkey` sign over REST and `openssl` verifies; a PKCS#12 brings its key, certificate
// and chain, and a wrong password is a problem that does not hold it; a certificate
// alone; imported private keys are unextractable; garbage is refused and the server
// keeps serving.
#include "rest_fixture.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ferrohsm::server::rest {
namespace {

const std::string kImport = "/v1/tokens/rest/keys:import";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

// Runs an openssl command line (no secret on it: passwords go through files).
int sh(const std::string& cmd) { return std::system((cmd + " 2>/dev/null").c_str()); }

std::string b64url(const std::string& s) { return to_base64url(as_bytes(s)); }

// PKCS#11 ECDSA signatures are r||s; openssl dgst wants the DER form.
std::string ecdsa_der(const Bytes& raw) {
  const size_t half = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), static_cast<int>(half), nullptr),
                 BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len > 0 ? len : 0));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

class RestImportTest : public RestTest {
 protected:
  std::string F(const std::string& name) const { return dir_ + "/" + name; }

  // Signs `message` over REST with the key and checks the signature with `openssl dgst`
  // against the public key in `pub_pem`.
  void SignAndOpenSslVerifies(httplib::SSLClient& c, const std::string& s, const std::string& id, const char* mech,
                              bool ecdsa, const std::string& pub_pem) {
    const std::string message = "imported, signed over REST";
    json sig = PostOk(c, "/v1/tokens/rest/keys/" + id + "/sign", s, {{"mechanism", mech}, {"data", b64url(message)}});
    ASSERT_TRUE(sig.is_object());
    auto raw = from_base64url(sig.at("signature").get<std::string>());
    ASSERT_TRUE(raw);
    Bytes bytes(raw->begin(), raw->end());
    spit(F("msg"), message);
    spit(F("sig"), ecdsa ? ecdsa_der(bytes) : std::string(bytes.begin(), bytes.end()));
    EXPECT_EQ(sh("openssl dgst -sha256 -verify " + pub_pem + " -signature " + F("sig") + " " + F("msg")), 0)
        << mech << ": openssl does not verify the signature";
  }
};

TEST_F(RestImportTest, Pkcs8KeysFromOpenSslSignAndOpenSslVerifies) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + F("rsa.pem")), 0);
  ASSERT_EQ(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out " + F("ec.der")), 0);
  ASSERT_EQ(sh("openssl pkey -in " + F("rsa.pem") + " -pubout -out " + F("rsa.pub")), 0);
  ASSERT_EQ(sh("openssl pkey -inform DER -in " + F("ec.der") + " -pubout -out " + F("ec.pub")), 0);

  // RSA as PEM text, EC as base64url DER.
  json rsa = PostOk(*c, kImport, s, {{"format", "pkcs8"}, {"pem", slurp(F("rsa.pem"))}, {"label", "rsa-in"}}, 201);
  ASSERT_TRUE(rsa.is_object());
  EXPECT_EQ(rsa.at("kind"), "private key (rsa)");
  ASSERT_EQ(rsa.at("objects").size(), 2u) << rsa.dump();
  EXPECT_EQ(rsa.at("objects")[0].at("class"), "private");
  EXPECT_EQ(rsa.at("objects")[0].at("label"), "rsa-in");
  EXPECT_EQ(rsa.at("objects")[1].at("class"), "public");
  json ec = PostOk(*c, kImport, s,
                   {{"format", "pkcs8"}, {"data", b64url(slurp(F("ec.der")))}, {"label", "ec-in"}, {"id", "0a0b0c"}}, 201);
  ASSERT_TRUE(ec.is_object());
  EXPECT_EQ(ec.at("objects")[0].at("type"), "ec");

  const std::string rsa_id = rsa.at("objects")[0].at("id"), ec_id = ec.at("objects")[0].at("id");
  SignAndOpenSslVerifies(*c, s, rsa_id, "SHA256_RSA_PKCS", false, F("rsa.pub"));
  SignAndOpenSslVerifies(*c, s, ec_id, "ECDSA_SHA256", true, F("ec.pub"));
  // The server's verify finds the imported public half (same CKA_ID).
  json sig = PostOk(*c, "/v1/tokens/rest/keys/" + ec_id + "/sign", s, {{"mechanism", "ECDSA_SHA256"}, {"data", "AQID"}});
  ASSERT_TRUE(sig.is_object());
  json ok = PostOk(*c, "/v1/tokens/rest/keys/" + ec_id + "/verify", s,
                   {{"mechanism", "ECDSA_SHA256"}, {"data", "AQID"}, {"signature", sig.at("signature")}});
  EXPECT_EQ(ok.value("valid", false), true);

  // Imported private keys are sensitive and unextractable: no wrap takes them out.
  const std::string kek = Generate(*c, s, {{"type", "aes"}, {"usages", {"wrap", "unwrap"}}});
  Problem(PostJson(*c, "/v1/tokens/rest/keys/" + kek + "/wrap", s, {{"mechanism", "AES_KEY_WRAP_PAD"}, {"key", ec_id}}),
          403, "CKR_KEY_UNEXTRACTABLE");
}

TEST_F(RestImportTest, APkcs12BringsKeyCertificateAndChainAndAWrongPasswordIsNotEchoed) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  const std::string password = "p12-Secret-Password";
  spit(F("pw"), password + "\n");
  ASSERT_EQ(sh("openssl pkcs12 -export -inkey " + test_pki().app1.key + " -in " + test_pki().app1.cert + " -certfile " +
               test_pki().ca + " -passout file:" + F("pw") + " -out " + F("app1.p12")),
            0);
  const std::string p12 = b64url(slurp(F("app1.p12")));

  json wrong = Problem(PostJson(*c, kImport, s, {{"format", "pkcs12"}, {"data", p12}, {"password", "not-the-password"}}),
                       400, "CKR_ENCRYPTED_DATA_INVALID");
  EXPECT_EQ(wrong.dump().find("not-the-password"), std::string::npos);
  // Nothing was created.
  auto none = c->Get("/v1/tokens/rest/keys?label=from-p12", Bearer(s));
  ASSERT_TRUE(none);
  EXPECT_EQ(json::parse(none->body).at("keys").size(), 0u) << none->body;

  json got = PostOk(*c, kImport, s, {{"format", "pkcs12"}, {"data", p12}, {"password", password}, {"label", "from-p12"}}, 201);
  ASSERT_TRUE(got.is_object());
  const json& objects = got.at("objects");
  ASSERT_EQ(objects.size(), 4u) << got.dump();  // private, public, certificate, the CA
  EXPECT_EQ(objects[0].at("class"), "private");
  EXPECT_EQ(objects[1].at("class"), "public");
  EXPECT_EQ(objects[2].at("class"), "certificate");
  EXPECT_EQ(objects[3].at("class"), "certificate");
  EXPECT_EQ(got.dump().find(password), std::string::npos);
  auto cert = c->Get("/v1/tokens/rest/keys/" + objects[2].at("id").get<std::string>(), Bearer(s));
  ASSERT_TRUE(cert);
  ASSERT_EQ(cert->status, 200) << cert->body;
  EXPECT_EQ(json::parse(cert->body).at("type"), "x509");
  spit(F("app1.pub"), "");
  ASSERT_EQ(sh("openssl x509 -in " + test_pki().app1.cert + " -pubkey -noout -out " + F("app1.pub")), 0);
  SignAndOpenSslVerifies(*c, s, objects[0].at("id"), "ECDSA_SHA256", true, F("app1.pub"));

  // The certificate shares the key's CKA_ID: deleting it leaves the pair whole.
  auto del = c->Delete("/v1/tokens/rest/keys/" + objects[2].at("id").get<std::string>(), Bearer(s));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  const std::string key = objects[0].at("id");
  json sig = PostOk(*c, "/v1/tokens/rest/keys/" + key + "/sign", s, {{"mechanism", "ECDSA_SHA256"}, {"data", "AQID"}});
  ASSERT_TRUE(sig.is_object());
  json ok = PostOk(*c, "/v1/tokens/rest/keys/" + key + "/verify", s,
                   {{"mechanism", "ECDSA_SHA256"}, {"data", "AQID"}, {"signature", sig.at("signature")}});
  EXPECT_EQ(ok.value("valid", false), true);
}

TEST_F(RestImportTest, ACertificateAloneAndGarbageIsRefused) {
  auto c = Client(test_pki().app1);
  const std::string s = Login(*c);
  ASSERT_FALSE(s.empty());
  json got = PostOk(*c, kImport, s, {{"format", "certificate"}, {"pem", slurp(test_pki().ca)}, {"label", "the-ca"}}, 201);
  ASSERT_TRUE(got.is_object());
  ASSERT_EQ(got.at("objects").size(), 1u);
  const std::string id = got.at("objects")[0].at("id");
  auto shown = c->Get("/v1/tokens/rest/keys/" + id, Bearer(s));
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(json::parse(shown->body).at("class"), "certificate");
  EXPECT_EQ(json::parse(shown->body).at("label"), "the-ca");

  Problem(PostJson(*c, kImport, s, {{"format", "pkcs8"}, {"data", b64url("no key in here")}}), 400, "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, kImport, s, {{"format", "pkcs12"}, {"data", b64url("no p12 either")}, {"password", "x"}}), 400,
          "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, kImport, s, {{"format", "pkcs8"}, {"pem", slurp(test_pki().ca)}}), 400, "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, kImport, s, {{"format", "jks"}, {"data", "AAAA"}}), 400, "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, kImport, s, {{"format", "pkcs8"}, {"data", "%%%"}}), 400, "CKR_ARGUMENTS_BAD");
  Problem(PostJson(*c, kImport, s, {{"format", "pkcs8"}}), 400, "CKR_ARGUMENTS_BAD");
  Problem(c->Post(kImport, json{{"format", "pkcs8"}, {"data", "AAAA"}}.dump(), "application/json"), 401,
          "CKR_USER_NOT_LOGGED_IN");
  // The colon route is its own: GET …/keys/{key} does not take "keys:import".
  Problem(c->Get("/v1/tokens/rest/keys:import", Bearer(s)), 404, "CKR_FUNCTION_NOT_SUPPORTED");
  auto live = c->Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

}  // namespace
}  // namespace ferrohsm::server::rest
