#include "server/rest/rest_server.h"

#include "base/log.h"
#include "server/rest/api.h"
#include "server/rest/problem.h"
#include "server/rest/rate_limit.h"
#include "server/tls.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

namespace ferrohsm::server::rest {
namespace {

constexpr size_t kKeepAliveRequests = 100'000;  // per connection, then the client reconnects

using Clock = std::chrono::steady_clock;

// "/v1/tokens/{token}/keys/{key}" → a regex with a group per parameter, and their names.
std::pair<std::string, std::vector<std::string>> path_pattern(const std::string& path) {
  std::string re;
  std::vector<std::string> names;
  for (size_t i = 0; i < path.size();) {
    if (path[i] == '{') {
      size_t end = path.find('}', i);
      names.push_back(path.substr(i + 1, end - i - 1));
      re += "([^/]+)";
      i = end + 1;
    } else {
      if (std::string(".[]()*+?^$|\\:").find(path[i]) != std::string::npos) re += '\\';
      re += path[i++];
    }
  }
  return {re, names};
}

Bytes fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  return Bytes(md, md + n);
}

CK_RV problem(httplib::Response& res, CK_RV rv, const std::string& detail, int status = 0) {
  res.status = status != 0 ? status : http_status(rv);
  res.set_content(problem_json(rv, detail, res.status), "application/problem+json");
  return rv;
}

}  // namespace

struct RestServer::Impl {
  Impl(const ServerConfig& c, std::shared_ptr<Core> core)
      : config(c.rest),
        api(std::move(core), std::chrono::seconds(c.rest.session_ttl_s)),
        limit(c.rest.rate_per_s),
        rules(std::make_shared<const std::vector<AccessRule>>(c.access)) {}

  // Answers one request on route number `index`, counted in the metrics by its route
  // template, status and return code.
  void serve(size_t index, const std::vector<std::string>& names, const httplib::Request& req, httplib::Response& res) {
    const Clock::time_point start = Clock::now();
    CK_RV rv = CKR_GENERAL_ERROR;
    try {
      rv = answer(api.routes()[index], names, req, res);
    } catch (...) {
      api.metrics().observe(index, 500, rv, Clock::now() - start);
      throw;  // httplib's exception handler answers
    }
    api.metrics().observe(index, res.status, rv, Clock::now() - start);
  }

  CK_RV answer(const Route& route, const std::vector<std::string>& names, const httplib::Request& req,
               httplib::Response& res) {
    Request r;
    r.peer.endpoint = address;
    r.peer.address = req.remote_addr + ":" + std::to_string(req.remote_port);
    SSL* ssl = const_cast<SSL*>(req.ssl);
    if (ssl == nullptr || !fill_cert_identity(ssl, r.peer))
      return problem(res, CKR_FUNCTION_REJECTED, "a client certificate is required", 401);
    r.cert_fingerprint = fingerprint(SSL_get0_peer_certificate(ssl));
    std::shared_ptr<const std::vector<AccessRule>> now;
    {
      std::lock_guard<std::mutex> lock(mu);
      now = rules;
    }
    std::optional<Grant> grant = find_grant(*now, r.peer);
    if (!grant) {
      log().warn("REST: refused {} ({}): no [[access]] rule admits it (rules: {})", r.peer.identity, r.peer.address,
                 describe_rules(*now));
      return problem(res, CKR_FUNCTION_REJECTED, "access denied", 403);
    }
    r.grant = *grant;
    if (!limit.admit(r.peer.identity))
      return problem(res, CKR_FUNCTION_REJECTED, "too many requests: at most " + std::to_string(config.rate_per_s) +
                                                     " per second", 429);
    for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i) r.params[names[i]] = req.matches[i + 1];
    for (const auto& [k, v] : req.params) r.query[k] = v;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) r.bearer = auth.substr(7);
    if (req.has_header("Idempotency-Key")) r.idempotency_key = req.get_header_value("Idempotency-Key");
    if (!req.body.empty()) {
      if (req.body.size() > config.max_body)
        return problem(res, CKR_DATA_LEN_RANGE, "the body is over " + std::to_string(config.max_body) + " bytes", 413);
      r.body = nlohmann::json::parse(req.body, nullptr, false);
      if (r.body.is_discarded()) return problem(res, CKR_ARGUMENTS_BAD, "the body is not JSON");
    }
    Result<Reply> out = route.handler(r);
    if (!out) {
      log().debug("REST {} {} by {}: {} {}", req.method, route.path, r.peer.identity, rv_name(out.error().rv),
                  out.error().message);
      return problem(res, out.error().rv, out.error().message);
    }
    res.status = out->status;
    if (!out->body.empty() || out->status != 204) res.set_content(out->body, out->content_type.c_str());
    return out->rv;
  }

  // The TLS files in force: each new connection switches to this context when its
  // ClientHello arrives (the listener's own context only carries the fixed settings),
  // so a reload reaches new connections and leaves those already open as they are.
  std::shared_ptr<asio::ssl::context> current_tls() {
    std::lock_guard<std::mutex> lock(mu);
    return tls;
  }
  static int on_client_hello(SSL* ssl, int* /*alert*/, void* arg) {
    auto now = static_cast<Impl*>(arg)->current_tls();
    if (!now || SSL_set_SSL_CTX(ssl, now->native_handle()) == nullptr) return SSL_CLIENT_HELLO_ERROR;
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  RestConfig config;
  Api api;
  std::shared_ptr<asio::ssl::context> tls;  // under mu
  RateLimit limit;
  std::mutex mu;
  std::shared_ptr<const std::vector<AccessRule>> rules;
  std::unique_ptr<httplib::SSLServer> http;
  std::string address;
  std::thread thread;
};

