// JSON over HTTPS with a bearer token, for gcp-kms (Cloud KMS REST) and azure-kv (Key
// Vault REST). 429, 5xx and transport failures are tried again; a 401 fetches a new token
// once (it expired or was revoked early); a 2xx body that fails the caller's integrity
// check (CRC32C) is tried again too. Other answers come back to the caller as they are.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

#include "oauth_token.h"

namespace ferrohsm::signer::cloud {

struct RestReply {
  long status = 0;
  nlohmann::json body;
  std::string code;     // Cloud KMS: error.status ("NOT_FOUND"); Key Vault: error.code ("KeyNotFound")
  std::string message;  // error.message, cleaned of secrets
  bool ok() const { return status >= 200 && status < 300; }
};

// Returns "" when a successful body is whole, else what is wrong with it.
using BodyCheck = std::function<std::string(const nlohmann::json&)>;

class BearerRest {
 public:
  BearerRest(std::string what, HttpClient& http, RetryPolicy policy, TokenCache& tokens)
      : what_(std::move(what)), http_(http), policy_(policy), tokens_(tokens) {}
  Result<RestReply> call(const Context& ctx, const std::string& method, const std::string& url,
                         const std::optional<nlohmann::json>& body, const BodyCheck& check = {});

 private:
  std::string what_;
  HttpClient& http_;
  RetryPolicy policy_;
  TokenCache& tokens_;
};

}  // namespace ferrohsm::signer::cloud
