#include "rest_pair.h"

#include "base/base64.h"
#include "harness.h"
#include "ops.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

namespace p11bench {
namespace {

using json = nlohmann::json;

constexpr int kLatencyCalls = 2000;
constexpr double kLatencySeconds = 5;

struct Endpoint {
  std::string host;
  int port = 0;
};

bool parse_url(const std::string& url, Endpoint& e) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return false;
  const std::string rest = url.substr(scheme.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  e.host = rest.substr(0, colon);
  e.port = std::atoi(rest.c_str() + colon + 1);
  return e.port > 0;
}

// One keep-alive HTTPS connection with the client certificate; the bearer once logged in.
class Client {
 public:
  Client(const RestArgs& a, const Endpoint& e) : http_(e.host, e.port, a.cert, a.key) {
    http_.set_ca_cert_path(a.ca.c_str());
    http_.enable_server_certificate_verification(true);
    http_.set_keep_alive(true);
    http_.set_read_timeout(30, 0);
    http_.set_tcp_nodelay(true);  // a request is headers and body: no delayed-ACK wait between them
  }
  void set_bearer(const std::string& b) { headers_ = {{"Authorization", "Bearer " + b}}; }
  // The reply's body when the status is `want`; nullopt (with a message) otherwise.
  std::optional<std::string> post(const std::string& path, const std::string& body, int want, std::string& why) {
    auto r = http_.Post(path, headers_, body, "application/json");
    if (!r) {
      why = "POST " + path + ": " + httplib::to_string(r.error());
      return std::nullopt;
    }
    if (r->status != want) {
      why = "POST " + path + ": HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200);
      return std::nullopt;
    }
    return r->body;
  }

 private:
  httplib::SSLClient http_;
  httplib::Headers headers_;
};

struct RestKeys {
  std::string bearer, ec_id, aes_id;
};

std::string b64u(size_t n) {
  std::vector<uint8_t> b(n);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  return ferrohsm::to_base64url(std::span<const uint8_t>(b.data(), b.size()));
}

// Logs in and makes the two keys the REST rows use (token keys, like the PKCS#11 rows').
bool rest_setup(const RestArgs& a, const Endpoint& e, RestKeys& k, std::string& why) {
  Client c(a, e);
  const std::string base = "/v1/tokens/" + a.o.label;
  auto login = c.post(base + "/login", json{{"pin", read_pin(a.o.pin_file, false)}}.dump(), 200, why);
  if (!login) return false;
  k.bearer = json::parse(*login).at("session").get<std::string>();
  c.set_bearer(k.bearer);
  auto ec = c.post(base + "/keys", json{{"type", "ec"}, {"curve", "P-256"}, {"label", "rest-bench-p256"}}.dump(), 201, why);
  if (!ec) return false;
  auto aes = c.post(base + "/keys", json{{"type", "aes"}, {"bits", 256}, {"label", "rest-bench-aes"}}.dump(), 201, why);
  if (!aes) return false;
  k.ec_id = json::parse(*ec).at("id").get<std::string>();
  k.aes_id = json::parse(*aes).at("id").get<std::string>();
  return true;
}

struct RestOp {
  const char* row;  // the PKCS#11 row it stands beside (crypto_ops())
  std::string path, body;
};

Factory rest_factory(const RestArgs& a, const Endpoint& e, const RestKeys& k, const RestOp& op) {
  return [&a, e, k, op](int, std::string& why) -> std::optional<OpFn> {
    auto c = std::make_shared<Client>(a, e);
    c->set_bearer(k.bearer);
    if (!c->post(op.path, op.body, 200, why)) return std::nullopt;  // connects, and proves the call works
    return OpFn([c, op] {
      std::string ignored;
      return c->post(op.path, op.body, 200, ignored).has_value();
    });
  };
}

const OpSpec* op_named(const std::string& name) {
  for (const OpSpec& op : crypto_ops())
    if (op.name == name) return &op;
  return nullptr;
}

// The p50 of one client's sequential REST signs, in µs.
void latency(const RestArgs& a, const Endpoint& e, const RestKeys& k, const RestOp& sign) {
  const std::string row = "rest: sign ECDSA P-256 p50 latency";
  std::string why;
  auto fn = rest_factory(a, e, k, sign)(0, why);
  if (!fn) return emit_na("rest", row, 1, why);
  std::vector<double> us;
  const double start = now_s();
  while (static_cast<int>(us.size()) < kLatencyCalls && now_s() - start < kLatencySeconds) {
    const double t0 = now_s();
    if (!(*fn)()) return emit_na("rest", row, 1, "a sign failed");
    us.push_back((now_s() - t0) * 1e6);
  }
  std::sort(us.begin(), us.end());
  emit("rest", row, 1, "µs", us[us.size() / 2]);
  emit("rest", "rest: sign ECDSA P-256 p99 latency", 1, "µs", us[us.size() * 99 / 100]);
}

}  // namespace

int run_rest_pair(const RestArgs& a) {
  Endpoint e;
  if (!parse_url(a.url, e)) {
    std::fprintf(stderr, "p11bench: --url must be https://HOST:PORT\n");
    return 2;
  }
  RestKeys k;
  std::string why;
  if (!rest_setup(a, e, k, why)) {
    std::fprintf(stderr, "p11bench: REST setup: %s\n", why.c_str());
    return 1;
  }
  const std::string keys = "/v1/tokens/" + a.o.label + "/keys/";
  const RestOp ops[] = {
      {"sign ECDSA P-256 32B digest", keys + k.ec_id + "/sign", json{{"mechanism", "ECDSA"}, {"data", b64u(32)}}.dump()},
      {"encrypt AES-256-GCM 4KiB", keys + k.aes_id + "/encrypt",
       json{{"mechanism", "AES_GCM"}, {"plaintext", b64u(4096)}}.dump()},
  };

  Module m = load_module(a.o.module);
  long slot = find_slot(m, a.o.label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench: no token labelled %s\n", a.o.label.c_str());
    return 2;
  }
  int most = 1;
  for (int t : a.threads) most = std::max(most, t);
  std::vector<CK_SESSION_HANDLE> sessions;
  for (int i = 0; i < most; ++i) sessions.push_back(open_session(m, static_cast<CK_SLOT_ID>(slot)));
  login_user(m, sessions[0], read_pin(a.o.pin_file, false));
  const TokenKeys tk = find_token_keys(m, sessions[0]);
  const double secs = measure_seconds();
  for (const RestOp& op : ops) {
    const OpSpec* spec = op_named(op.row);
    if (spec == nullptr) continue;
    const std::string row = std::string("rest: ") + op.row;
    for (int t : a.threads) {
      emit_rate("rest-p11", row, t, measure(t, p11_factory(m, sessions, tk, *spec), secs));
      emit_rate("rest", row, t, measure(t, rest_factory(a, e, k, op), secs));
    }
  }
  latency(a, e, k, ops[0]);
  unload_module(m);
  return 0;
}

}  // namespace p11bench