RestServer::RestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestServer::~RestServer() {
  // httplib's stop() does nothing before its loop runs: wait for it (bounded).
  for (int i = 0; i < 5000 && !impl_->http->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::string& RestServer::address() const { return impl_->address; }

Status RestServer::reload_tls(const ServerConfig& c) {
  auto next = make_server_tls(c.tls_cert, c.tls_key, c.client_ca);
  if (!next) {
    log().error("REST: the TLS files were not reloaded, the ones in force stay: {}", next.error().message);
    return next.error();
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tls = std::move(*next);
  log().info("REST: TLS files reloaded ({}, {}, {}) for new connections", c.tls_cert, c.tls_key, c.client_ca);
  return {};
}

void RestServer::set_access(std::vector<AccessRule> rules) {
  auto next = std::make_shared<const std::vector<AccessRule>>(std::move(rules));
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->rules = std::move(next);
}

Result<std::unique_ptr<RestServer>> RestServer::start(const ServerConfig& c, std::shared_ptr<Core> core) {
  auto impl = std::make_unique<Impl>(c, std::move(core));
  std::string tls_error;
  FH_ASSIGN_OR_RETURN(impl->tls, make_server_tls(c.tls_cert, c.tls_key, c.client_ca));
  Impl* self = impl.get();
  impl->http = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    Status s = configure_server_tls(&ctx, c.tls_cert, c.tls_key, c.client_ca);
    if (!s) tls_error = s.error().message;
    SSL_CTX_set_client_hello_cb(&ctx, &Impl::on_client_hello, self);
    return s.ok();
  });
  if (!impl->http->is_valid()) return make_error(CKR_GENERAL_ERROR, "REST: cannot use " + tls_error);
  httplib::SSLServer& http = *impl->http;
  const uint32_t threads = c.rest.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(c.rest.max_body);
  http.set_read_timeout(std::chrono::milliseconds(c.rest.timeout_ms));
  http.set_write_timeout(std::chrono::milliseconds(c.rest.timeout_ms));
  http.set_keep_alive_timeout(5);
  // cpp-httplib closes a connection after 5 requests by default; each new one is a TLS
  // handshake with a client certificate (~2 ms), far more than the call it carries.
  http.set_keep_alive_max_count(kKeepAliveRequests);
  // A reply goes out as headers and body in separate writes; with Nagle on, the body
  // waits for the client's delayed ACK (40 ms) on every keep-alive request.
  http.set_tcp_nodelay(true);
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    problem(res, CKR_GENERAL_ERROR, "the request failed inside the server");
  });
  http.set_error_handler([self, max_body = c.rest.max_body](const httplib::Request& req, httplib::Response& res) {
    if (res.get_header_value("Content-Type") == "application/problem+json") return;
    CK_RV rv = res.status == 404 ? CKR_FUNCTION_NOT_SUPPORTED : res.status == 413 ? CKR_DATA_LEN_RANGE : CKR_ARGUMENTS_BAD;
    std::string detail;
    if (res.status == 404) detail = "no such route: " + req.method + " " + req.path;
    else if (res.status == 413) detail = "the request body is larger than [rest] max_body (" + std::to_string(max_body) + " bytes)";
    else detail = "the request cannot be read (HTTP " + std::to_string(res.status) + ")";
    problem(res, rv, detail, res.status);
    self->api.metrics().observe(self->api.metrics().unmatched(), res.status, rv, {});
  });
  for (size_t i = 0; i < self->api.routes().size(); ++i) {
    const Route& route = self->api.routes()[i];
    auto [re, names] = path_pattern(route.path);
    httplib::Server::Handler h = [self, i, names = names](const httplib::Request& req, httplib::Response& res) {
      self->serve(i, names, req, res);
    };
    if (route.method == "GET") http.Get(re, h);
    else if (route.method == "POST") http.Post(re, h);
    else if (route.method == "DELETE") http.Delete(re, h);
  }
  const std::string& listen = c.rest.listen;
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port == 0) {
    port = http.bind_to_any_port(host);
    if (port <= 0) return make_error(CKR_GENERAL_ERROR, "REST: cannot listen on " + listen);
  } else if (!http.bind_to_port(host, port)) {
    return make_error(CKR_GENERAL_ERROR, "REST: cannot listen on " + listen);
  }
  self->address = "rest:" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  self->thread = std::thread([self] { self->http->listen_after_bind(); });
  log().info("listening on {} (REST API, TLS 1.3 with client certificates)", self->address);
  return std::unique_ptr<RestServer>(new RestServer(std::move(impl)));
}

}  // namespace ferrohsm::server::rest
