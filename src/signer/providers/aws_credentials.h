// Where the aws-kms adapter gets its keys, in the SDKs' order: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), a web-identity token
// (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, exchanged with STS
// AssumeRoleWithWebIdentity, cached until shortly before they expire, the token file read
// again at each exchange), then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials, profile AWS_PROFILE or "default"). Keys never reach a log.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ferrohsm/signer/cloud/aws_sigv4.h"
#include "ferrohsm/signer/cloud/expiring.h"
#include "ferrohsm/signer/cloud/http_client.h"
#include "ferrohsm/signer/cloud/retry.h"

namespace ferrohsm::signer::cloud {

struct AwsCredentials {
  sigv4::Credentials keys;
  std::optional<SteadyTime> expires;  // temporary credentials from STS
  std::string source;                 // "environment", "web identity", "shared credentials file …"
};

struct AwsCredentialConfig {
  EnvLookup env;
  std::string profile;       // empty: AWS_PROFILE, else "default"
  std::string sts_endpoint;  // for web identity
  std::string region;
};

class AwsCredentialChain {
 public:
  // Fails when no source is configured at all (nothing is fetched yet).
  static Result<std::unique_ptr<AwsCredentialChain>> open(AwsCredentialConfig config, HttpClient& http,
                                                          RetryPolicy policy);
  Result<AwsCredentials> get(const Context& ctx) { return cache_.get(ctx); }
  // The service said the credentials expired: fetch anew (the environment and the file are
  // read again too, so an operator's rotated keys are picked up).
  void invalidate() { cache_.invalidate(); }
  const std::string& description() const { return description_; }

 private:
  AwsCredentialChain(AwsCredentialConfig config, HttpClient& http, RetryPolicy policy);
  Result<AwsCredentials> fetch(const Context& ctx);
  Result<AwsCredentials> assume_role_with_web_identity(const Context& ctx, const std::string& token_file,
                                                       const std::string& role_arn);

  AwsCredentialConfig config_;
  HttpClient& http_;
  RetryPolicy policy_;
  std::string description_;
  Expiring<AwsCredentials> cache_;
};

// The profile's keys in an AWS shared credentials (INI) file; nullopt if it has none.
std::optional<sigv4::Credentials> read_shared_credentials(const std::string& path, const std::string& profile);

}  // namespace ferrohsm::signer::cloud
