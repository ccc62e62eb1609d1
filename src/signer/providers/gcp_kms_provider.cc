// The gcp-kms adapter: Ed25519 keys in Google Cloud KMS (docs/SIGNER.md).
//
//   key ring  projects/<p>/locations/<l>/keyRings/<r> (configured; created when missing)
//   key       cryptoKeys/<escaped scope>__<escaped key_id> (or h_<sha-256 prefix> past 63
//             characters), purpose ASYMMETRIC_SIGN, algorithm EC_SIGN_ED25519
//   handle    the full version name …/cryptoKeys/<id>/cryptoKeyVersions/1
//   sign      asymmetricSign with `data` = the 64 digest bytes (pure Ed25519) and
//             dataCrc32c; the answer's verifiedDataCrc32c, name and signatureCrc32c are checked
//   retire    destroy of the version (DESTROY_SCHEDULED); already scheduled/destroyed is fine
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/bytes.h"
#include "bearer_rest.h"
#include "ferrohsm/signer/cloud/json_fields.h"
#include "ferrohsm/signer/cloud/crc32c.h"
#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"
#include "gcp_credentials.h"

namespace ferrohsm::signer {

using cloud::RestReply;
using nlohmann::json;

namespace {
constexpr std::string_view kGcpAlgorithm = "EC_SIGN_ED25519";

struct CodeKind {
  std::string_view code;
  ErrorKind kind;
};
// One table: Cloud KMS error status → domain error (FAILED_PRECONDITION is resolved by
// the version's state first; UNAUTHENTICATED, RESOURCE_EXHAUSTED and 5xx never get here:
// the client refreshes the token or retries them).
constexpr CodeKind kCodes[] = {
    {"NOT_FOUND", ErrorKind::kKeyNotFound},       {"INVALID_ARGUMENT", ErrorKind::kProviderUnavailable},
    {"PERMISSION_DENIED", ErrorKind::kProviderUnavailable}, {"ALREADY_EXISTS", ErrorKind::kInvalidState},
    {"FAILED_PRECONDITION", ErrorKind::kProviderUnavailable},
};

Error gcp_error(std::string_view what, const RestReply& r) {
  ErrorKind kind = ErrorKind::kProviderUnavailable;
  for (const auto& c : kCodes)
    if (c.code == r.code) kind = c.kind;
  std::string text = "gcp-kms " + std::string(what) + ": HTTP " + std::to_string(r.status) + " " + r.code +
                     (r.message.empty() ? "" : ": " + r.message);
  if (kind == ErrorKind::kKeyNotFound) spdlog::info("{}", text);
  else spdlog::warn("{}", text);
  return Error{kind, text};
}

// Cloud KMS integers of int64 wrappers come as decimal strings.
std::optional<std::uint32_t> crc_field(const json& body, const char* name) {
  const json& v = cloud::member(body, name);
  if (v.is_number_unsigned()) return static_cast<std::uint32_t>(v.get<std::uint64_t>());
  std::string text = v.is_string() ? v.get<std::string>() : "";
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n > 0xFFFFFFFFu) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

std::string crypto_key_id(const Scope& scope, const KeyId& key_id) {
  std::string id = cloud::escape_name_part(scope.str()) + "__" + cloud::escape_name_part(key_id.str());
  if (id.size() <= 63) return id;
  std::string text = scope.str() + "|" + key_id.str();
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  return "h_" + to_hex(std::span(d, 20));  // no "__": never equal to a readable id
}

class GcpKmsProvider final : public KeyProvider {
 public:
  GcpKmsProvider(GcpKmsSettings settings, std::unique_ptr<cloud::HttpClient> http, cloud::TokenCache::Fetch fetch)
      : settings_(std::move(settings)),
        http_(std::move(http)),
        tokens_(std::move(fetch)),
        rest_("gcp-kms", *http_, cloud::RetryPolicy::from(settings_.http), tokens_) {}

