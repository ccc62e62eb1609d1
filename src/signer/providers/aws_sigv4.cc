// SigV4 from the specification: canonical request → string to sign → HMAC-SHA256 chain.
#include "ferrohsm/signer/cloud/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

#include "base/bytes.h"

namespace ferrohsm::signer::cloud::sigv4 {

namespace {
std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return to_hex(d);
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trimmed, with every run of whitespace (folded lines too) written as one space.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize) {
  std::string p(path.empty() ? "/" : path);
  if (normalize) {
    const std::string original = p;  // the segments below point into it
    std::vector<std::string_view> segments;
    std::string_view rest = original;
    bool dir = rest.ends_with("/") || rest.ends_with("/.") || rest.ends_with("/..");
    while (!rest.empty()) {
      auto slash = rest.find('/');
      std::string_view seg = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (seg.empty() || seg == ".") continue;
      if (seg == "..") {
        if (!segments.empty()) segments.pop_back();
        continue;
      }
      segments.push_back(seg);
    }
    p = "/";
    for (std::size_t i = 0; i < segments.size(); ++i) p += std::string(segments[i]) + (i + 1 < segments.size() ? "/" : "");
    if (dir && !segments.empty()) p += "/";
  }
  std::string out;
  for (std::size_t start = 0; start <= p.size();) {
    auto slash = p.find('/', start);
    out += percent_encode(p.substr(start, slash - start));
    if (slash == std::string::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string_view k = part.substr(0, eq), v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    params.emplace_back(percent_encode(percent_decode(k)), percent_encode(percent_decode(v)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}
}  // namespace

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signed sign(const Request& request, const Credentials& credentials, const Options& options) {
  Signed out;
  out.headers = request.headers;
  std::string payload_hash = sha256_hex(request.body);
  out.headers.emplace_back("X-Amz-Date", options.amz_date);
  if (options.content_sha256_header) out.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!credentials.session_token.empty() && options.sign_session_token)
    out.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);

  // Every header so far is signed: lower-case names in order, repeated names joined by ','.
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : out.headers) {
    auto [it, fresh] = canonical.emplace(lower(name), canonical_value(value));
    if (!fresh) it->second += "," + canonical_value(value);
  }
  std::string header_block, signed_headers;
  for (const auto& [name, value] : canonical) {
    header_block += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  out.canonical_request = request.method + "\n" + canonical_uri(request.path, options.normalize_path) + "\n" +
                          canonical_query(request.query) + "\n" + header_block + "\n" + signed_headers + "\n" +
                          payload_hash;
  std::string date = options.amz_date.substr(0, 8);
  std::string scope = date + "/" + options.region + "/" + options.service + "/aws4_request";
  out.string_to_sign =
      "AWS4-HMAC-SHA256\n" + options.amz_date + "\n" + scope + "\n" + sha256_hex(out.canonical_request);
  std::string key = hmac("AWS4" + credentials.secret_access_key, date);
  key = hmac(key, options.region);
  key = hmac(key, options.service);
  key = hmac(key, "aws4_request");
  std::string mac = hmac(key, out.string_to_sign);
  out.signature = to_hex(as_bytes(mac));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  if (!credentials.session_token.empty() && !options.sign_session_token)
    out.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  out.headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace ferrohsm::signer::cloud::sigv4
