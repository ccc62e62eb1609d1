// AWS KMS's JSON 1.1 protocol for the aws-kms adapter: one signed POST per operation
// (X-Amz-Target: TrentService.<Operation>), retried on throttling, 5xx and transport
// failures, with the credentials fetched again once when KMS says they expired.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "aws_credentials.h"
#include "ferrohsm/signer/cloud/http_client.h"
#include "ferrohsm/signer/cloud/retry.h"

namespace ferrohsm::signer::cloud {

// A KMS answer: the body of a success, or the error a final service error left.
struct KmsReply {
  nlohmann::json body;
  long status = 200;
  std::string error_type;  // "NotFoundException" … (empty on success)
  std::string message;     // the service's message, cleaned of secrets
  bool ok() const { return error_type.empty(); }
};

class KmsClient {
 public:
  KmsClient(std::string endpoint, std::string region, HttpClient& http, AwsCredentialChain& credentials,
            RetryPolicy policy);
  // Transport failures and exhausted retries are errors; a final service error is a reply.
  Result<KmsReply> call(const Context& ctx, std::string_view operation, const nlohmann::json& request);

 private:
  std::string endpoint_;
  std::string region_;
  HttpClient& http_;
  AwsCredentialChain& credentials_;
  RetryPolicy policy_;
};

// The domain error of a final KMS error (one table), logged with the service's message.
Error kms_error(std::string_view operation, const KmsReply& reply);

}  // namespace ferrohsm::signer::cloud
