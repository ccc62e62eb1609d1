// OAuth 2.0 access tokens for gcp-kms and azure-kv: one exchange with a token endpoint
// (or the GCE metadata server), answered with {"access_token", "expires_in"}. Retried on
// 429, 5xx and transport failures; a refusal ("invalid_grant" …) is final and logged with
// the endpoint's description, never with the assertion, secret or token.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrohsm/signer/cloud/expiring.h"
#include "ferrohsm/signer/cloud/http_client.h"
#include "ferrohsm/signer/cloud/retry.h"

namespace ferrohsm::signer::cloud {

struct BearerToken {
  std::string value;
  std::optional<SteadyTime> expires;
};

using TokenCache = Expiring<BearerToken>;

Result<BearerToken> fetch_token(const Context& ctx, HttpClient& http, const RetryPolicy& policy, std::string_view what,
                                const HttpRequest& request, const std::vector<std::string>& secrets);

}  // namespace ferrohsm::signer::cloud
