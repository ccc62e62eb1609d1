#include "fakes/fake_aws_kms.h"

#include <openssl/rand.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

#include "fakes/sigv4_check.h"
#include "base/bytes.h"
#include "base/base64.h"

namespace ferrohsm::signer::testing {

using nlohmann::json;

namespace {
void aws_error(httplib::Response& res, int status, const std::string& type, const std::string& message) {
  res.status = status;
  res.set_header("x-amzn-ErrorType", type);
  res.set_content(json{{"__type", type}, {"message", message}}.dump(), "application/x-amz-json-1.1");
}

std::string random_hex(int bytes) {
  std::vector<std::uint8_t> b(static_cast<std::size_t>(bytes));
  RAND_bytes(b.data(), bytes);
  return to_hex(b);
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string spki_der(const ed25519::Pkey& key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

bool valid_alias(const std::string& a) {
  if (!a.starts_with("alias/") || a.starts_with("alias/aws/") || a.size() > 256 || a.size() <= 6) return false;
  for (char c : a)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-') return false;
  return true;
}

ReceivedRequest received(const httplib::Request& req) {
  ReceivedRequest r{req.method, req.path, "", {}, req.body};
  for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  return r;
}
}  // namespace

FakeAwsKms::FakeAwsKms() {
  http().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) handle_sts(req, res);
    else handle_kms(req, res);
  });
  start();
}

void FakeAwsKms::add_credentials(const std::string& id, const std::string& secret, const std::string& token,
                                 std::optional<std::chrono::system_clock::time_point> expires) {
  std::lock_guard lock(mu_);
  creds_[id] = Creds{secret, token, expires};
}

void FakeAwsKms::allow_web_identity(const std::string& token, const std::string& role_arn, std::chrono::seconds life) {
  std::lock_guard lock(mu_);
  web_identities_[token] = {role_arn, life};
}

void FakeAwsKms::expire_temporary_credentials() {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : creds_)
    if (!c.token.empty()) c.expires = std::chrono::system_clock::now() - std::chrono::seconds(1);
}

int FakeAwsKms::sts_exchanges() const {
  std::lock_guard lock(mu_);
  return sts_exchanges_;
}

std::string FakeAwsKms::import_key(const std::string& alias, std::span<const std::uint8_t, 32> seed) {
  std::lock_guard lock(mu_);
  char id[64];
  std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", 0xfeed0000u + static_cast<unsigned>(next_key_++), 7u);
  Key k{id, std::string("arn:aws:kms:") + kRegion + ":" + kAccount + ":key/" + id, "ECC_NIST_EDWARDS25519"};
  k.pkey = ed25519::from_private_seed(seed).value();
  std::string arn = k.arn;
  keys_[id] = std::move(k);
  aliases_[alias] = id;
  return arn;
}

std::string FakeAwsKms::add_foreign_key(const std::string& alias, const std::string& spec) {
  std::lock_guard lock(mu_);
  char id[64];
  std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", 0xf0e10000u + static_cast<unsigned>(next_key_++), 9u);
  Key k{id, std::string("arn:aws:kms:") + kRegion + ":" + kAccount + ":key/" + id, spec};
  std::string arn = k.arn;
  keys_[id] = std::move(k);
  aliases_[alias] = id;
  return arn;
}

void FakeAwsKms::set_state(const std::string& arn, const std::string& state) {
  std::lock_guard lock(mu_);
  if (Key* k = find(arn)) k->state = state;
}

void FakeAwsKms::forget_key(const std::string& arn) {
  std::lock_guard lock(mu_);
  if (Key* k = find(arn)) keys_.erase(k->id);
}

std::string FakeAwsKms::state_of(const std::string& arn) const {
  std::lock_guard lock(mu_);
  Key* k = const_cast<FakeAwsKms*>(this)->find(arn);
  return k ? k->state : "";
}

std::optional<std::string> FakeAwsKms::alias_target(const std::string& alias) const {
  std::lock_guard lock(mu_);
  auto it = aliases_.find(alias);
  if (it == aliases_.end()) return std::nullopt;
  auto k = keys_.find(it->second);
  return k == keys_.end() ? std::nullopt : std::optional<std::string>(k->second.arn);
}

int FakeAwsKms::calls(const std::string& operation) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(operation);
  return it == calls_.end() ? 0 : it->second;
}

int FakeAwsKms::key_count() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(keys_.size());
}

