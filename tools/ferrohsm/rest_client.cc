#include "rest_client.h"

#include "base/names.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <cctype>
#include <fstream>
#include <regex>

namespace ferrohsm::cli {
namespace {

constexpr time_t kConnectSeconds = 5;  // a server that is not there fails fast, never hangs
constexpr time_t kIoSeconds = 60;

Status readable(const std::string& path, const char* option) {
  std::ifstream f(path);
  if (!f) return make_error(CKR_ARGUMENTS_BAD, std::string("cannot read ") + option + " " + path);
  return {};
}

}  // namespace

std::string url_escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

RestClient::~RestClient() = default;

Result<std::unique_ptr<RestClient>> RestClient::create(const RemoteOptions& o) {
  static const std::regex kUrl(R"(https://(\[[0-9A-Fa-f:.]+\]|[^/:\[\]]+):([0-9]{1,5})/?)");
  std::smatch m;
  if (!std::regex_match(o.server, m, kUrl))
    return make_error(CKR_ARGUMENTS_BAD, "--server '" + o.server +
                                             "' must be https://host:port (the REST API is served over TLS only)");
  if (o.cert.empty() || o.key.empty())
    return make_error(CKR_ARGUMENTS_BAD,
                      "--server needs --cert and --key: the REST API admits only callers with a client certificate");
  FH_TRY(readable(o.cert, "--cert"));
  FH_TRY(readable(o.key, "--key"));
  if (!o.ca.empty()) FH_TRY(readable(o.ca, "--ca"));
  std::string host = m[1].str();
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(m[2].str());
  if (port < 1 || port > 65535) return make_error(CKR_ARGUMENTS_BAD, "--server: port " + m[2].str() + " is out of range");
  std::unique_ptr<RestClient> c(new RestClient());
  c->o_ = o;
  c->url_ = "https://" + m[1].str() + ":" + m[2].str();
  c->http_ = std::make_unique<httplib::SSLClient>(host, port, o.cert, o.key);
  if (!c->http_->is_valid())
    return make_error(CKR_ARGUMENTS_BAD, "--cert " + o.cert + " and --key " + o.key +
                                             " are not a PEM certificate and its private key");
  SSL_CTX_set_min_proto_version(c->http_->ssl_context(), TLS1_3_VERSION);
  if (!o.ca.empty()) c->http_->set_ca_cert_path(o.ca.c_str());
  c->http_->enable_server_certificate_verification(true);
  c->http_->set_keep_alive(true);
  c->http_->set_connection_timeout(kConnectSeconds, 0);
  c->http_->set_read_timeout(kIoSeconds, 0);
  c->http_->set_write_timeout(kIoSeconds, 0);
  return c;
}

Error RestClient::transport_error(int err) const {
  const auto e = static_cast<httplib::Error>(err);
  const std::string at = "the REST server " + url_;
  switch (e) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
      return make_error(CKR_DEVICE_ERROR, "cannot connect to " + at + ": nothing answers there (is ferrohsm-server "
                                          "running with [rest] listen on that address?)");
    case httplib::Error::SSLServerVerification:
      return make_error(CKR_DEVICE_ERROR, "the certificate of " + at + " does not verify against " +
                                              (o_.ca.empty() ? std::string("the system's CAs (give --ca)") : "--ca " + o_.ca) +
                                              ", or does not name that host");
    case httplib::Error::SSLConnection:
      return make_error(CKR_DEVICE_ERROR, "the TLS 1.3 handshake with " + at +
                                              " failed: the server did not accept the client certificate --cert " +
                                              o_.cert + " (not from its client CA, or expired), or does not speak TLS 1.3");
    case httplib::Error::SSLLoadingCerts:
      return make_error(CKR_ARGUMENTS_BAD, "cannot load the CA certificates of --ca " + o_.ca);
    case httplib::Error::Read:
    case httplib::Error::Write:
      // Under TLS 1.3 a server that refuses the client certificate says so after the
      // client's side of the handshake has finished: the first request then fails here.
      return make_error(CKR_DEVICE_ERROR, at + " closed the connection (" + httplib::to_string(e) +
                                              "): it did not accept the client certificate --cert " + o_.cert +
                                              " (not from its client CA, or expired), or it stopped or timed out");
    default:
      return make_error(CKR_DEVICE_ERROR, at + ": " + httplib::to_string(e));
  }
}

Error RestClient::problem(int status, const std::string& body) const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  CK_RV rv = CKR_FUNCTION_FAILED;
  std::string detail = "HTTP status " + std::to_string(status);
  if (j.is_object()) {
    if (auto code = rv_from_name(j.value("title", ""))) rv = *code;
    detail = j.value("detail", detail);
  }
  return make_error(rv, detail);
}

Result<nlohmann::json> RestClient::call(const std::string& method, const std::string& path, const nlohmann::json& body,
                                        const std::string& bearer) {
  httplib::Headers h;
  if (!bearer.empty()) h.emplace("Authorization", "Bearer " + bearer);
  const std::string text = body.is_null() ? "" : body.dump();
  httplib::Result res = method == "GET"    ? http_->Get(path.c_str(), h)
                        : method == "POST" ? http_->Post(path.c_str(), h, text, "application/json")
                                           : http_->Delete(path.c_str(), h);
  if (!res) return transport_error(static_cast<int>(res.error()));
  if (res->status >= 400) return problem(res->status, res->body);
  if (res->status == 204 || res->body.empty()) return nlohmann::json();
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return make_error(CKR_DEVICE_ERROR, "the REST server answered " + path + " with something not JSON");
  return j;
}

Result<std::string> RestClient::get_raw(const std::string& path, const std::string& bearer) {
  httplib::Headers h{{"Authorization", "Bearer " + bearer}};
  httplib::Result res = http_->Get(path.c_str(), h);
  if (!res) return transport_error(static_cast<int>(res.error()));
  if (res->status >= 400) return problem(res->status, res->body);
  return res->body;
}

}  // namespace ferrohsm::cli
