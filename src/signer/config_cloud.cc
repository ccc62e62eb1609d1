#include "ferrohsm/signer/config_cloud.h"

namespace ferrohsm::signer {

namespace {
// cloud.* applies to the three providers alike.
template <class F>
void each_http(Config& c, F f) {
  f(c.providers.aws_kms.http);
  f(c.providers.gcp_kms.http);
  f(c.providers.azure_kv.http);
}

#define CLOUD_TEXT(field) [](Config& c, const std::string& v) { c.providers.field = v; }

constexpr CloudText kText[] = {
    {"aws_kms.region", "--aws-region", "aws-kms: AWS region (default AWS_REGION)", CLOUD_TEXT(aws_kms.region)},
    {"aws_kms.endpoint", "--aws-kms-endpoint", "aws-kms: KMS endpoint URL (default https://kms.<region>.amazonaws.com)",
     CLOUD_TEXT(aws_kms.endpoint)},
    {"aws_kms.sts_endpoint", "--aws-sts-endpoint", "aws-kms: STS endpoint URL for web identity",
     CLOUD_TEXT(aws_kms.sts_endpoint)},
    {"aws_kms.profile", "--aws-profile", "aws-kms: profile of the shared credentials file (default AWS_PROFILE)",
     CLOUD_TEXT(aws_kms.profile)},
    {"aws_kms.alias_prefix", "--aws-kms-alias-prefix", "aws-kms: alias/<prefix>/<scope>/<key_id> (default ferrohsm)",
     CLOUD_TEXT(aws_kms.alias_prefix)},
    {"gcp_kms.key_ring", "--gcp-kms-key-ring", "gcp-kms: projects/<p>/locations/<l>/keyRings/<r>",
     CLOUD_TEXT(gcp_kms.key_ring)},
    {"gcp_kms.endpoint", "--gcp-kms-endpoint", "gcp-kms: Cloud KMS endpoint URL", CLOUD_TEXT(gcp_kms.endpoint)},
    {"gcp_kms.credentials_file", "--gcp-credentials-file",
     "gcp-kms: service-account JSON key (default GOOGLE_APPLICATION_CREDENTIALS, else the metadata server)",
     CLOUD_TEXT(gcp_kms.credentials_file)},
    {"gcp_kms.token_endpoint", "--gcp-token-endpoint", "gcp-kms: OAuth token endpoint (default: the key's token_uri)",
     CLOUD_TEXT(gcp_kms.token_endpoint)},
    {"gcp_kms.metadata_host", "--gcp-metadata-host", "gcp-kms: metadata server host[:port] (default GCE_METADATA_HOST)",
     CLOUD_TEXT(gcp_kms.metadata_host)},
    {"gcp_kms.protection_level", "--gcp-kms-protection-level", "gcp-kms: HSM (default) or SOFTWARE for new keys",
     CLOUD_TEXT(gcp_kms.protection_level)},
    {"azure_kv.vault_url", "--azure-vault-url", "azure-kv: https://<vault>.vault.azure.net", CLOUD_TEXT(azure_kv.vault_url)},
    {"azure_kv.tenant_id", "--azure-tenant-id", "azure-kv: tenant (default AZURE_TENANT_ID)", CLOUD_TEXT(azure_kv.tenant_id)},
    {"azure_kv.client_id", "--azure-client-id", "azure-kv: client id (default AZURE_CLIENT_ID)",
     CLOUD_TEXT(azure_kv.client_id)},
    {"azure_kv.client_secret_file", "--azure-client-secret-file",
     "azure-kv: file holding the client secret (default AZURE_CLIENT_SECRET)", CLOUD_TEXT(azure_kv.client_secret_file)},
    {"azure_kv.authority_host", "--azure-authority-host",
     "azure-kv: Entra ID authority (default AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com)",
     CLOUD_TEXT(azure_kv.authority_host)},
    {"cloud.ca_file", "--cloud-ca-file", "cloud providers: extra CA bundle (PEM) for their endpoints",
     [](Config& c, const std::string& v) { each_http(c, [&](CloudHttpSettings& h) { h.ca_file = v; }); }},
};
#undef CLOUD_TEXT

constexpr CloudNumber kNumbers[] = {
    {"aws_kms.deletion_window_days", "--aws-kms-deletion-window-days",
     "aws-kms: days between retire and the key's deletion (7-30, default 30)", 7, 30,
     [](Config& c, int v) { c.providers.aws_kms.deletion_window_days = v; }},
    {"cloud.attempt_timeout_ms", "--cloud-attempt-timeout-ms", "cloud providers: timeout of one HTTP exchange",
     1, 600000, [](Config& c, int v) { each_http(c, [&](CloudHttpSettings& h) { h.attempt_timeout_ms = v; }); }},
    {"cloud.max_attempts", "--cloud-max-attempts", "cloud providers: attempts per call (1-10, default 4)", 1, 10,
     [](Config& c, int v) { each_http(c, [&](CloudHttpSettings& h) { h.max_attempts = v; }); }},
};
}  // namespace

std::span<const CloudText> cloud_text_settings() { return kText; }
std::span<const CloudNumber> cloud_number_settings() { return kNumbers; }

}  // namespace ferrohsm::signer
