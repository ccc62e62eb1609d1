// The HTTPS client of `ferrohsm --server`: one keep-alive TLS 1.3 connection to a
// ferrohsm-server's REST API with the client certificate, JSON in and out, and each
// failure as an Error: a problem+json answer gives back its CKR_* code and detail, a
// failed connection or handshake says which of the options to look at.
#pragma once

#include "context.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace httplib {
class SSLClient;
}

namespace ferrohsm::cli {

class RestClient {
 public:
  // Parses https://host:port and checks that the files can be read.
  static Result<std::unique_ptr<RestClient>> create(const RemoteOptions& o);
  ~RestClient();

  const std::string& url() const { return url_; }
  // GET/POST/DELETE with an optional bearer; `body` null sends no body. A 204 answers
  // null; a JSON answer is parsed.
  Result<nlohmann::json> call(const std::string& method, const std::string& path, const nlohmann::json& body,
                              const std::string& bearer = "");
  // A GET whose answer is not JSON (a DER public key).
  Result<std::string> get_raw(const std::string& path, const std::string& bearer);

 private:
  RestClient() = default;
  Error transport_error(int err) const;
  Error problem(int status, const std::string& body) const;

  RemoteOptions o_;
  std::string url_;
  std::unique_ptr<httplib::SSLClient> http_;
};

// A path segment or query value, percent-encoded.
std::string url_escape(const std::string& s);

}  // namespace ferrohsm::cli
