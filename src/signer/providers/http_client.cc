// libcurl under the cloud adapters: a pool of easy handles (connection reuse), one
// exchange per send(), no redirects, http/https only, no signals (threads).
#include "ferrohsm/signer/cloud/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace ferrohsm::signer::cloud {

namespace {
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<Headers*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) headers->clear();  // a new response (after 100 Continue)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) headers->emplace_back(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return size * n;
}

// localhost, [::1] or an IPv4 literal in 127.0.0.0/8 (not a name that merely starts with "127.").
bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  return host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string_view::npos;
}
}  // namespace

struct HttpClient::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;
  ~Pool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
  CURL* take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void give(CURL* h) {
    std::lock_guard lock(mu);
    if (idle.size() < 16) idle.push_back(h);
    else curl_easy_cleanup(h);
  }
};

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

HttpClient::HttpClient(CloudHttpSettings settings) : settings_(std::move(settings)), pool_(std::make_unique<Pool>()) {
  global_init();
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::send(const HttpRequest& request, std::chrono::milliseconds timeout) {
  CURL* h = pool_->take();
  if (h == nullptr) return Error::internal("libcurl could not make a handle");
  curl_easy_reset(h);
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  long ms = std::max<long>(1, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  if (!settings_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  pool_->give(h);
  if (rc != CURLE_OK) {
    std::string why = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(rc));
    std::string host = url_authority(request.url);
    if (rc == CURLE_OPERATION_TIMEDOUT)
      return Error::unavailable(host + " did not answer within " + std::to_string(ms) + " ms");
    return Error::unavailable("cannot reach " + host + ": " + clean_message(why));
  }
  return response;
}

Status check_endpoint(std::string_view what, std::string_view url) {
  if (url.starts_with("https://") && url.size() > 8) return {};
  if (url.starts_with("http://")) {
    std::string authority = url_authority(url);
    std::string host = authority.starts_with("[") ? authority.substr(0, authority.find(']') + 1)
                                                   : authority.substr(0, authority.rfind(':'));
    if (is_loopback(host)) return {};
    return Error::invalid(std::string(what) + " '" + std::string(url) +
                          "': plain http is allowed only to a loopback address; use https://");
  }
  return Error::invalid(std::string(what) + " '" + std::string(url) + "' must be an https:// URL");
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string url_authority(std::string_view url) {
  bool https = url.starts_with("https://");
  auto start = url.find("://");
  if (start == std::string_view::npos) return std::string(url);
  url.remove_prefix(start + 3);
  std::string authority(url.substr(0, url.find_first_of("/?#")));
  if (https && authority.ends_with(":443")) authority.resize(authority.size() - 4);
  if (!https && authority.ends_with(":80")) authority.resize(authority.size() - 3);
  return authority;
}

std::string clean_message(std::string_view text, std::span<const std::string> secrets) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') out.push_back(' ');
    else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out.push_back(c);
  }
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at))
      out.replace(at, secret.size(), "[redacted]");
  }
  if (out.size() > 300) out = out.substr(0, 300) + "…";
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string form_encode(std::span<const std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

}  // namespace ferrohsm::signer::cloud
