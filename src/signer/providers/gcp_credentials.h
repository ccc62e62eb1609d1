// Access tokens for gcp-kms: a service-account JSON key (a JWT signed RS256 with its
// private key, exchanged at the token endpoint — the JSON's token_uri unless configured)
// or, with no key file, the metadata server of the VM/pod the signer runs on. Tokens are
// cached until shortly before they expire; the private key stays in an OpenSSL object.
#pragma once

#include <string>

#include "ferrohsm/signer/cloud/settings.h"
#include "oauth_token.h"

namespace ferrohsm::signer::cloud {

inline constexpr std::string_view kCloudKmsScope = "https://www.googleapis.com/auth/cloudkms";

struct GcpTokenSource {
  TokenCache::Fetch fetch;
  std::string description;  // "service account x@y (token endpoint …)" or "metadata server …"
};

Result<GcpTokenSource> gcp_token_source(const GcpKmsSettings& settings, HttpClient& http, RetryPolicy policy);

}  // namespace ferrohsm::signer::cloud
