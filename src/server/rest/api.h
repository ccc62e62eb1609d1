// The REST API's routes, as one table: each row is a method, a path written as in the
// OpenAPI document ("/v1/tokens/{token}/keys/{key}/sign") and its handler. The HTTPS
// listener (rest_server.h) installs the table; the contract test compares it with
// docs/openapi.json both ways. Handlers run the same core calls as the PKCS#11 library
// (core::App), so the same access rules, policy and audit apply.
#pragma once

#include "base/result.h"
#include "server/peer.h"
#include "server/rest/idempotency.h"
#include "server/rest/metrics.h"
#include "server/rest/sessions.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm {
class Core;
}

namespace ferrohsm::server::rest {

struct Request {
  Peer peer;
  Grant grant;
  Bytes cert_fingerprint;
  std::map<std::string, std::string> params;  // from the path: token, key
  std::map<std::string, std::string> query;
  nlohmann::json body;                        // null when there is none
  std::string bearer;                         // from "Authorization: Bearer …"
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header, as sent
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  CK_RV rv = CKR_OK;  // what the metrics count it as (a problem answered as a Reply names its code)
};

using Handler = std::function<Result<Reply>(const Request&)>;

struct Route {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;    // OpenAPI form
  Handler handler;
};

class Api {
 public:
  Api(std::shared_ptr<Core> core, std::chrono::seconds session_ttl);
  ~Api();
  const std::vector<Route>& routes() const { return routes_; }
  Sessions& sessions() { return sessions_; }
  // Counts every request by its index in routes() (metrics.h), for GET /metrics.
  Metrics& metrics() { return *metrics_; }

 private:
  void add(std::string method, std::string path, Result<Reply> (Api::*fn)(const Request&));
  // An application on the core for this caller (its identity and grant).
  std::unique_ptr<App> open_app(const Request& r);
  Result<std::shared_ptr<Login>> login_of(const Request& r);

  // The store answers: /readyz and /metrics' ferrohsm_store_up.
  Status store_ready();

  Result<Reply> livez(const Request&);
  Result<Reply> readyz(const Request&);
  Result<Reply> metrics_text(const Request&);
  Result<Reply> openapi(const Request&);
  Result<Reply> tokens(const Request&);
  Result<Reply> login(const Request&);
  Result<Reply> logout(const Request&);
  Result<Reply> list_keys(const Request&);
  Result<Reply> generate_key(const Request&);
  Result<Reply> make_key(const Request&, Login& l);
  Result<Reply> get_key(const Request&);
  Result<Reply> delete_key(const Request&);
  Result<Reply> public_key(const Request&);
  Result<Reply> sign(const Request&);
  Result<Reply> verify(const Request&);
  Result<Reply> encrypt(const Request&);
  Result<Reply> decrypt(const Request&);
  Result<Reply> crypt(const Request&, CipherDir dir);
  Result<Reply> mac(const Request&);
  Result<Reply> wrap(const Request&);          // api_wrap.cc
  Result<Reply> unwrap(const Request&);        // api_wrap.cc
  Result<Reply> import_keys(const Request&);   // api_import.cc
  Result<Reply> random(const Request&);

  std::shared_ptr<Core> core_;
  Sessions sessions_;
  std::vector<Route> routes_;
  std::unique_ptr<Metrics> metrics_;
  IdempotencyCache idempotency_;
};

// The OpenAPI document (docs/openapi.json, compiled in).
const std::string& openapi_document();

}  // namespace ferrohsm::server::rest