  std::string_view name() const override { return "gcp-kms"; }

  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override {
    if (auto s = ctx.check(); !s) return s.error();
    std::string key = settings_.key_ring + "/cryptoKeys/" + crypto_key_id(scope, key_id);
    std::lock_guard lock(generate_mu_);
    auto found = rest_.call(ctx, "GET", url(key), std::nullopt);
    if (!found) return found.error();
    json crypto_key;
    if (found->ok()) {
      crypto_key = found->body;
    } else if (found->code == "NOT_FOUND") {
      auto made = create(ctx, key, scope, key_id);
      if (!made) return made.error();
      crypto_key = std::move(*made);
    } else {
      return gcp_error("get crypto key", *found);
    }
    const json& tmpl = cloud::member(crypto_key, "versionTemplate");
    if (cloud::text(crypto_key, "purpose") != "ASYMMETRIC_SIGN" || cloud::text(tmpl, "algorithm") != kGcpAlgorithm)
      return Error::not_supported("gcp-kms: " + key + " is not an ASYMMETRIC_SIGN " + std::string(kGcpAlgorithm) + " key");
    std::string version = key + "/cryptoKeyVersions/1";
    if (auto s = wait_enabled(ctx, version); !s) return s.error();
    auto pub = fetch_public_key(ctx, version);
    if (!pub) return pub.error();
    return GeneratedKey{version, *pub};
  }

  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override {
    if (auto s = ctx.check(); !s) return s.error();
    if (!is_version(handle_id)) return not_ours(handle_id);
    std::uint32_t data_crc = cloud::crc32c(digest);
    json request = {{"data", to_base64(digest)}, {"dataCrc32c", std::to_string(data_crc)}};
    auto r = rest_.call(ctx, "POST", url(handle_id) + ":asymmetricSign", request, [&](const json& b) -> std::string {
      if (!cloud::flag(b, "verifiedDataCrc32c")) return "the service did not verify dataCrc32c (request damaged?)";
      if (cloud::text(b, "name") != handle_id) return "the answer names another key version";
      auto sig = from_base64(cloud::text(b, "signature"));
      auto crc = crc_field(b, "signatureCrc32c");
      if (!sig || !crc || cloud::crc32c(*sig) != *crc) return "signatureCrc32c does not match the signature";
      return {};
    });
    if (!r) return r.error();
    if (!r->ok()) return state_error(ctx, "asymmetricSign", handle_id, *r);
    auto sig = from_base64(cloud::text(r->body, "signature"));
    if (!sig || sig->size() != 64) return Error::unavailable("gcp-kms asymmetricSign: the signature is not 64 bytes");
    Signature out{};
    std::copy(sig->begin(), sig->end(), out.begin());
    return out;
  }

  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override {
    if (auto s = ctx.check(); !s) return s.error();
    if (!is_version(handle_id)) return not_ours(handle_id);
    {
      std::lock_guard lock(known_mu_);  // immutable per version; Cloud KMS stops serving it once destroyed
      if (auto it = known_.find(handle_id); it != known_.end()) return it->second;
    }
    return fetch_public_key(ctx, handle_id);
  }

  Status retire(const Context& ctx, const std::string& handle_id) override {
    if (auto s = ctx.check(); !s) return s;
    if (!is_version(handle_id)) return not_ours(handle_id);
    auto r = rest_.call(ctx, "POST", url(handle_id) + ":destroy", json::object());
    if (!r) return r.error();
    if (r->ok()) {
      spdlog::info("gcp-kms: key version {} scheduled for destruction", handle_id);
      return {};
    }
    if (r->code == "FAILED_PRECONDITION") {
      auto state = version_state(ctx, handle_id);
      if (!state) return state.error();
      if (*state == "DESTROY_SCHEDULED" || *state == "DESTROYED") return {};  // retired before: fine
    }
    return gcp_error("destroy", *r);
  }

 private:
  std::string url(const std::string& name) const { return cloud::trim_slash(settings_.endpoint) + "/v1/" + name; }