FakeAwsKms::Key* FakeAwsKms::find(const std::string& key_id) {
  std::string id = key_id;
  if (key_id.starts_with("alias/")) {
    auto a = aliases_.find(key_id);
    if (a == aliases_.end()) return nullptr;
    id = a->second;
  } else if (auto slash = key_id.rfind("key/"); key_id.starts_with("arn:") && slash != std::string::npos) {
    id = key_id.substr(slash + 4);
  }
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

void FakeAwsKms::handle_kms(const httplib::Request& req, httplib::Response& res) {
  if (req.get_header_value("Content-Type") != "application/x-amz-json-1.1")
    return aws_error(res, 400, "SerializationException", "expected Content-Type application/x-amz-json-1.1");
  std::string target = req.get_header_value("X-Amz-Target");
  if (!target.starts_with("TrentService."))
    return aws_error(res, 400, "UnknownOperationException", "no X-Amz-Target TrentService.<Operation>");
  std::string op = target.substr(13);
  std::lock_guard lock(mu_);
  auto verdict = check_sigv4(
      received(req),
      [this](const std::string& id) -> std::optional<std::string> {
        auto it = creds_.find(id);
        if (it == creds_.end()) return std::nullopt;
        return it->second.secret;
      },
      {kRegion, "kms", true, std::chrono::system_clock::now()});
  if (!verdict.ok) return aws_error(res, verdict.error_type == "MissingAuthenticationTokenException" ? 403 : 400,
                                    verdict.error_type, verdict.message);
  if (std::find(verdict.signed_headers.begin(), verdict.signed_headers.end(), "x-amz-target") ==
      verdict.signed_headers.end())
    return aws_error(res, 400, "InvalidSignatureException", "x-amz-target must be signed");
  const Creds& c = creds_[verdict.access_key_id];
  if (c.token != req.get_header_value("X-Amz-Security-Token"))
    return aws_error(res, 400, "UnrecognizedClientException", "The security token included in the request is invalid.");
  if (c.expires && std::chrono::system_clock::now() >= *c.expires)
    return aws_error(res, 400, "ExpiredTokenException", "The security token included in the request is expired");
  calls_[op]++;
  json in = json::parse(req.body, nullptr, false);
  if (!in.is_object()) return aws_error(res, 400, "SerializationException", "body is not a JSON object");
  auto reply = [&](const json& out) { res.set_content(out.dump(), "application/x-amz-json-1.1"); };
  auto metadata = [&](const Key& k) {
    json m = {{"AWSAccountId", kAccount}, {"KeyId", k.id},         {"Arn", k.arn},
              {"KeyState", k.state},      {"KeySpec", k.spec},     {"KeyUsage", "SIGN_VERIFY"},
              {"Enabled", k.state == "Enabled"}, {"KeyManager", "CUSTOMER"}, {"Origin", "AWS_KMS"}};
    if (k.spec == "ECC_NIST_EDWARDS25519") m["SigningAlgorithms"] = {"ED25519_SHA_512", "ED25519_PH_SHA_512"};
    return m;
  };
  auto usable = [&](Key& k) -> bool {
    if (k.state == "Disabled") return aws_error(res, 400, "DisabledException", k.arn + " is disabled."), false;
    if (k.state != "Enabled")
      return aws_error(res, 400, "KMSInvalidStateException",
                       k.arn + " is " + (k.state == "PendingDeletion" ? "pending deletion." : k.state + ".")),
             false;
    return true;
  };
  auto key_or_404 = [&]() -> Key* {
    std::string id = in.value("KeyId", "");
    Key* k = find(id);
    if (!k)
      aws_error(res, 400, "NotFoundException",
                id.starts_with("alias/") ? "Alias arn:aws:kms:" + std::string(kRegion) + ":" + kAccount + ":" + id +
                                               " is not found."
                                         : "Key '" + id + "' does not exist");
    return k;
  };

  if (op == "CreateKey") {
    if (in.value("KeySpec", "") != "ECC_NIST_EDWARDS25519" || in.value("KeyUsage", "") != "SIGN_VERIFY")
      return aws_error(res, 400, "ValidationException", "this fake makes ECC_NIST_EDWARDS25519 SIGN_VERIFY keys");
    char id[64];
    std::snprintf(id, sizeof id, "%08x-%04x-4%03x-8%03x-%012x", 0x1234abcdu + static_cast<unsigned>(next_key_), 0x12ab,
                  0x4cd, 0x6ef, 0x567890abu + static_cast<unsigned>(next_key_));
    next_key_++;
    Key k{id, std::string("arn:aws:kms:") + kRegion + ":" + kAccount + ":key/" + id, "ECC_NIST_EDWARDS25519"};
    k.pkey = ed25519::generate().value();
    json out = {{"KeyMetadata", metadata(k)}};
    keys_[id] = std::move(k);
    return reply(out);
  }
  if (op == "CreateAlias") {
    std::string alias = in.value("AliasName", "");
    if (!valid_alias(alias))
      return aws_error(res, 400, "ValidationException", "1 validation error detected: Value '" + alias +
                                                            "' at 'aliasName' failed to satisfy constraint");
    if (aliases_.contains(alias))
      return aws_error(res, 400, "AlreadyExistsException", "An alias with the name arn:aws:kms:" + std::string(kRegion) +
                                                               ":" + kAccount + ":" + alias + " already exists");
    in["KeyId"] = in.value("TargetKeyId", "");
    Key* k = key_or_404();
    if (!k) return;
    if (k->state == "PendingDeletion") return aws_error(res, 400, "KMSInvalidStateException", k->arn + " is pending deletion.");
    aliases_[alias] = k->id;
    return reply(json::object());
  }
  Key* k = key_or_404();
  if (!k) return;
  if (op == "DescribeKey") return reply({{"KeyMetadata", metadata(*k)}});
  if (op == "GetPublicKey") {
    if (!usable(*k)) return;
    std::string der = k->pkey ? spki_der(k->pkey) : random_hex(32);
    return reply({{"KeyId", k->arn},
                  {"KeySpec", k->spec},
                  {"KeyUsage", "SIGN_VERIFY"},
                  {"PublicKey", to_base64(as_bytes(der))},
                  {"SigningAlgorithms", metadata(*k).value("SigningAlgorithms", json::array())}});
  }
  if (op == "Sign") {
    if (!usable(*k)) return;
    std::string algorithm = in.value("SigningAlgorithm", ""), type = in.value("MessageType", "RAW");
    if (!k->pkey || (algorithm != "ED25519_SHA_512" && algorithm != "ED25519_PH_SHA_512"))
      return aws_error(res, 400, "InvalidKeyUsageException",
                       "The signing algorithm " + algorithm + " is not valid for " + k->arn);
    if (algorithm != "ED25519_SHA_512" || type != "RAW")
      return aws_error(res, 400, "ValidationException", "this fake signs pure Ed25519 over RAW messages only");
    auto message = from_base64(in.value("Message", ""));
    if (!message || message->empty() || message->size() > 4096)
      return aws_error(res, 400, "ValidationException", "Message must be 1 to 4096 bytes");
    auto sig = ed25519::sign(k->pkey, *message);
    return reply({{"KeyId", k->arn}, {"Signature", to_base64(*sig)}, {"SigningAlgorithm", algorithm}});
  }
  if (op == "ScheduleKeyDeletion") {
    int days = in.value("PendingWindowInDays", 30);
    if (days < 7 || days > 30)
      return aws_error(res, 400, "ValidationException", "PendingWindowInDays must be between 7 and 30");
    if (k->state == "PendingDeletion")
      return aws_error(res, 400, "KMSInvalidStateException", k->arn + " is pending deletion.");
    k->state = "PendingDeletion";
    k->pending_days = days;
    return reply({{"KeyId", k->arn},
                  {"KeyState", "PendingDeletion"},
                  {"PendingWindowInDays", days},
                  {"DeletionDate", std::chrono::duration_cast<std::chrono::seconds>(
                                       (std::chrono::system_clock::now() + std::chrono::hours(24 * days)).time_since_epoch())
                                       .count()}});
  }
  aws_error(res, 400, "UnknownOperationException", "the fake does not know " + op);
}

void FakeAwsKms::handle_sts(const httplib::Request& req, httplib::Response& res) {
  httplib::Params form;
  httplib::detail::parse_query_text(req.body, form);
  auto get = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  auto sts_error = [&](int status, const std::string& code, const std::string& msg) {
    res.status = status;
    res.set_content("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
                        code + "</Code><Message>" + msg + "</Message></Error><RequestId>1</RequestId></ErrorResponse>",
                    "text/xml");
  };
  if (get("Action") != "AssumeRoleWithWebIdentity" || get("Version") != "2011-06-15")
    return sts_error(400, "InvalidAction", "Could not find operation " + get("Action"));
  std::lock_guard lock(mu_);
  auto it = web_identities_.find(get("WebIdentityToken"));
  if (it == web_identities_.end() || it->second.first != get("RoleArn") || get("RoleSessionName").empty())
    return sts_error(400, "InvalidIdentityToken", "Couldn't verify the web identity token");
  sts_exchanges_++;
  std::string id = "ASIA" + random_hex(8), secret = random_hex(20), token = "FwoG" + random_hex(32);
  auto expires = std::chrono::system_clock::now() + it->second.second;
  creds_[id] = Creds{secret, token, expires};
  res.set_content(
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>" + id + "</AccessKeyId><SecretAccessKey>" + secret +
          "</SecretAccessKey><SessionToken>" + token + "</SessionToken><Expiration>" + iso8601(expires) +
          "</Expiration></Credentials><AssumedRoleUser><Arn>" + get("RoleArn") + "/" + get("RoleSessionName") +
          "</Arn></AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
      "text/xml");
}

}  // namespace ferrohsm::signer::testing
