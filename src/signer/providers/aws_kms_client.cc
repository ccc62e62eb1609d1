#include "aws_kms_client.h"
#include "ferrohsm/signer/cloud/json_fields.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace ferrohsm::signer::cloud {

using nlohmann::json;

namespace {
enum class Then { kFinal, kRetry, kRefreshCredentials };
struct KmsErrorRule {
  std::string_view type;
  ErrorKind kind;
  Then then;
};
// One table: KMS error type → domain error kind → what the client does next.
// KMSInvalidStateException is resolved by the callers (DescribeKey tells retired from disabled).
constexpr KmsErrorRule kKmsErrors[] = {
    {"NotFoundException", ErrorKind::kKeyNotFound, Then::kFinal},
    {"DisabledException", ErrorKind::kKeyNotFound, Then::kFinal},
    {"InvalidArnException", ErrorKind::kKeyNotFound, Then::kFinal},
    {"KMSInvalidStateException", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"InvalidKeyUsageException", ErrorKind::kNotSupported, Then::kFinal},
    {"UnsupportedOperationException", ErrorKind::kNotSupported, Then::kFinal},
    {"AlreadyExistsException", ErrorKind::kInvalidState, Then::kFinal},
    {"ThrottlingException", ErrorKind::kProviderUnavailable, Then::kRetry},
    {"KMSInternalException", ErrorKind::kProviderUnavailable, Then::kRetry},
    {"DependencyTimeoutException", ErrorKind::kProviderUnavailable, Then::kRetry},
    {"KeyUnavailableException", ErrorKind::kProviderUnavailable, Then::kRetry},
    {"LimitExceededException", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"ExpiredTokenException", ErrorKind::kProviderUnavailable, Then::kRefreshCredentials},
    {"UnrecognizedClientException", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"InvalidSignatureException", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"IncompleteSignature", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"AccessDeniedException", ErrorKind::kProviderUnavailable, Then::kFinal},
    {"ValidationException", ErrorKind::kInternal, Then::kFinal},
};

const KmsErrorRule* rule_for(std::string_view type) {
  for (const auto& r : kKmsErrors)
    if (r.type == type) return &r;
  return nullptr;
}

// "com.amazonaws.kms#NotFoundException" or "NotFoundException:http://…" → "NotFoundException".
std::string short_type(std::string type) {
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  if (auto colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
  return type;
}
}  // namespace

KmsClient::KmsClient(std::string endpoint, std::string region, HttpClient& http, AwsCredentialChain& credentials,
                     RetryPolicy policy)
    : endpoint_(trim_slash(std::move(endpoint))),
      region_(std::move(region)),
      http_(http),
      credentials_(credentials),
      policy_(policy) {}

Result<KmsReply> KmsClient::call(const Context& ctx, std::string_view operation, const json& request) {
  std::string what = "aws-kms " + std::string(operation);
  std::string body = request.dump();
  bool refreshed = false;
  return with_retries<KmsReply>(ctx, policy_, what, [&](std::chrono::milliseconds timeout) -> Attempt<KmsReply> {
    auto creds = credentials_.get(ctx);
    if (!creds) return {creds.error(), false};
    sigv4::Request unsigned_req{"POST", "/", "",
                                {{"Host", url_authority(endpoint_)},
                                 {"Content-Type", "application/x-amz-json-1.1"},
                                 {"X-Amz-Target", "TrentService." + std::string(operation)}},
                                body};
    auto signed_req = sigv4::sign(unsigned_req, creds->keys,
                                  {region_, "kms", sigv4::amz_date(std::chrono::system_clock::now())});
    auto res = http_.send(HttpRequest{"POST", endpoint_ + "/", signed_req.headers, body}, timeout);
    if (!res) return {Error::unavailable(what + ": " + res.error().message), true};
    KmsReply reply;
    reply.status = res->status;
    reply.body = json::parse(res->body, nullptr, false);
    if (res->status == 200) {
      if (reply.body.is_discarded() || !reply.body.is_object())
        return {Error::unavailable(what + ": KMS answered with a body that is not JSON"), true};
      return {std::move(reply), false};
    }
    std::string type = res->header("x-amzn-errortype");
    if (reply.body.is_object()) {
      if (type.empty()) type = cloud::text(reply.body, "__type");
      reply.message = cloud::text(reply.body, "message");
      if (reply.message.empty()) reply.message = cloud::text(reply.body, "Message");
    }
    reply.error_type = short_type(type.empty() ? "HTTP" + std::to_string(res->status) : type);
    std::vector<std::string> secrets = {creds->keys.secret_access_key, creds->keys.session_token};
    reply.message = clean_message(reply.message, secrets);
    std::string text = what + ": HTTP " + std::to_string(res->status) + " " + reply.error_type +
                       (reply.message.empty() ? "" : ": " + reply.message);
    const KmsErrorRule* rule = rule_for(reply.error_type);
    if (rule && rule->then == Then::kRefreshCredentials && !refreshed) {
      refreshed = true;
      spdlog::info("{}: KMS says the credentials from {} expired; fetching them again", what, creds->source);
      credentials_.invalidate();
      return {Error::unavailable(text), true};
    }
    bool retry = rule ? rule->then == Then::kRetry : (res->status >= 500 || res->status == 429);
    if (retry) return {Error::unavailable(text), true};
    return {std::move(reply), false};
  });
}

Error kms_error(std::string_view operation, const KmsReply& reply) {
  const KmsErrorRule* rule = rule_for(reply.error_type);
  ErrorKind kind = rule ? rule->kind : ErrorKind::kProviderUnavailable;
  std::string text = "aws-kms " + std::string(operation) + ": " + reply.error_type +
                     (reply.message.empty() ? "" : ": " + reply.message);
  if (kind == ErrorKind::kKeyNotFound) spdlog::info("{}", text);
  else spdlog::warn("{}", text);
  return Error{kind, text};
}

}  // namespace ferrohsm::signer::cloud