  bool is_version(const std::string& h) const {
    std::string prefix = settings_.key_ring + "/cryptoKeys/";
    if (!h.starts_with(prefix)) return false;
    std::string_view rest = std::string_view(h).substr(prefix.size());
    auto slash = rest.find("/cryptoKeyVersions/");
    if (slash == 0 || slash == std::string_view::npos) return false;
    for (char c : rest.substr(0, slash))
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    std::string_view number = rest.substr(slash + 19);
    return !number.empty() && number.find_first_not_of("0123456789") == std::string_view::npos;
  }

  static Error not_ours(const std::string& handle) {
    return Error::key_not_found("not a gcp-kms key version of this key ring: '" + handle + "'");
  }

  Result<json> create(const Context& ctx, const std::string& key, const Scope& scope, const KeyId& key_id) {
    std::string id = key.substr(key.rfind('/') + 1);
    json labels = json::object();  // for operators' filters; labels allow no '.', so escaped (or left out)
    if (std::string v = cloud::escape_name_part(scope.str()); v.size() <= 63) labels["ferrohsm-scope"] = v;
    if (std::string v = cloud::escape_name_part(key_id.str()); v.size() <= 63) labels["ferrohsm-key-id"] = v;
    json body = {{"purpose", "ASYMMETRIC_SIGN"},
                 {"versionTemplate", {{"algorithm", kGcpAlgorithm}, {"protectionLevel", settings_.protection_level}}},
                 {"labels", labels}};
    std::string create_url = url(settings_.key_ring) + "/cryptoKeys?cryptoKeyId=" + id;
    auto made = rest_.call(ctx, "POST", create_url, body);
    if (!made) return made.error();
    if (!made->ok() && made->code == "NOT_FOUND") {  // the key ring itself is missing: make it, once
      auto ring = rest_.call(ctx, "POST", ring_create_url(), json::object());
      if (!ring) return ring.error();
      if (!ring->ok() && ring->code != "ALREADY_EXISTS") return gcp_error("create key ring", *ring);
      spdlog::info("gcp-kms: created key ring {}", settings_.key_ring);
      made = rest_.call(ctx, "POST", create_url, body);
      if (!made) return made.error();
    }
    if (made->ok()) {
      spdlog::info("gcp-kms: created crypto key {}", key);
      return made->body;
    }
    if (made->code != "ALREADY_EXISTS") return gcp_error("create crypto key", *made);
    auto found = rest_.call(ctx, "GET", url(key), std::nullopt);  // another signer made it first
    if (!found) return found.error();
    if (!found->ok()) return gcp_error("get crypto key", *found);
    return found->body;
  }

  std::string ring_create_url() const {
    auto slash = settings_.key_ring.rfind('/');
    return url(settings_.key_ring.substr(0, slash)) + "?keyRingId=" + settings_.key_ring.substr(slash + 1);
  }

  Result<std::string> version_state(const Context& ctx, const std::string& version) {
    auto r = rest_.call(ctx, "GET", url(version), std::nullopt);
    if (!r) return r.error();
    if (!r->ok()) return gcp_error("get key version", *r);
    return cloud::text(r->body, "state");
  }

  static Status state_verdict(const std::string& version, const std::string& state) {
    if (state == "ENABLED") return {};
    if (state == "DESTROY_SCHEDULED" || state == "DESTROYED")
      return Error::retired("gcp-kms: key version " + version + " is retired (" + state + ")");
    if (state == "DISABLED") return Error::key_not_found("gcp-kms: key version " + version + " is disabled");
    return Error::unavailable("gcp-kms: key version " + version + " is " + state);
  }

  // A new version starts PENDING_GENERATION (HSM keys for a moment): wait, inside the deadline.
  Status wait_enabled(const Context& ctx, const std::string& version) {
    for (int look = 0;; ++look) {
      auto state = version_state(ctx, version);
      if (!state) return state.error();
      if (*state != "PENDING_GENERATION" || look == 50) return state_verdict(version, *state);
      if (!cloud::wait_before_retry(ctx, std::chrono::milliseconds(100 + 50 * std::min(look, 8))))
        return Error::unavailable("gcp-kms: key version " + version + " is still being generated");
    }
  }

