// The fake AWS services' check of a SigV4 signature: written apart from the signer's
// signing code (src/signer/providers/aws_sigv4.cc) and proved against AWS's published
// suite on its own (aws_sigv4_test.cc), so a mistake shared by both cannot pass.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferrohsm::signer::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;   // as received, before decoding
  std::string query;  // without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // as received (any case, repeats kept)
  std::string body;
};

struct SigV4Verdict {
  bool ok = false;
  std::string error_type;  // what AWS answers: IncompleteSignatureException, InvalidSignatureException …
  std::string message;
  std::string access_key_id;
  std::vector<std::string> signed_headers;
};

struct SigV4Expectation {
  std::string region;
  std::string service;
  bool normalize_path = true;
  // The request's time must be this close to now (AWS: 5 minutes); nullopt: not checked.
  std::optional<std::chrono::system_clock::time_point> now;
};

using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

SigV4Verdict check_sigv4(const ReceivedRequest& request, const SecretLookup& secret_of, const SigV4Expectation& expect);

}  // namespace ferrohsm::signer::testing
