// The azure-kv adapter. Azure Key Vault offers RSA and EC (P-256, P-256K, P-384, P-521)
// keys and no Ed25519, and every key of this service is Ed25519 (the port's contract).
// So generate() is refused with kAzureNoEd25519, and a handle naming a Key Vault key
// (https://<vault>.vault.azure.net/keys/<name>/<version>) is looked up — with a
// client-credentials token — and refused the same way, naming the key's real type,
// for public_key, sign and retire: this adapter never signs with, or deletes, a key of
// another type. docs/SIGNER.md says what it would take once Key Vault has Ed25519.
#include <spdlog/spdlog.h>

#include <memory>

#include "base/pin_source.h"
#include "bearer_rest.h"
#include "ferrohsm/signer/cloud/json_fields.h"
#include "ferrohsm/signer/cloud/providers.h"

namespace ferrohsm::signer {

using nlohmann::json;

namespace {
constexpr std::string_view kApiVersion = "7.4";
constexpr std::string_view kVaultScope = "https://vault.azure.net/.default";

class AzureKvProvider final : public KeyProvider {
 public:
  AzureKvProvider(AzureKvSettings settings, std::unique_ptr<cloud::HttpClient> http, cloud::TokenCache::Fetch fetch)
      : settings_(std::move(settings)),
        http_(std::move(http)),
        tokens_(std::move(fetch)),
        rest_("azure-kv", *http_, cloud::RetryPolicy::from(settings_.http), tokens_) {}

  std::string_view name() const override { return "azure-kv"; }

  Result<GeneratedKey> generate(const Context& ctx, const Scope&, const KeyId&) override {
    if (auto s = ctx.check(); !s) return s.error();
    return Error::not_supported("azure-kv: " + std::string(kAzureNoEd25519));
  }
  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest&) override {
    return refuse(ctx, handle_id);
  }
  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override {
    return refuse(ctx, handle_id);
  }
  Status retire(const Context& ctx, const std::string& handle_id) override { return refuse(ctx, handle_id); }

 private:
  // The key the handle names, read from the vault: missing → key_not_found; there, of a
  // type this service cannot use (all of Key Vault's) → not_supported naming the limit.
  Error refuse(const Context& ctx, const std::string& handle) {
    if (auto s = ctx.check(); !s) return s.error();
    std::string prefix = settings_.vault_url + "/keys/";
    std::string_view rest = std::string_view(handle).substr(std::min(handle.size(), prefix.size()));
    auto slash = rest.find('/');
    if (!handle.starts_with(prefix) || slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size() ||
        rest.find_first_of("/?#", slash + 1) != std::string_view::npos)
      return Error::key_not_found("not an azure-kv key identifier of " + settings_.vault_url + ": '" + handle + "'");
    auto r = rest_.call(ctx, "GET", handle + "?api-version=" + std::string(kApiVersion), std::nullopt);
    if (!r) return r.error();
    if (!r->ok()) {
      std::string text = "azure-kv: HTTP " + std::to_string(r->status) + " " + r->code +
                         (r->message.empty() ? "" : ": " + r->message);
      if (r->status == 404 || r->code == "KeyNotFound") {
        spdlog::info("{}", text);
        return Error::key_not_found(text);
      }
      spdlog::warn("{}", text);
      return Error::unavailable(text);
    }
    const json& key = cloud::member(r->body, "key");
    std::string type = cloud::text(key, "kty") + (key.contains("crv") ? " " + cloud::text(key, "crv") : "");
    if (type.empty()) type = "of an unknown type";
    spdlog::warn("azure-kv: refused key {} ({}): Key Vault has no Ed25519", handle, type);
    return Error::not_supported("azure-kv: key " + handle + " is " + type + ", not Ed25519. " +
                                std::string(kAzureNoEd25519));
  }

  AzureKvSettings settings_;
  std::unique_ptr<cloud::HttpClient> http_;
  cloud::TokenCache tokens_;
  cloud::BearerRest rest_;
};

// The client secret, from the file (its first line, as a PIN file is read) or the environment.
Result<Secret> client_secret(const AzureKvSettings& s) {
  if (!s.client_secret_file.empty()) {
    auto secret = read_pin_file(s.client_secret_file);
    if (!secret) return Error::invalid("azure-kv: the client secret file is unusable (" + secret.error().message + ")");
    return std::move(*secret);
  }
  if (auto env = s.env("AZURE_CLIENT_SECRET")) return Secret(*env);
  return Error::invalid("azure-kv needs a client secret: --azure-client-secret-file or AZURE_CLIENT_SECRET");
}
}  // namespace

Result<std::unique_ptr<KeyProvider>> make_azure_kv_provider(const AzureKvSettings& given) {
  AzureKvSettings s = given;
  if (!s.env) s.env = process_environment();
  s.vault_url = cloud::trim_slash(s.vault_url);
  if (s.vault_url.empty()) return Error::invalid("azure-kv needs --azure-vault-url (https://<vault>.vault.azure.net)");
  if (auto c = cloud::check_endpoint("the vault URL", s.vault_url); !c) return c.error();
  if (s.tenant_id.empty()) s.tenant_id = s.env("AZURE_TENANT_ID").value_or("");
  if (s.client_id.empty()) s.client_id = s.env("AZURE_CLIENT_ID").value_or("");
  if (s.authority_host.empty()) s.authority_host = s.env("AZURE_AUTHORITY_HOST").value_or("https://login.microsoftonline.com");
  if (s.tenant_id.empty() || s.client_id.empty())
    return Error::invalid("azure-kv needs a tenant and a client id: --azure-tenant-id/AZURE_TENANT_ID, "
                          "--azure-client-id/AZURE_CLIENT_ID");
  if (auto c = cloud::check_endpoint("the authority host", s.authority_host); !c) return c.error();
  auto secret = client_secret(s);
  if (!secret) return secret.error();
  auto http = std::make_unique<cloud::HttpClient>(s.http);
  std::string token_url = cloud::trim_slash(s.authority_host) + "/" + cloud::percent_encode(s.tenant_id) +
                          "/oauth2/v2.0/token";
  auto policy = cloud::RetryPolicy::from(s.http);
  auto held = std::make_shared<const Secret>(std::move(*secret));  // wiped when the provider goes
  cloud::TokenCache::Fetch fetch = [token_url, client_id = s.client_id, held, &http = *http,
                                    policy](const Context& ctx) -> Result<cloud::BearerToken> {
    std::string secret(held->view());
    std::pair<std::string, std::string> fields[] = {{"grant_type", "client_credentials"},
                                                    {"client_id", client_id},
                                                    {"client_secret", secret},
                                                    {"scope", std::string(kVaultScope)}};
    cloud::HttpRequest req{"POST", token_url, {{"Content-Type", "application/x-www-form-urlencoded"}},
                           cloud::form_encode(fields)};
    return cloud::fetch_token(ctx, http, policy, "azure-kv token endpoint", req, {secret});
  };
  spdlog::info("azure-kv: vault {}, client {} of tenant {}; Key Vault has no Ed25519, so this provider refuses "
               "to generate signer keys", s.vault_url, s.client_id, s.tenant_id);
  return std::unique_ptr<KeyProvider>(new AzureKvProvider(std::move(s), std::move(http), std::move(fetch)));
}

}  // namespace ferrohsm::signer