  Error state_error(const Context& ctx, std::string_view what, const std::string& version, const RestReply& r) {
    if (r.code != "FAILED_PRECONDITION") return gcp_error(what, r);
    auto state = version_state(ctx, version);
    if (!state) return state.error();
    if (auto s = state_verdict(version, *state); !s) return s.error();
    return gcp_error(what, r);
  }

  Result<PublicKey> fetch_public_key(const Context& ctx, const std::string& version) {
    auto r = rest_.call(ctx, "GET", url(version) + "/publicKey", std::nullopt, [](const json& b) -> std::string {
      auto crc = crc_field(b, "pemCrc32c");
      if (!crc || cloud::crc32c(cloud::text(b, "pem")) != *crc) return "pemCrc32c does not match the PEM";
      return {};
    });
    if (!r) return r.error();
    if (!r->ok()) return state_error(ctx, "getPublicKey", version, *r);
    if (cloud::text(r->body, "algorithm") != kGcpAlgorithm)
      return Error::not_supported("gcp-kms: key version " + version + " is " + cloud::text(r->body, "algorithm") +
                                  ", not " + std::string(kGcpAlgorithm));
    auto pub = ed25519::from_spki_pem(cloud::text(r->body, "pem"));
    if (!pub) return Error::unavailable("gcp-kms getPublicKey: " + pub.error().message);
    std::lock_guard lock(known_mu_);
    known_[version] = *pub;
    return *pub;
  }

  GcpKmsSettings settings_;
  std::unique_ptr<cloud::HttpClient> http_;
  cloud::TokenCache tokens_;
  cloud::BearerRest rest_;
  std::mutex generate_mu_;
  std::mutex known_mu_;
  std::unordered_map<std::string, PublicKey> known_;
};

// projects/<p>/locations/<l>/keyRings/<r>
bool is_key_ring(std::string_view name) {
  const std::string_view fixed[] = {"projects", "locations", "keyRings"};
  for (auto word : fixed) {
    if (!name.starts_with(std::string(word) + "/")) return false;
    name.remove_prefix(word.size() + 1);
    auto slash = name.find('/');
    std::string_view value = name.substr(0, slash);
    if (value.empty()) return false;
    if (word == "keyRings") return slash == std::string_view::npos;
    if (slash == std::string_view::npos) return false;
    name.remove_prefix(slash + 1);
  }
  return false;
}
}  // namespace

Result<std::unique_ptr<KeyProvider>> make_gcp_kms_provider(const GcpKmsSettings& given) {
  GcpKmsSettings s = given;
  if (!s.env) s.env = process_environment();
  if (!is_key_ring(s.key_ring))
    return Error::invalid("gcp-kms needs --gcp-kms-key-ring projects/<project>/locations/<location>/keyRings/<ring>");
  if (s.endpoint.empty()) s.endpoint = "https://cloudkms.googleapis.com";
  if (auto c = cloud::check_endpoint("the Cloud KMS endpoint", s.endpoint); !c) return c.error();
  if (s.protection_level != "HSM" && s.protection_level != "SOFTWARE")
    return Error::invalid("--gcp-kms-protection-level must be HSM or SOFTWARE");
  auto http = std::make_unique<cloud::HttpClient>(s.http);
  auto source = cloud::gcp_token_source(s, *http, cloud::RetryPolicy::from(s.http));
  if (!source) return source.error();
  spdlog::info("gcp-kms: key ring {}, endpoint {}, tokens from {}", s.key_ring, s.endpoint, source->description);
  return std::unique_ptr<KeyProvider>(new GcpKmsProvider(std::move(s), std::move(http), std::move(source->fetch)));
}

}  // namespace ferrohsm::signer
