// The aws-kms adapter: Ed25519 keys in AWS KMS (docs/SIGNER.md).
//
//   key      KeySpec ECC_NIST_EDWARDS25519, KeyUsage SIGN_VERIFY
//   alias    alias/<prefix>/<scope>/<key_id>  (finds the key again; names escaped, cloud/names.h)
//   handle   the key ARN, never the alias (an alias can be moved to another key)
//   sign     Sign(MessageType RAW, ED25519_SHA_512): pure Ed25519 over the 64 digest bytes
//   retire   ScheduleKeyDeletion; a key already pending deletion is fine
#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_map>

#include "aws_kms_client.h"
#include "ferrohsm/signer/cloud/json_fields.h"
#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"

namespace ferrohsm::signer {

using cloud::KmsReply;
using nlohmann::json;

namespace {
constexpr std::string_view kKeySpec = "ECC_NIST_EDWARDS25519";
constexpr std::string_view kAwsAlgorithm = "ED25519_SHA_512";

// arn:<partition>:kms:<region>:<account>:key/<id> of this provider's region.
bool is_key_arn(std::string_view arn, std::string_view region) {
  std::string_view parts[6];
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  if (parts[0] != "arn" || !parts[1].starts_with("aws") || parts[2] != "kms" || parts[3] != region ||
      parts[4].size() != 12 || !parts[5].starts_with("key/") || parts[5].size() <= 4)
    return false;
  for (char c : parts[4])
    if (c < '0' || c > '9') return false;
  for (char c : parts[5].substr(4))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

class AwsKmsProvider final : public KeyProvider {
 public:
  AwsKmsProvider(AwsKmsSettings settings, std::unique_ptr<cloud::HttpClient> http,
                 std::unique_ptr<cloud::AwsCredentialChain> credentials)
      : settings_(std::move(settings)),
        http_(std::move(http)),
        credentials_(std::move(credentials)),
        kms_(settings_.endpoint, settings_.region, *http_, *credentials_, cloud::RetryPolicy::from(settings_.http)) {}

  std::string_view name() const override { return "aws-kms"; }

  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override {
    if (auto s = ctx.check(); !s) return s.error();
    std::string alias = "alias/" + settings_.alias_prefix + "/" + cloud::escape_name_part(scope.str()) + "/" +
                        cloud::escape_name_part(key_id.str());
    if (alias.size() > 256) return Error::invalid("aws-kms: alias " + alias + " is longer than KMS's 256 characters");
    std::lock_guard lock(generate_mu_);  // one key per alias from this process; other processes: CreateAlias decides
    auto found = kms_.call(ctx, "DescribeKey", {{"KeyId", alias}});
    if (!found) return found.error();
    json metadata;
    if (found->ok()) {
      metadata = cloud::member(found->body, "KeyMetadata");
    } else if (found->error_type == "NotFoundException") {
      auto made = create(ctx, scope, key_id, alias);
      if (!made) return made.error();
      metadata = std::move(*made);
    } else {
      return cloud::kms_error("DescribeKey", *found);
    }
    std::string arn = cloud::text(metadata, "Arn");
    if (auto s = usable(metadata, alias); !s) return s.error();
    auto pub = fetch_public_key(ctx, arn);
    if (!pub) return pub.error();
    return GeneratedKey{arn, *pub};
  }

  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override {
    if (auto s = ctx.check(); !s) return s.error();
    if (!is_key_arn(handle_id, settings_.region)) return not_ours(handle_id);
    auto r = kms_.call(ctx, "Sign",
                       {{"KeyId", handle_id}, {"Message", to_base64(digest)}, {"MessageType", "RAW"},
                        {"SigningAlgorithm", kAwsAlgorithm}});
    if (!r) return r.error();
    if (!r->ok()) return state_error(ctx, "Sign", handle_id, *r);
    auto sig = from_base64(cloud::text(r->body, "Signature"));
    if (cloud::text(r->body, "KeyId") != handle_id || cloud::text(r->body, "SigningAlgorithm") != kAwsAlgorithm || !sig ||
        sig->size() != 64)
      return Error::unavailable("aws-kms Sign: KMS answered for another key, algorithm or signature size");
    Signature out{};
    std::copy(sig->begin(), sig->end(), out.begin());
    return out;
  }

  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override {
    if (auto s = ctx.check(); !s) return s.error();
    if (!is_key_arn(handle_id, settings_.region)) return not_ours(handle_id);
    {
      std::lock_guard lock(known_mu_);  // a key's public half never changes; KMS stops serving it once retired
      if (auto it = known_.find(handle_id); it != known_.end()) return it->second;
    }
    return fetch_public_key(ctx, handle_id);
  }

  Status retire(const Context& ctx, const std::string& handle_id) override {
    if (auto s = ctx.check(); !s) return s;
    if (!is_key_arn(handle_id, settings_.region)) return not_ours(handle_id);
    auto r = kms_.call(ctx, "ScheduleKeyDeletion",
                       {{"KeyId", handle_id}, {"PendingWindowInDays", settings_.deletion_window_days}});
    if (!r) return r.error();
    if (r->ok()) {
      spdlog::info("aws-kms: key {} scheduled for deletion in {} days", handle_id, settings_.deletion_window_days);
      return {};
    }
    if (r->error_type == "KMSInvalidStateException") {
      auto state = key_state(ctx, handle_id);
      if (!state) return state.error();
      if (*state == "PendingDeletion" || *state == "PendingReplicaDeletion") return {};  // retired before: fine
    }
    return cloud::kms_error("ScheduleKeyDeletion", *r);
  }

 private:
  static Error not_ours(const std::string& handle) {
    return Error::key_not_found("not an aws-kms key ARN of this region: '" + handle + "'");
  }

  // CreateKey, then CreateAlias; if another signer created the alias first, its key wins
  // and ours is scheduled for deletion.
  Result<json> create(const Context& ctx, const Scope& scope, const KeyId& key_id, const std::string& alias) {
    json request = {{"KeySpec", kKeySpec},
                    {"KeyUsage", "SIGN_VERIFY"},
                    {"Description", "ferrohsm-signer key " + scope.str() + "/" + key_id.str()},
                    {"Tags", json::array({{{"TagKey", "ferrohsm:scope"}, {"TagValue", scope.str()}},
                                          {{"TagKey", "ferrohsm:key-id"}, {"TagValue", key_id.str()}}})}};
    auto made = kms_.call(ctx, "CreateKey", request);
    if (!made) return made.error();
    if (!made->ok()) return cloud::kms_error("CreateKey", *made);
    json metadata = cloud::member(made->body, "KeyMetadata");
    std::string arn = cloud::text(metadata, "Arn");
    auto aliased = kms_.call(ctx, "CreateAlias", {{"AliasName", alias}, {"TargetKeyId", arn}});
    if (aliased && aliased->ok()) {
      spdlog::info("aws-kms: created key {} ({})", arn, alias);
      return metadata;
    }
    // Ours is surplus (or could not be named): it must not linger as an unnamed key.
    auto dropped = kms_.call(ctx, "ScheduleKeyDeletion", {{"KeyId", arn}, {"PendingWindowInDays", 7}});
    if (!dropped || !dropped->ok()) spdlog::warn("aws-kms: could not schedule the deletion of surplus key {}", arn);
    if (!aliased) return aliased.error();
    if (aliased->error_type != "AlreadyExistsException") return cloud::kms_error("CreateAlias", *aliased);
    auto found = kms_.call(ctx, "DescribeKey", {{"KeyId", alias}});
    if (!found) return found.error();
    if (!found->ok()) return cloud::kms_error("DescribeKey", *found);
    return cloud::member(found->body, "KeyMetadata");
  }

  // A key found under our alias must be an enabled Ed25519 signing key.
  static Status usable(const json& m, const std::string& alias) {
    std::string spec = cloud::text(m, "KeySpec"), usage = cloud::text(m, "KeyUsage"), state = cloud::text(m, "KeyState");
    std::string arn = cloud::text(m, "Arn");
    if (spec != kKeySpec || usage != "SIGN_VERIFY")
      return Error::not_supported("aws-kms: " + alias + " names key " + arn + " (" + spec + ", " + usage +
                                  "), not an " + std::string(kKeySpec) + " SIGN_VERIFY key");
    if (state == "PendingDeletion" || state == "PendingReplicaDeletion")
      return Error::retired("aws-kms: key " + arn + " (" + alias + ") was retired; pick a new key_id");
    if (state == "Disabled") return Error::key_not_found("aws-kms: key " + arn + " (" + alias + ") is disabled");
    if (state != "Enabled") return Error::unavailable("aws-kms: key " + arn + " is " + state);
    return {};
  }

  Result<PublicKey> fetch_public_key(const Context& ctx, const std::string& arn) {
    auto r = kms_.call(ctx, "GetPublicKey", {{"KeyId", arn}});
    if (!r) return r.error();
    if (!r->ok()) return state_error(ctx, "GetPublicKey", arn, *r);
    std::string spec = cloud::text(r->body, "KeySpec"), usage = cloud::text(r->body, "KeyUsage");
    if (spec != kKeySpec || usage != "SIGN_VERIFY")
      return Error::not_supported("aws-kms: key " + arn + " is " + spec + " " + usage + ", not an Ed25519 signing key");
    auto der = from_base64(cloud::text(r->body, "PublicKey"));
    if (!der) return Error::unavailable("aws-kms GetPublicKey: the public key is not base64");
    auto pub = ed25519::from_spki_der(*der);
    if (!pub) return Error::unavailable("aws-kms GetPublicKey: " + pub.error().message);
    std::lock_guard lock(known_mu_);
    known_[arn] = *pub;
    return *pub;
  }

  Result<std::string> key_state(const Context& ctx, const std::string& arn) {
    auto d = kms_.call(ctx, "DescribeKey", {{"KeyId", arn}});
    if (!d) return d.error();
    if (!d->ok()) return cloud::kms_error("DescribeKey", *d);
    return cloud::text(cloud::member(d->body, "KeyMetadata"), "KeyState");
  }

  // KMSInvalidStateException means different things by the key's state: retired (pending
  // deletion), disabled by an operator (not found for the port), or passing (unavailable).
  Error state_error(const Context& ctx, std::string_view operation, const std::string& arn, const KmsReply& r) {
    if (r.error_type != "KMSInvalidStateException") return cloud::kms_error(operation, r);
    auto state = key_state(ctx, arn);
    if (!state) return state.error();
    if (*state == "PendingDeletion" || *state == "PendingReplicaDeletion")
      return Error::retired("aws-kms: key " + arn + " is retired (pending deletion)");
    if (*state == "Disabled") return Error::key_not_found("aws-kms: key " + arn + " is disabled");
    return cloud::kms_error(operation, r);
  }

  AwsKmsSettings settings_;
  std::unique_ptr<cloud::HttpClient> http_;
  std::unique_ptr<cloud::AwsCredentialChain> credentials_;
  cloud::KmsClient kms_;
  std::mutex generate_mu_;
  std::mutex known_mu_;
  std::unordered_map<std::string, PublicKey> known_;
};
}  // namespace

Result<std::unique_ptr<KeyProvider>> make_aws_kms_provider(const AwsKmsSettings& given) {
  AwsKmsSettings s = given;
  if (!s.env) s.env = process_environment();
  if (s.region.empty()) s.region = s.env("AWS_REGION").value_or(s.env("AWS_DEFAULT_REGION").value_or(""));
  if (s.region.empty()) return Error::invalid("aws-kms needs a region: --aws-region, aws_kms.region or AWS_REGION");
  if (s.endpoint.empty()) s.endpoint = s.env("AWS_ENDPOINT_URL_KMS").value_or("https://kms." + s.region + ".amazonaws.com");
  if (s.sts_endpoint.empty())
    s.sts_endpoint = s.env("AWS_ENDPOINT_URL_STS").value_or("https://sts." + s.region + ".amazonaws.com");
  if (auto c = cloud::check_endpoint("the KMS endpoint", s.endpoint); !c) return c.error();
  if (s.alias_prefix.empty() || s.alias_prefix.starts_with("aws") ||
      s.alias_prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos)
    return Error::invalid("--aws-kms-alias-prefix must be letters, digits, '_' or '-', and not start with 'aws'");
  if (s.deletion_window_days < 7 || s.deletion_window_days > 30)
    return Error::invalid("--aws-kms-deletion-window-days must be between 7 and 30 (KMS's limits)");
  auto http = std::make_unique<cloud::HttpClient>(s.http);
  auto creds = cloud::AwsCredentialChain::open({s.env, s.profile, s.sts_endpoint, s.region}, *http,
                                               cloud::RetryPolicy::from(s.http));
  if (!creds) return creds.error();
  spdlog::info("aws-kms: region {}, endpoint {}, credentials from {}", s.region, s.endpoint, (*creds)->description());
  return std::unique_ptr<KeyProvider>(new AwsKmsProvider(std::move(s), std::move(http), std::move(*creds)));
}

}  // namespace ferrohsm::signer
