#include "base/pkcs11_uri.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

namespace ferrohsm {
namespace {

constexpr std::array<std::pair<std::string_view, CK_OBJECT_CLASS>, 5> kUriClasses = {{
    {"public", CKO_PUBLIC_KEY},
    {"private", CKO_PRIVATE_KEY},
    {"secret-key", CKO_SECRET_KEY},
    {"cert", CKO_CERTIFICATE},
    {"data", CKO_DATA},
}};

// Path attributes RFC 7512 defines that select nothing here: noted in Pkcs11Uri::other.
constexpr std::array<std::string_view, 5> kOther = {"library-manufacturer", "library-description", "library-version",
                                                    "slot-description", "slot-manufacturer"};

bool unreserved(uint8_t c) { return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~'; }

// RFC 7512's pk11-res-avail: reserved characters a path value may hold as they are.
bool res_avail(uint8_t c) { return c != 0 && std::string_view(":[]@!$'()*+,=").find(static_cast<char>(c)) != std::string_view::npos; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error bad(const std::string& why) { return make_error(CKR_ARGUMENTS_BAD, "PKCS#11 URI: " + why); }

Result<std::string> decode_text(std::string_view name, std::string_view raw) {
  Bytes b;
  if (!uri_decode(raw, b)) return bad("malformed %-escape in '" + std::string(name) + "'");
  return std::string(b.begin(), b.end());
}

template <typename T>
Status set_once(std::optional<T>& slot, T value, std::string_view name) {
  if (slot) return bad("attribute '" + std::string(name) + "' appears twice");
  slot = std::move(value);
  return {};
}

Status apply_attribute(Pkcs11Uri& u, std::string_view name, std::string_view raw) {
  if (name == "id") {
    Bytes id;
    if (!uri_decode(raw, id)) return bad("malformed %-escape in 'id'");
    return set_once(u.id, std::move(id), name);
  }
  for (auto [text_name, field] : {std::pair{"token", &u.token}, std::pair{"object", &u.object},
                                  std::pair{"serial", &u.serial}, std::pair{"manufacturer", &u.manufacturer},
                                  std::pair{"model", &u.model}}) {
    if (name != text_name) continue;
    FH_ASSIGN_OR_RETURN(std::string v, decode_text(name, raw));
    return set_once(*field, std::move(v), name);
  }
  if (name == "type") {
    FH_ASSIGN_OR_RETURN(std::string v, decode_text(name, raw));
    auto cls = class_from_uri_type(v);
    if (!cls) return bad("unknown type '" + v + "' (public, private, secret-key, cert, data)");
    return set_once(u.type, *cls, name);
  }
  if (name == "slot-id") {
    FH_ASSIGN_OR_RETURN(std::string v, decode_text(name, raw));
    CK_SLOT_ID slot = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), slot);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return bad("slot-id must be a decimal number");
    return set_once(u.slot_id, slot, name);
  }
  for (std::string_view known : kOther) {
    if (name != known) continue;
    if (std::find(u.other.begin(), u.other.end(), name) != u.other.end())
      return bad("attribute '" + std::string(name) + "' appears twice");
    u.other.emplace_back(name);
    return {};
  }
  return bad("unknown attribute '" + std::string(name) + "'");
}

}  // namespace

std::string uri_encode(ByteView value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t c : value) {
    if (unreserved(c) || res_avail(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

bool uri_decode(std::string_view in, Bytes& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(static_cast<uint8_t>(in[i]));
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    i += 2;
  }
  return true;
}

std::optional<CK_OBJECT_CLASS> class_from_uri_type(std::string_view type) {
  for (const auto& [name, cls] : kUriClasses)
    if (name == type) return cls;
  return std::nullopt;
}

const char* uri_type_of(CK_OBJECT_CLASS cls) {
  for (const auto& [name, c] : kUriClasses)
    if (c == cls) return name.data();
  return nullptr;
}

Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "pkcs11:";
  if (uri.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), uri.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return bad("must start with 'pkcs11:'");
  std::string_view rest = uri.substr(kScheme.size());
  std::string_view path = rest.substr(0, rest.find('?'));
  std::string_view query = rest.size() > path.size() ? rest.substr(path.size() + 1) : std::string_view();
  if (query.find("pin-value") != std::string_view::npos || query.find("pin-source") != std::string_view::npos)
    return bad("a PIN in the URI is not accepted: use --pin-file, $FERROHSM_PIN or the prompt");
  Pkcs11Uri u;
  while (!path.empty()) {
    size_t semi = path.find(';');
    std::string_view part = path.substr(0, semi);
    path = semi == std::string_view::npos ? std::string_view() : path.substr(semi + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad("'" + std::string(part) + "' is not name=value");
    FH_TRY(apply_attribute(u, part.substr(0, eq), part.substr(eq + 1)));
  }
  // Query attributes (module-name, module-path, vendor ones) select nothing here: noted.
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!part.empty()) u.other.emplace_back(part.substr(0, part.find('=')));
  }
  return u;
}

std::string format_object_uri(std::string_view token, std::string_view object, ByteView id, CK_OBJECT_CLASS cls) {
  std::string out = "pkcs11:";
  auto add = [&out](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    if (out.back() != ':') out += ';';
    out.append(name).append("=").append(value);
  };
  add("token", uri_encode(as_bytes(token)));
  add("object", uri_encode(as_bytes(object)));
  add("id", [&] {
    std::string s;
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (uint8_t b : id) s.append({'%', kHex[b >> 4], kHex[b & 0xF]});
    return s;
  }());
  if (const char* t = uri_type_of(cls)) add("type", t);
  return out;
}

namespace {

// The CK_TOKEN_INFO field a selector attribute is compared with, and its size.
size_t token_field_size(std::string_view what) {
  if (what == "token" || what == "manufacturer") return 32;
  if (what == "model" || what == "serial") return 16;
  return 0;
}

std::string unpadded(const CK_UTF8CHAR* field, size_t n) {
  std::string s(reinterpret_cast<const char*>(field), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

bool field_is(const std::optional<std::string>& want, const CK_UTF8CHAR* field, size_t n) {
  if (!want) return true;
  std::string w = *want;
  while (!w.empty() && w.back() == ' ') w.pop_back();  // padding is not part of a value
  return unpadded(field, n) == w;
}

}  // namespace

bool TokenSelector::matches(const CK_TOKEN_INFO& info) const {
  return field_is(label, info.label, sizeof info.label) &&
         field_is(serial, info.serialNumber, sizeof info.serialNumber) &&
         field_is(manufacturer, info.manufacturerID, sizeof info.manufacturerID) &&
         field_is(model, info.model, sizeof info.model);
}

std::string TokenSelector::describe() const {
  std::string out;
  for (auto [name, field] : {std::pair{"token", &label}, std::pair{"serial", &serial},
                             std::pair{"manufacturer", &manufacturer}, std::pair{"model", &model}}) {
    if (!*field) continue;
    if (!out.empty()) out += ", ";
    out += std::string(name) + " \"" + **field + "\"";
  }
  return out.empty() ? "any token" : out;
}

Status check_token_field(std::string_view what, std::string_view value) {
  const size_t max = token_field_size(what);
  if (value.empty()) return make_error(CKR_ARGUMENTS_BAD, std::string(what) + " is empty");
  if (value.size() > max)
    return make_error(CKR_ARGUMENTS_BAD, std::string(what) + " is " + std::to_string(value.size()) +
                                             " bytes long; a token's has at most " + std::to_string(max));
  return {};
}

Result<TokenSelector> token_selector_from_uri(std::string_view uri) {
  FH_ASSIGN_OR_RETURN(Pkcs11Uri u, parse_pkcs11_uri(uri));
  std::vector<std::string> refused = u.other;
  if (u.object) refused.emplace_back("object");
  if (u.id) refused.emplace_back("id");
  if (u.type) refused.emplace_back("type");
  if (u.slot_id) refused.emplace_back("slot-id");
  if (!refused.empty()) {
    std::string names;
    for (const std::string& n : refused) names += (names.empty() ? "'" : ", '") + n + "'";
    return bad("only token attributes (token, manufacturer, model, serial) select a token; not " + names);
  }
  TokenSelector s{u.token, u.serial, u.manufacturer, u.model};
  if (s.empty()) return bad("names no token attribute (token, manufacturer, model, serial)");
  for (auto [name, field] : {std::pair{"token", &s.label}, std::pair{"serial", &s.serial},
                             std::pair{"manufacturer", &s.manufacturer}, std::pair{"model", &s.model}})
    if (*field)
      if (Status ok = check_token_field(name, **field); !ok) return bad(ok.error().message);
  return s;
}

}  // namespace ferrohsm
