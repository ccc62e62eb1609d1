#include "aws_credentials.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace ferrohsm::signer::cloud {

namespace {
std::string trim_space(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text of the first <tag>…</tag> of an STS answer, with XML's five entities undone.
// (STS answers in a fixed, flat shape; the values are base64, ids and ISO dates.)
std::string xml_text(const std::string& xml, const std::string& tag) {
  auto open = xml.find("<" + tag + ">");
  if (open == std::string::npos) return {};
  open += tag.size() + 2;
  auto close = xml.find("</" + tag + ">", open);
  if (close == std::string::npos) return {};
  std::string raw = xml.substr(open, close - open), out;
  static const std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (std::size_t i = 0; i < raw.size();) {
    bool done = false;
    for (const auto& [name, ch] : kEntities)
      if (raw.compare(i, name.size(), name) == 0) {
        out.push_back(ch);
        i += name.size();
        done = true;
        break;
      }
    if (!done) out.push_back(raw[i++]);
  }
  return out;
}

// "2026-01-02T03:04:05Z" (STS's Expiration) → a steady-clock moment.
std::optional<SteadyTime> expiry_of(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  return std::chrono::steady_clock::now() + (at - std::chrono::system_clock::now());
}

std::string home_credentials(const EnvLookup& env) {
  if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) return *f;
  if (auto home = env("HOME")) return *home + "/.aws/credentials";
  return {};
}
}  // namespace

std::optional<sigv4::Credentials> read_shared_credentials(const std::string& path, const std::string& profile) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line, section;
  sigv4::Credentials c;
  while (std::getline(in, line)) {
    std::string t = trim_space(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim_space(std::string_view(t).substr(1, t.size() - 2));
      continue;
    }
    if (section != profile) continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim_space(std::string_view(t).substr(0, eq)), value = trim_space(std::string_view(t).substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    else if (key == "aws_secret_access_key") c.secret_access_key = value;
    else if (key == "aws_session_token") c.session_token = value;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

AwsCredentialChain::AwsCredentialChain(AwsCredentialConfig config, HttpClient& http, RetryPolicy policy)
    : config_(std::move(config)),
      http_(http),
      policy_(policy),
      cache_([this](const Context& ctx) { return fetch(ctx); }) {}

Result<std::unique_ptr<AwsCredentialChain>> AwsCredentialChain::open(AwsCredentialConfig config, HttpClient& http,
                                                                     RetryPolicy policy) {
  const EnvLookup& env = config.env;
  if (config.profile.empty()) config.profile = env("AWS_PROFILE").value_or("default");
  std::string description;
  if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
    description = "the environment (AWS_ACCESS_KEY_ID)";
  } else if (env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN")) {
    if (auto s = check_endpoint("the STS endpoint", config.sts_endpoint); !s) return s.error();
    description = "web identity (" + *env("AWS_WEB_IDENTITY_TOKEN_FILE") + " for " + *env("AWS_ROLE_ARN") + ")";
  } else if (std::string file = home_credentials(env); !file.empty() && read_shared_credentials(file, config.profile)) {
    description = "the shared credentials file " + file + " (profile " + config.profile + ")";
  } else {
    return Error::invalid(
        "aws-kms found no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), "
        "or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or give profile '" + config.profile +
        "' keys in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)");
  }
  auto chain = std::unique_ptr<AwsCredentialChain>(new AwsCredentialChain(std::move(config), http, policy));
  chain->description_ = std::move(description);
  return chain;
}

Result<AwsCredentials> AwsCredentialChain::fetch(const Context& ctx) {
  const EnvLookup& env = config_.env;
  auto key_id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    return AwsCredentials{{*key_id, *secret, env("AWS_SESSION_TOKEN").value_or("")}, std::nullopt, "environment"};
  }
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), role = env("AWS_ROLE_ARN");
  if (token_file && role) return assume_role_with_web_identity(ctx, *token_file, *role);
  std::string file = home_credentials(env);
  if (auto c = read_shared_credentials(file, config_.profile))
    return AwsCredentials{*c, std::nullopt, "shared credentials file"};
  return Error::unavailable("aws-kms: the AWS credentials are gone (no environment keys, web identity or profile '" +
                            config_.profile + "' in " + file + ")");
}

Result<AwsCredentials> AwsCredentialChain::assume_role_with_web_identity(const Context& ctx,
                                                                        const std::string& token_file,
                                                                        const std::string& role_arn) {
  auto token = read_file(token_file);  // read at every exchange: the platform rotates it
  if (!token || trim_space(*token).empty())
    return Error::unavailable("aws-kms: cannot read the web identity token file " + token_file);
  std::string session = config_.env("AWS_ROLE_SESSION_NAME").value_or("ferrohsm-signer");
  std::pair<std::string, std::string> fields[] = {{"Action", "AssumeRoleWithWebIdentity"},
                                                  {"Version", "2011-06-15"},
                                                  {"RoleArn", role_arn},
                                                  {"RoleSessionName", session},
                                                  {"WebIdentityToken", trim_space(*token)}};
  HttpRequest req{"POST", trim_slash(config_.sts_endpoint) + "/",
                  {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"Accept", "application/xml"}},
                  form_encode(fields)};
  std::vector<std::string> secrets = {trim_space(*token)};
  return with_retries<AwsCredentials>(ctx, policy_, "STS AssumeRoleWithWebIdentity",
                                      [&](std::chrono::milliseconds timeout) -> Attempt<AwsCredentials> {
    auto res = http_.send(req, timeout);
    if (!res) return {res.error(), true};
    if (res->status == 200) {
      AwsCredentials c{{xml_text(res->body, "AccessKeyId"), xml_text(res->body, "SecretAccessKey"),
                        xml_text(res->body, "SessionToken")},
                       expiry_of(xml_text(res->body, "Expiration")),
                       "web identity"};
      if (c.keys.access_key_id.empty() || c.keys.secret_access_key.empty() || !c.expires)
        return {Error::unavailable("STS AssumeRoleWithWebIdentity answered without credentials"), false};
      spdlog::info("aws-kms: assumed role {} with web identity (temporary credentials)", role_arn);
      return {std::move(c), false};
    }
    std::string code = xml_text(res->body, "Code");
    std::string msg = "STS AssumeRoleWithWebIdentity: HTTP " + std::to_string(res->status) + " " + code + ": " +
                      clean_message(xml_text(res->body, "Message"), secrets);
    bool retry = res->status >= 500 || res->status == 429 || code == "IDPCommunicationError" ||
                 code == "Throttling" || code == "ThrottlingException";
    if (!retry) spdlog::warn("aws-kms: {}", msg);
    return {Error::unavailable(msg), retry};
  });
}

}  // namespace ferrohsm::signer::cloud
