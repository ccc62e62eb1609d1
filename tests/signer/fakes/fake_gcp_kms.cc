#include "fakes/fake_gcp_kms.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/base64.h"

namespace ferrohsm::signer::testing {

using nlohmann::json;

std::uint32_t crc32c_bitwise(std::string_view data) {
  std::uint32_t crc = ~0u;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

namespace {
void gerr(httplib::Response& res, int http, const std::string& status, const std::string& message) {
  res.status = http;
  res.set_content(json{{"error", {{"code", http}, {"message", message}, {"status", status}}}}.dump(), "application/json");
}

std::optional<std::string> b64url_decode(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  auto bytes = from_base64(s);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

std::string pem_of(const ed25519::Pkey& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string bytes_text(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }
}  // namespace

FakeGcpKms::FakeGcpKms() {
  account_key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), EVP_PKEY_free);
  http().Post("/token", [this](const httplib::Request& q, httplib::Response& r) { handle_token(q, r); });
  http().Get("/computeMetadata/v1/instance/service-accounts/default/token",
             [this](const httplib::Request& q, httplib::Response& r) { handle_metadata(q, r); });
  http().Get(R"(/v1/(.+))", [this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
  http().Post(R"(/v1/(.+))", [this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
  start();
}

std::string FakeGcpKms::service_account_json() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), account_key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return json{{"type", "service_account"},
              {"project_id", "signer-test"},
              {"private_key_id", "0123456789abcdef"},
              {"private_key", std::string(data, static_cast<std::size_t>(n))},
              {"client_email", kEmail},
              {"token_uri", token_url()}}
      .dump(2);
}

void FakeGcpKms::set_token_lifetime(std::chrono::seconds s) {
  std::lock_guard lock(mu_);
  token_life_ = s;
}
int FakeGcpKms::tokens_issued() const {
  std::lock_guard lock(mu_);
  return issued_;
}
void FakeGcpKms::expire_tokens() {
  std::lock_guard lock(mu_);
  for (auto& [t, until] : tokens_) until = std::chrono::steady_clock::now();
}
void FakeGcpKms::revoke_service_account() {
  std::lock_guard lock(mu_);
  revoked_ = true;
}
bool FakeGcpKms::key_ring_exists() const {
  std::lock_guard lock(mu_);
  return ring_;
}
void FakeGcpKms::corrupt_signature_crc(int n) {
  std::lock_guard lock(mu_);
  corrupt_crc_ = n;
}
void FakeGcpKms::skip_data_crc_verification(int n) {
  std::lock_guard lock(mu_);
  skip_verified_ = n;
}
int FakeGcpKms::sign_calls() const {
  std::lock_guard lock(mu_);
  return sign_calls_;
}

std::string FakeGcpKms::import_key(const std::string& id, std::span<const std::uint8_t, 32> seed) {
  std::lock_guard lock(mu_);
  ring_ = true;
  std::string key = std::string(kKeyRing) + "/cryptoKeys/" + id;
  keys_[key] = {{"purpose", "ASYMMETRIC_SIGN"}, {"algorithm", "EC_SIGN_ED25519"}, {"protectionLevel", "HSM"}};
  versions_[key + "/cryptoKeyVersions/1"] = Version{"ENABLED", ed25519::from_private_seed(seed).value()};
  return key + "/cryptoKeyVersions/1";
}

void FakeGcpKms::set_version_state(const std::string& v, const std::string& state) {
  std::lock_guard lock(mu_);
  if (auto it = versions_.find(v); it != versions_.end()) it->second.state = state;
}

void FakeGcpKms::forget_key(const std::string& v) {
  std::lock_guard lock(mu_);
  versions_.erase(v);
  keys_.erase(v.substr(0, v.find("/cryptoKeyVersions/")));
}

std::string FakeGcpKms::version_state(const std::string& v) const {
  std::lock_guard lock(mu_);
  auto it = versions_.find(v);
  return it == versions_.end() ? "" : it->second.state;
}

std::string FakeGcpKms::issue_token() {
  std::vector<std::uint8_t> r(16);
  RAND_bytes(r.data(), 16);
  std::string token = "ya29.fake-" + std::to_string(++issued_) + "-" + to_hex(r);
  tokens_[token] = std::chrono::steady_clock::now() + token_life_;
  return token;
}

void FakeGcpKms::handle_token(const httplib::Request& req, httplib::Response& res) {
  auto refuse = [&](const std::string& why) {
    res.status = 400;
    res.set_content(json{{"error", "invalid_grant"}, {"error_description", why}}.dump(), "application/json");
  };
  if (req.get_param_value("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer")
    return refuse("unsupported grant_type");
  std::string jwt = req.get_param_value("assertion");
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  if (d1 == std::string::npos || d1 == d2) return refuse("Invalid JWT");
  auto header = b64url_decode(jwt.substr(0, d1)), claims_text = b64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1)),
       sig = b64url_decode(jwt.substr(d2 + 1));
  if (!header || !claims_text || !sig) return refuse("Invalid JWT encoding");
  json h = json::parse(*header, nullptr, false), c = json::parse(*claims_text, nullptr, false);
  if (!h.is_object() || h.value("alg", "") != "RS256") return refuse("Invalid JWT: alg must be RS256");
  std::string input = jwt.substr(0, d2);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, account_key_.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return refuse("Invalid JWT Signature.");
  long long now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!c.is_object() || c.value("iss", "") != kEmail || c.value("aud", "") != token_url() ||
      c.value("scope", "").find("https://www.googleapis.com/auth/cloudkms") == std::string::npos)
    return refuse("Invalid JWT claims (iss, aud, scope)");
  long long iat = c.value("iat", 0LL), exp = c.value("exp", 0LL);
  if (exp <= now || iat > now + 60 || exp - iat > 3600) return refuse("Invalid JWT: Token must be a short-lived token");
  std::lock_guard lock(mu_);
  if (revoked_) return refuse("Invalid JWT Signature.");  // what Google answers for a deleted key
  res.set_content(json{{"access_token", issue_token()}, {"expires_in", token_life_.count()}, {"token_type", "Bearer"}}.dump(),
                  "application/json");
}

void FakeGcpKms::handle_metadata(const httplib::Request& req, httplib::Response& res) {
  if (req.get_header_value("Metadata-Flavor") != "Google") {
    res.status = 403;
    return res.set_content("Missing Metadata-Flavor:Google header.", "text/plain");
  }
  std::lock_guard lock(mu_);
  res.set_content(json{{"access_token", issue_token()}, {"expires_in", token_life_.count()}, {"token_type", "Bearer"}}.dump(),
                  "application/json");
}

void FakeGcpKms::handle(const httplib::Request& req, httplib::Response& res) {
  std::string name = req.path.substr(4);  // after "/v1/"
  std::lock_guard lock(mu_);
  std::string auth = req.get_header_value("Authorization");
  auto token = tokens_.find(auth.starts_with("Bearer ") ? auth.substr(7) : "");
  if (token == tokens_.end() || std::chrono::steady_clock::now() >= token->second)
    return gerr(res, 401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.");
  json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (req.method == "POST" && !body.is_object()) return gerr(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  std::string ring = kKeyRing;
  auto version_json = [&](const std::string& v) {
    return json{{"name", v}, {"state", versions_[v].state}, {"algorithm", "EC_SIGN_ED25519"}, {"protectionLevel", "HSM"}};
  };
  auto key_json = [&](const std::string& k) {
    auto& f = keys_[k];
    return json{{"name", k},
                {"purpose", f["purpose"]},
                {"versionTemplate", {{"algorithm", f["algorithm"]}, {"protectionLevel", f["protectionLevel"]}}}};
  };
  auto enabled = [&](const std::string& v) -> bool {
    auto it = versions_.find(v);
    if (it == versions_.end()) return gerr(res, 404, "NOT_FOUND", "CryptoKeyVersion " + v + " not found."), false;
    if (it->second.state != "ENABLED")
      return gerr(res, 400, "FAILED_PRECONDITION",
                  v + " is not enabled, current state is: " + it->second.state + "."),
             false;
    return true;
  };

  if (req.method == "POST" && name == ring.substr(0, ring.rfind('/'))) {
    if (req.get_param_value("keyRingId") != ring.substr(ring.rfind('/') + 1))
      return gerr(res, 400, "INVALID_ARGUMENT", "unexpected keyRingId");
    if (ring_) return gerr(res, 409, "ALREADY_EXISTS", "KeyRing " + ring + " already exists.");
    ring_ = true;
    return res.set_content(json{{"name", ring}}.dump(), "application/json");
  }
  if (req.method == "POST" && name == ring + "/cryptoKeys") {
    if (!ring_) return gerr(res, 404, "NOT_FOUND", "KeyRing " + ring + " not found.");
    std::string id = req.get_param_value("cryptoKeyId");
    if (id.empty() || id.size() > 63 || id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
      return gerr(res, 400, "INVALID_ARGUMENT", "Invalid crypto key id: " + id);
    json labels = body.value("labels", json::object());
    for (const auto& [k, v] : labels.items())
      if (k.size() > 63 || !v.is_string() || v.get<std::string>().size() > 63 ||
          v.get<std::string>().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
        return gerr(res, 400, "INVALID_ARGUMENT", "Invalid label " + k);
    std::string key = ring + "/cryptoKeys/" + id;
    if (keys_.contains(key)) return gerr(res, 409, "ALREADY_EXISTS", "CryptoKey " + key + " already exists.");
    const json& t = body.value("versionTemplate", json::object());
    if (body.value("purpose", "") != "ASYMMETRIC_SIGN" || t.value("algorithm", "") != "EC_SIGN_ED25519")
      return gerr(res, 400, "INVALID_ARGUMENT", "this fake makes ASYMMETRIC_SIGN EC_SIGN_ED25519 keys");
    keys_[key] = {{"purpose", "ASYMMETRIC_SIGN"}, {"algorithm", "EC_SIGN_ED25519"},
                  {"protectionLevel", t.value("protectionLevel", "SOFTWARE")}};
    versions_[key + "/cryptoKeyVersions/1"] = Version{"ENABLED", ed25519::generate().value()};
    return res.set_content(key_json(key).dump(), "application/json");
  }
  if (req.method == "GET" && keys_.contains(name)) return res.set_content(key_json(name).dump(), "application/json");
  if (req.method == "GET" && versions_.contains(name)) return res.set_content(version_json(name).dump(), "application/json");
  if (req.method == "GET" && name.ends_with("/publicKey")) {
    std::string v = name.substr(0, name.size() - 10);
    if (!enabled(v)) return;
    std::string pem = pem_of(versions_[v].key);
    return res.set_content(json{{"pem", pem},
                                {"algorithm", "EC_SIGN_ED25519"},
                                {"pemCrc32c", std::to_string(crc32c_bitwise(pem))},
                                {"name", v},
                                {"protectionLevel", "HSM"}}
                               .dump(),
                           "application/json");
  }
  if (req.method == "POST" && name.ends_with(":asymmetricSign")) {
    std::string v = name.substr(0, name.size() - 15);
    sign_calls_++;
    if (body.contains("digest")) return gerr(res, 400, "INVALID_ARGUMENT", "EC_SIGN_ED25519 signs data, not a digest");
    auto data = from_base64(body.value("data", ""));
    if (!data) return gerr(res, 400, "INVALID_ARGUMENT", "data must be base64");
    bool crc_given = body.contains("dataCrc32c");
    if (crc_given && (!body["dataCrc32c"].is_string() ||
                      body["dataCrc32c"].get<std::string>() != std::to_string(crc32c_bitwise(bytes_text(*data)))))
      return gerr(res, 400, "INVALID_ARGUMENT", "The checksum in field data_crc32c did not match the data in field data.");
    if (!enabled(v)) return;
    auto sig = ed25519::sign(versions_[v].key, *data);
    std::uint32_t crc = crc32c_bitwise(bytes_text(*sig));
    if (corrupt_crc_ > 0) {
      corrupt_crc_--;
      crc ^= 1;
    }
    bool verified = crc_given;
    if (skip_verified_ > 0) {
      skip_verified_--;
      verified = false;
    }
    return res.set_content(json{{"signature", to_base64(*sig)},
                                {"signatureCrc32c", std::to_string(crc)},
                                {"verifiedDataCrc32c", verified},
                                {"name", v},
                                {"protectionLevel", "HSM"}}
                               .dump(),
                           "application/json");
  }
  if (req.method == "POST" && name.ends_with(":destroy")) {
    std::string v = name.substr(0, name.size() - 8);
    auto it = versions_.find(v);
    if (it == versions_.end()) return gerr(res, 404, "NOT_FOUND", "CryptoKeyVersion " + v + " not found.");
    if (it->second.state != "ENABLED" && it->second.state != "DISABLED")
      return gerr(res, 400, "FAILED_PRECONDITION",
                  v + " is not in state ENABLED or DISABLED, current state is: " + it->second.state + ".");
    it->second.state = "DESTROY_SCHEDULED";
    return res.set_content(version_json(v).dump(), "application/json");
  }
  gerr(res, 404, "NOT_FOUND", "Resource " + name + " not found.");
}

}  // namespace ferrohsm::signer::testing
