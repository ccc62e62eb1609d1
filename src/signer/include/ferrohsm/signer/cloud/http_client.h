// The one HTTP transport of the cloud adapters: libcurl, one exchange per call, bounded
// by a timeout. A transport failure (no connection, TLS, timeout) is kProviderUnavailable
// naming the host and libcurl's reason; headers and bodies are never logged.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferrohsm/signer/cloud/settings.h"
#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer::cloud {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  // The first header of that (lower-case) name, or "".
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(CloudHttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One exchange; an HTTP error status is a response, not an error.
  Result<HttpResponse> send(const HttpRequest& request, std::chrono::milliseconds timeout);
  const CloudHttpSettings& settings() const { return settings_; }

 private:
  struct Pool;
  CloudHttpSettings settings_;
  std::unique_ptr<Pool> pool_;  // idle libcurl handles, so connections are reused
};

// Plain http:// only to a loopback host (the tests' fakes); everything else https://.
// A bearer token or a signature must not cross a network in the clear.
Status check_endpoint(std::string_view what, std::string_view url);
// "https://host[:port]" without a trailing slash, for building URLs.
std::string trim_slash(std::string url);
// The authority ("host[:port]") of an URL, as it goes into the Host header.
std::string url_authority(std::string_view url);

// A service's error text made safe to log and to return: control characters dropped,
// at most 300 characters, and every occurrence of a secret replaced by "[redacted]".
std::string clean_message(std::string_view text, std::span<const std::string> secrets = {});

// application/x-www-form-urlencoded, for token endpoints.
std::string form_encode(std::span<const std::pair<std::string, std::string>> fields);
// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

}  // namespace ferrohsm::signer::cloud
