#include "fakes/sigv4_check.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace ferrohsm::signer::testing {

namespace {
std::string hex(const unsigned char* p, std::size_t n) {
  std::ostringstream os;
  for (std::size_t i = 0; i < n; ++i) os << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(p[i]);
  return os.str();
}

std::string sha256_hex(const std::string& s) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), out, &n, EVP_sha256(), nullptr);
  return hex(out, n);
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t n = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// RFC 3986 unreserved characters stay; every other byte is %XX (upper-case hex).
std::string uri_encode(const std::string& s, bool keep_slash) {
  std::string out;
  const char* digits = "0123456789ABCDEF";
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c / 16];
      out += digits[c % 16];
    }
  }
  return out;
}

std::string uri_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 3986 §5.2.4 remove_dot_segments, then empty segments dropped.
std::string normalized(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '/')) {
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
  }
  std::string result;
  for (const auto& s : out) result += "/" + s;
  bool trailing = path.size() > 1 && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (result.empty()) return "/";
  return trailing ? result + "/" : result;
}

std::string canonical_query_of(const std::string& q) {
  std::vector<std::string> pairs;
  std::stringstream ss(q);
  std::string item;
  std::vector<std::pair<std::string, std::string>> kv;
  while (std::getline(ss, item, '&')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string k = eq == std::string::npos ? item : item.substr(0, eq);
    std::string v = eq == std::string::npos ? "" : item.substr(eq + 1);
    kv.emplace_back(uri_encode(uri_decode(k), false), uri_encode(uri_decode(v), false));
  }
  std::stable_sort(kv.begin(), kv.end());
  std::string out;
  for (std::size_t i = 0; i < kv.size(); ++i) out += (i ? "&" : "") + kv[i].first + "=" + kv[i].second;
  return out;
}

std::string squeeze(const std::string& v) {
  std::istringstream in(v);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

SigV4Verdict refuse(std::string type, std::string message) {
  SigV4Verdict v;
  v.error_type = std::move(type);
  v.message = std::move(message);
  return v;
}

// "Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=a;b, Signature=hex"
std::optional<std::string> field(const std::string& auth, const std::string& name) {
  auto at = auth.find(name + "=");
  if (at == std::string::npos) return std::nullopt;
  at += name.size() + 1;
  auto end = auth.find_first_of(", ", at);
  return auth.substr(at, end == std::string::npos ? std::string::npos : end - at);
}
}  // namespace

SigV4Verdict check_sigv4(const ReceivedRequest& r, const SecretLookup& secret_of, const SigV4Expectation& expect) {
  auto header = [&](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> joined;
    for (const auto& [k, v] : r.headers)
      if (to_lower(k) == name) joined = joined ? *joined + "," + squeeze(v) : squeeze(v);
    return joined;
  };
  auto auth = header("authorization");
  if (!auth) return refuse("MissingAuthenticationTokenException", "Missing Authentication Token");
  if (!auth->starts_with("AWS4-HMAC-SHA256 "))
    return refuse("IncompleteSignatureException", "Unsupported authorization type");
  auto credential = field(*auth, "Credential"), signed_list = field(*auth, "SignedHeaders"),
       signature = field(*auth, "Signature");
  if (!credential || !signed_list || !signature)
    return refuse("IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders, Signature");
  std::vector<std::string> scope;
  {
    std::stringstream ss(*credential);
    std::string part;
    while (std::getline(ss, part, '/')) scope.push_back(part);
  }
  if (scope.size() != 5 || scope[4] != "aws4_request")
    return refuse("IncompleteSignatureException", "Credential should be scoped correctly");
  auto date = header("x-amz-date");
  if (!date || date->size() != 16 || date->substr(0, 8) != scope[1])
    return refuse("IncompleteSignatureException", "Date in Credential scope does not match the request date");
  if (scope[2] != expect.region) return refuse("InvalidSignatureException", "Credential should be scoped to a valid region");
  if (scope[3] != expect.service)
    return refuse("InvalidSignatureException", "Credential should be scoped to correct service");
  if (expect.now) {
    std::tm tm{};
    std::istringstream in(*date);
    in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto skew = at > *expect.now ? at - *expect.now : *expect.now - at;
    if (in.fail() || skew > std::chrono::minutes(5)) return refuse("InvalidSignatureException", "Signature expired");
  }
  std::vector<std::string> names;
  {
    std::stringstream ss(*signed_list);
    std::string n;
    while (std::getline(ss, n, ';')) names.push_back(n);
  }
  if (std::find(names.begin(), names.end(), "host") == names.end() ||
      std::find(names.begin(), names.end(), "x-amz-date") == names.end())
    return refuse("InvalidSignatureException", "host and x-amz-date must be signed");
  std::string canonical = r.method + "\n";
  std::string path = r.path.empty() ? "/" : r.path;
  canonical += uri_encode(expect.normalize_path ? normalized(path) : path, true) + "\n";
  canonical += canonical_query_of(r.query) + "\n";
  for (const auto& n : names) {
    auto v = header(n);
    if (!v) return refuse("InvalidSignatureException", "signed header " + n + " is missing");
    canonical += n + ":" + *v + "\n";
  }
  canonical += "\n" + *signed_list + "\n" + sha256_hex(r.body);
  std::string to_sign = "AWS4-HMAC-SHA256\n" + *date + "\n" + scope[1] + "/" + scope[2] + "/" + scope[3] +
                        "/aws4_request\n" + sha256_hex(canonical);
  auto secret = secret_of(scope[0]);
  if (!secret) return refuse("UnrecognizedClientException", "The security token included in the request is invalid.");
  std::string k = hmac_sha256("AWS4" + *secret, scope[1]);
  k = hmac_sha256(k, scope[2]);
  k = hmac_sha256(k, scope[3]);
  k = hmac_sha256(k, "aws4_request");
  std::string mac = hmac_sha256(k, to_sign);
  if (hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size()) != *signature)
    return refuse("InvalidSignatureException",
                  "The request signature we calculated does not match the signature you provided.");
  SigV4Verdict ok;
  ok.ok = true;
  ok.access_key_id = scope[0];
  ok.signed_headers = names;
  return ok;
}

}  // namespace ferrohsm::signer::testing
