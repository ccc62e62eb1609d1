// AWS Signature Version 4, header form (AWS4-HMAC-SHA256), as the aws-kms adapter signs
// its KMS and STS requests. Checked against AWS's published test suite
// (../shared/aws-sigv4, tests/signer/aws_sigv4_test.cc).
//
// Written here rather than taken from libcurl's CURLOPT_AWS_SIGV4: Debian 12's libcurl
// (7.88) signs the query string as sent (no decoding, encoding or sorting) and orders the
// canonical headers by their whole "name:value" line, so parts of the published suite
// cannot pass through it; and the adapter must know exactly which headers it signed.
#pragma once

#include <chrono>
#include <string>

#include "ferrohsm/signer/cloud/http_client.h"

namespace ferrohsm::signer::cloud::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct Request {
  std::string method;
  std::string path = "/";  // as sent, not yet encoded
  std::string query;       // without '?'
  Headers headers;         // must hold Host
  std::string body;
};

struct Options {
  std::string region;
  std::string service;
  std::string amz_date;               // yyyymmddThhmmssZ
  bool normalize_path = true;         // remove dot segments and repeated slashes (not S3)
  bool content_sha256_header = false;  // also send and sign x-amz-content-sha256
  bool sign_session_token = true;      // false: X-Amz-Security-Token is added after signing
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
  Headers headers;            // every header to send: the request's, X-Amz-Date, the token…, Authorization
};

Signed sign(const Request& request, const Credentials& credentials, const Options& options);

// yyyymmddThhmmssZ of a moment.
std::string amz_date(std::chrono::system_clock::time_point t);

}  // namespace ferrohsm::signer::cloud::sigv4
