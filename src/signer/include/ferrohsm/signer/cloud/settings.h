// Settings of the cloud KMS providers (aws-kms, gcp-kms, azure-kv). They exist in every
// build, so a binary without an adapter still reads its flags and TOML keys; selecting
// the provider is what such a binary refuses. Empty fields take the service's standard
// environment variables (read through `env`, the process environment unless a test
// passes its own), then the documented defaults (docs/SIGNER.md).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace ferrohsm::signer {

// Reads one environment variable; nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// The HTTP transport and its retries, shared by the three adapters.
struct CloudHttpSettings {
  int attempt_timeout_ms = 10000;  // one HTTP exchange (also bounded by the call's deadline)
  int max_attempts = 4;            // throttling, 5xx, timeouts and network failures are retried
  int backoff_base_ms = 100;       // full-jitter exponential backoff: base * 2^(attempt-1) …
  int backoff_max_ms = 2000;       // … at most this
  std::string ca_file;             // extra CA bundle (PEM) for the endpoints; default: the system's
};

struct AwsKmsSettings {
  std::string region;        // AWS_REGION, AWS_DEFAULT_REGION
  std::string endpoint;      // AWS_ENDPOINT_URL_KMS, else https://kms.<region>.amazonaws.com
  std::string sts_endpoint;  // AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com
  std::string profile;       // AWS_PROFILE, else "default" (shared credentials file)
  std::string alias_prefix = "ferrohsm";  // alias/<prefix>/<scope>/<key_id>
  int deletion_window_days = 30;          // ScheduleKeyDeletion's PendingWindowInDays (7–30)
  CloudHttpSettings http;
  EnvLookup env;  // unset: the process environment
};

struct GcpKmsSettings {
  std::string key_ring;          // projects/<p>/locations/<l>/keyRings/<r> (created when missing)
  std::string endpoint;          // default https://cloudkms.googleapis.com
  std::string credentials_file;  // service-account JSON; GOOGLE_APPLICATION_CREDENTIALS; none → metadata server
  std::string token_endpoint;    // overrides the JSON's token_uri
  std::string metadata_host;     // GCE_METADATA_HOST, else metadata.google.internal
  std::string protection_level = "HSM";  // HSM or SOFTWARE, for new keys
  CloudHttpSettings http;
  EnvLookup env;
};

struct AzureKvSettings {
  std::string vault_url;           // https://<vault>.vault.azure.net
  std::string tenant_id;           // AZURE_TENANT_ID
  std::string client_id;           // AZURE_CLIENT_ID
  std::string client_secret_file;  // else AZURE_CLIENT_SECRET
  std::string authority_host;      // AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com
  CloudHttpSettings http;
  EnvLookup env;
};

}  // namespace ferrohsm::signer
