// The signer's HTTP/JSON API, installed on an httplib server.
//
//   GET  /livez  /readyz  /metrics
//   GET  /v1/keys                                  every key with its state
//   GET  /v1/jwks                                  JWKS of every non-retired key
//   POST /v1/scopes/{scope}/keys                   generate the scope's first key
//   GET  /v1/scopes/{scope}/keys                   the scope's keys with states
//   GET  /v1/scopes/{scope}/keys/{key_id}.pem      one public key as PEM
//   GET  /v1/scopes/{scope}/jwks                   JWKS of the scope
//   POST /v1/scopes/{scope}/sign                   {"digest": base64 | "digest_hex": hex}
//   POST /v1/scopes/{scope}/rotation/open|activate|close
//
// Errors are {"error": {"kind": "...", "message": "..."}} with one status per kind.
#pragma once

#include <chrono>
#include <string>

#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/metrics.h"
#include "ferrohsm/signer/readiness.h"
#include "ferrohsm/signer/rotation_service.h"

namespace httplib {
class Server;
}

namespace ferrohsm::signer {

// The HTTP status for a domain error (one table).
int http_status_for(ErrorKind kind);

struct ApiOptions {
  std::chrono::milliseconds request_timeout{5000};
};

class HttpApi {
 public:
  HttpApi(RotationService& service, KeyProvider& provider, Metrics& metrics, ApiOptions options = {});
  void install(httplib::Server& server);
  // Cancels the contexts of requests still running (called on shutdown).
  void cancel_in_flight() { shutdown_.cancel(); }

 private:
  Context request_context() const;

  RotationService& service_;
  KeyProvider& provider_;
  Metrics& metrics_;
  ApiOptions options_;
  ReadinessProbe readiness_;
  CancelSource shutdown_;
};

}  // namespace ferrohsm::signer
