#include "gcp_credentials.h"
#include "ferrohsm/signer/cloud/json_fields.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <sstream>

#include "base/bytes.h"
#include "base/base64.h"

namespace ferrohsm::signer::cloud {

using nlohmann::json;

namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using RsaKey = std::shared_ptr<EVP_PKEY>;

std::string b64url(std::string_view s) { return to_base64url(as_bytes(s)); }

// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over the JWT's signing input.
Result<std::string> rs256(EVP_PKEY* key, const std::string& input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Error::internal("gcp-kms: OpenSSL could not sign the token request (RS256)");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Error::internal("gcp-kms: OpenSSL could not sign the token request (RS256)");
  sig.resize(len);
  return sig;
}

Result<GcpTokenSource> from_service_account(const GcpKmsSettings& s, const std::string& path, HttpClient& http,
                                            RetryPolicy policy) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid("gcp-kms: cannot read the service-account key file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || cloud::text(j, "type") != "service_account" || !j.contains("client_email") ||
      !j.contains("private_key"))
    return Error::invalid("gcp-kms: " + path + " is not a service-account key (type service_account, client_email, private_key)");
  std::string pem = cloud::text(j, "private_key");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  RsaKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), PkeyFree{});
  secure_wipe(pem.data(), pem.size());
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return Error::invalid("gcp-kms: the private_key of " + path + " is not an RSA key in PEM");
  std::string email = cloud::text(j, "client_email");
  std::string key_id = cloud::text(j, "private_key_id");
  std::string token_uri = !s.token_endpoint.empty() ? s.token_endpoint
                                                     : !cloud::text(j, "token_uri").empty() ? cloud::text(j, "token_uri")
                                                                                    : "https://oauth2.googleapis.com/token";
  if (auto c = check_endpoint("the token endpoint", token_uri); !c) return c.error();
  GcpTokenSource src;
  src.description = "service account " + email + " (token endpoint " + token_uri + ")";
  src.fetch = [key, email, key_id, token_uri, &http, policy](const Context& ctx) -> Result<BearerToken> {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    if (!key_id.empty()) header["kid"] = key_id;
    json claims = {{"iss", email}, {"scope", kCloudKmsScope}, {"aud", token_uri},
                   {"iat", now.count()}, {"exp", now.count() + 3600}};
    std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    auto sig = rs256(key.get(), input);
    if (!sig) return sig.error();
    std::string assertion = input + "." + b64url(*sig);
    std::pair<std::string, std::string> fields[] = {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                                    {"assertion", assertion}};
    HttpRequest req{"POST", token_uri, {{"Content-Type", "application/x-www-form-urlencoded"}}, form_encode(fields)};
    return fetch_token(ctx, http, policy, "gcp-kms token endpoint", req, {assertion});
  };
  return src;
}
}  // namespace

Result<GcpTokenSource> gcp_token_source(const GcpKmsSettings& s, HttpClient& http, RetryPolicy policy) {
  std::string file = !s.credentials_file.empty() ? s.credentials_file
                                                  : s.env("GOOGLE_APPLICATION_CREDENTIALS").value_or("");
  if (!file.empty()) return from_service_account(s, file, http, policy);
  // The metadata server is plain http on the link-local interface by design (GCE, GKE).
  std::string host = !s.metadata_host.empty() ? s.metadata_host
                                               : s.env("GCE_METADATA_HOST").value_or("metadata.google.internal");
  std::string url = "http://" + host + "/computeMetadata/v1/instance/service-accounts/default/token?scopes=" +
                    percent_encode(kCloudKmsScope);
  GcpTokenSource src;
  src.description = "the metadata server " + host;
  src.fetch = [url, &http, policy](const Context& ctx) -> Result<BearerToken> {
    HttpRequest req{"GET", url, {{"Metadata-Flavor", "Google"}}, ""};
    return fetch_token(ctx, http, policy, "gcp-kms metadata server", req, {});
  };
  return src;
}

}  // namespace ferrohsm::signer::cloud
