#include "ferrohsm/signer/http_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <set>

#include "base/bytes.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"

namespace ferrohsm::signer {

using nlohmann::json;

namespace {
struct KindStatus {
  ErrorKind kind;
  int status;
};
// One table: domain error → HTTP status.
constexpr KindStatus kKindStatus[] = {
    {ErrorKind::kKeyNotFound, 404},         {ErrorKind::kProviderUnavailable, 503},
    {ErrorKind::kKeyRetired, 409},          {ErrorKind::kRotationInProgress, 409},
    {ErrorKind::kNoActiveKey, 409},         {ErrorKind::kInvalidArgument, 400},
    {ErrorKind::kInvalidState, 409},        {ErrorKind::kDeadlineExceeded, 504},
    {ErrorKind::kCancelled, 503},           {ErrorKind::kNotBuilt, 501},
    {ErrorKind::kNotSupported, 501},        {ErrorKind::kStateUnavailable, 503},
    {ErrorKind::kInternal, 500},
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

json error_json(const Error& e) {
  return {{"error", {{"kind", std::string(error_kind_name(e.kind))}, {"message", e.message}}}};
}

json key_json(const SigningKey& k) {
  return {{"scope", k.scope.str()},
          {"key_id", k.key_id.str()},
          {"state", std::string(key_state_name(k.state))},
          {"provider", k.provider},
          {"handle_id", k.handle_id},
          {"algorithm", "Ed25519"},
          {"public_key", to_base64url(k.public_key)},
          {"public_key_hex", to_hex(k.public_key)},
          {"public_key_pem", ed25519::public_pem(k.public_key)},
          {"created_at", k.created_at},
          {"updated_at", k.updated_at}};
}

// RFC 8037 OKP keys; pending keys are published ahead, retired keys are dropped.
json jwks_json(const std::vector<SigningKey>& keys) {
  json arr = json::array();
  for (const auto& k : keys) {
    if (k.state == KeyState::kRetired) continue;
    arr.push_back({{"kty", "OKP"},
                   {"crv", "Ed25519"},
                   {"x", to_base64url(k.public_key)},
                   {"kid", k.key_id.str()},
                   {"use", "sig"},
                   {"alg", "EdDSA"}});
  }
  return {{"keys", arr}};
}

Result<Scope> path_scope(const httplib::Request& req) {
  std::string text = req.matches[1];
  if (std::string_view(text).starts_with(kReservedScopePrefix))
    return Error::invalid("scopes starting with '" + std::string(kReservedScopePrefix) + "' are reserved");
  return Scope::parse(text);
}

// Parses an optional JSON object body; only `allowed` fields may appear.
Result<json> body_object(const httplib::Request& req, const std::set<std::string>& allowed) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return Error::invalid("request body is not valid JSON");
  if (!body.is_object()) return Error::invalid("request body must be a JSON object");
  for (const auto& [name, value] : body.items())
    if (!allowed.contains(name)) return Error::invalid("unknown field '" + name + "' in request body");
  return body;
}

Result<std::optional<KeyId>> optional_key_id(const json& body) {
  if (!body.contains("key_id")) return std::optional<KeyId>{};
  if (!body["key_id"].is_string()) return Error::invalid("field 'key_id' must be a string");
  auto id = KeyId::parse(body["key_id"].get<std::string>());
  if (!id) return id.error();
  return std::optional<KeyId>(*id);
}

Result<Digest> digest_field(const json& body) {
  bool b64 = body.contains("digest"), hex = body.contains("digest_hex");
  if (b64 == hex) return Error::invalid("give exactly one of 'digest' (base64) or 'digest_hex' (hex): the SHA-512 digest");
  const json& v = b64 ? body["digest"] : body["digest_hex"];
  if (!v.is_string()) return Error::invalid(std::string("field '") + (b64 ? "digest" : "digest_hex") + "' must be a string");
  std::optional<Bytes> bytes;
  if (b64) {
    bytes = from_base64(v.get<std::string>());
  } else if (Bytes raw; from_hex(v.get<std::string>(), raw)) {
    bytes = std::move(raw);
  }
  if (!bytes) return Error::invalid(b64 ? "field 'digest' is not valid base64" : "field 'digest_hex' is not valid hex");
  if (bytes->size() != 64)
    return Error::invalid("the digest must be 64 bytes (SHA-512), got " + std::to_string(bytes->size()));
  Digest d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

Reply json_reply(int status, const json& j) { return Reply{status, j.dump(2) + "\n"}; }
}  // namespace

int http_status_for(ErrorKind kind) {
  for (const auto& e : kKindStatus)
    if (e.kind == kind) return e.status;
  return 500;
}

HttpApi::HttpApi(RotationService& service, KeyProvider& provider, Metrics& metrics, ApiOptions options)
    : service_(service), provider_(provider), metrics_(metrics), options_(options), readiness_(provider, &service) {}

Context HttpApi::request_context() const {
  return Context::with_timeout(options_.request_timeout).with_cancel(shutdown_);
}

void HttpApi::install(httplib::Server& server) {
  using Handler = std::function<Result<Reply>(const httplib::Request&)>;
  // Every route: timing, metrics, one error translation, JSON errors.
  auto route = [this](std::string name, Handler fn) {
    return [this, name = std::move(name), fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      Result<Reply> r = Error::internal("handler did not run");
      try {
        r = fn(req);
      } catch (const std::exception& e) {
        r = Error::internal(std::string("unexpected failure: ") + e.what());
      }
      Reply reply;
      if (r) {
        reply = std::move(*r);
      } else {
        metrics_.count_error(r.error().kind);
        reply = json_reply(http_status_for(r.error().kind), error_json(r.error()));
      }
      res.status = reply.status;
      res.set_content(reply.body, reply.content_type.c_str());
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      metrics_.observe_request(name, reply.status, secs);
    };
  };
  const std::string kScope = "/v1/scopes/([^/]+)";

  server.Get("/livez", route("livez", [this](const httplib::Request&) -> Result<Reply> {
    json j = {{"status", "ok"}, {"provider", std::string(provider_.name())}, {"dev_only", provider_.dev_only()}};
    if (provider_.dev_only())
      j["warning"] = "dev-only: the '" + std::string(provider_.name()) + "' key provider must not run in production";
    return json_reply(200, j);
  }));
  server.Get("/readyz", route("readyz", [this](const httplib::Request&) -> Result<Reply> {
    if (auto s = readiness_.check(request_context()); !s) {
      Error e = s.error();
      if (e.kind != ErrorKind::kProviderUnavailable && e.kind != ErrorKind::kDeadlineExceeded &&
          e.kind != ErrorKind::kStateUnavailable)
        e = Error::unavailable("readiness probe failed: " + e.message);
      metrics_.count_error(e.kind);
      json j = error_json(e);
      j["ready"] = false;
      return json_reply(503, j);
    }
    return json_reply(200, {{"ready", true}, {"provider", std::string(provider_.name())}});
  }));
  server.Get("/metrics", route("metrics", [this](const httplib::Request&) -> Result<Reply> {
    return Reply{200, metrics_.render(service_.state_counts(), provider_.dev_only()),
                 "text/plain; version=0.0.4"};
  }));
  server.Get("/v1/keys", route("list_keys", [this](const httplib::Request&) -> Result<Reply> {
    json arr = json::array();
    for (const auto& k : service_.keys()) arr.push_back(key_json(k));
    return json_reply(200, {{"keys", arr}});
  }));
  server.Get("/v1/jwks", route("jwks", [this](const httplib::Request&) -> Result<Reply> {
    return json_reply(200, jwks_json(service_.keys()));
  }));
  server.Get(kScope + "/keys", route("list_keys", [this](const httplib::Request& req) -> Result<Reply> {
    auto scope = path_scope(req);
    if (!scope) return scope.error();
    json arr = json::array();
    for (const auto& k : service_.keys(*scope)) arr.push_back(key_json(k));
    return json_reply(200, {{"scope", scope->str()}, {"keys", arr}});
  }));
  server.Get(kScope + "/jwks", route("jwks", [this](const httplib::Request& req) -> Result<Reply> {
    auto scope = path_scope(req);
    if (!scope) return scope.error();
    return json_reply(200, jwks_json(service_.keys(*scope)));
  }));
  server.Get(kScope + "/keys/([^/]+)\\.pem", route("public_pem", [this](const httplib::Request& req) -> Result<Reply> {
    auto scope = path_scope(req);
    if (!scope) return scope.error();
    auto key_id = KeyId::parse(std::string(req.matches[2]));
    if (!key_id) return key_id.error();
    for (const auto& k : service_.keys(*scope))
      if (k.key_id == *key_id) return Reply{200, ed25519::public_pem(k.public_key), "application/x-pem-file"};
    return Error::key_not_found("scope " + scope->str() + " has no key " + key_id->str());
  }));

  auto key_op = [this, &route](std::string name,
                               Result<SigningKey> (RotationService::*op)(const Context&, const Scope&,
                                                                         std::optional<KeyId>),
                               int ok_status) {
    return route(name, [this, op, ok_status](const httplib::Request& req) -> Result<Reply> {
      auto scope = path_scope(req);
      if (!scope) return scope.error();
      auto body = body_object(req, {"key_id"});
      if (!body) return body.error();
      auto key_id = optional_key_id(*body);
      if (!key_id) return key_id.error();
      auto key = (service_.*op)(request_context(), *scope, *key_id);
      if (!key) return key.error();
      return json_reply(ok_status, key_json(*key));
    });
  };
  server.Post(kScope + "/keys", key_op("generate", &RotationService::generate, 201));
  server.Post(kScope + "/rotation/open", key_op("rotation_open", &RotationService::open, 201));
  server.Post(kScope + "/rotation/activate", key_op("rotation_activate", &RotationService::activate, 200));
  server.Post(kScope + "/rotation/close", key_op("rotation_close", &RotationService::close, 200));

  server.Post(kScope + "/sign", route("sign", [this](const httplib::Request& req) -> Result<Reply> {
    auto scope = path_scope(req);
    if (!scope) return scope.error();
    auto body = body_object(req, {"digest", "digest_hex", "key_id"});
    if (!body) return body.error();
    auto digest = digest_field(*body);
    if (!digest) return digest.error();
    auto key_id = optional_key_id(*body);
    if (!key_id) return key_id.error();
    auto signed_ = service_.sign(request_context(), *scope, *digest, *key_id);
    if (!signed_) return signed_.error();
    return json_reply(200, {{"scope", signed_->scope.str()},
                            {"key_id", signed_->key_id.str()},
                            {"algorithm", "Ed25519"},
                            {"signature", to_base64(signed_->signature)},
                            {"signature_hex", to_hex(signed_->signature)}});
  }));

  server.set_payload_max_length(64 * 1024);
  // Unrouted paths (and httplib's own 4xx) get a JSON error too.
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    json j = res.status == 404
                 ? json{{"error", {{"kind", "no_route"}, {"message", "no route " + req.method + " " + req.path}}}}
                 : json{{"error", {{"kind", "bad_request"}, {"message", "bad HTTP request (" + std::to_string(res.status) + ")"}}}};
    res.set_content(j.dump(2) + "\n", "application/json");
  });
}

}  // namespace ferrohsm::signer
