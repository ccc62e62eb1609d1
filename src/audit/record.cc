#include "audit/record.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ferrohsm::audit {

using ojson = nlohmann::ordered_json;

namespace {

// One encoding for writing and for the canonical check: no spaces, and a byte that is
// not UTF-8 (a label may hold anything) replaced rather than refused.
std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

template <typename T>
std::optional<T> get(const ojson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(int64_t us) {
  time_t secs = static_cast<time_t>(us / 1'000'000);
  int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(frac));
  return buf;
}

std::optional<int64_t> parse_time(const std::string& s) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  long frac = 0;
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ", &y, &mo, &d, &h, &mi, &se, &frac);
  if (n != 3 && n < 6) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<int64_t>(t) * 1'000'000 + (n == 7 ? frac : 0);
}

std::string line_hash(std::string_view line) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(line.data()), line.size(), md);
  return to_hex(ByteView(md, sizeof md));
}

namespace {

// A JSON string, appended: the writer's one encoding of text (records are written on
// every key use, so without building a JSON tree). Control characters as \u00XX, and a
// byte that is not part of well-formed UTF-8 (RFC 3629, as the parser checks it)
// replaced by U+FFFD, so that every line parses and re-encodes to itself.
void put_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;
    else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) len = 3;
    else if (c == 0xed) len = 3, hi = 0x9f;
    else if (c == 0xf0) len = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;
    bool ok = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
    for (size_t k = 2; ok && k < len; ++k) ok = p[i + k] >= 0x80 && p[i + k] <= 0xbf;
    if (ok) {
      out.append(reinterpret_cast<const char*>(p + i), len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  out += '"';
}

void put_key(std::string& out, const char* key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void put(std::string& out, const char* key, std::string_view v) {
  put_key(out, key);
  put_string(out, v);
}

void put(std::string& out, const char* key, uint64_t v) {
  put_key(out, key);
  out += std::to_string(v);
}

void put_signed(std::string& out, const char* key, int64_t v) {
  put_key(out, key);
  out += std::to_string(v);
}

ojson checkpoint_json(const Checkpoint& c, bool with_sig) {
  ojson j;
  j["seq"] = c.seq;
  j["prev"] = c.prev;
  j["kind"] = "checkpoint";
  j["time"] = format_time(c.time_us);
  j["records"] = c.records;
  j["reason"] = c.reason;
  if (!c.key.empty()) {
    j["key"] = c.key;
    j["public_key"] = c.public_key;
  }
  if (with_sig && !c.sig.empty()) j["sig"] = c.sig;
  return j;
}

}  // namespace

std::string encode_record(const Record& r, uint64_t seq, const std::string& prev) {
  std::string out;
  out.reserve(512);
  out += "{\"seq\":";
  out += std::to_string(seq);
  put(out, "prev", prev);
  put(out, "kind", r.intent ? "intent" : "call");
  put(out, "time", format_time(r.time_us));
  put(out, "identity", r.identity);
  if (r.pid != 0) {
    put_signed(out, "pid", r.pid);
    put(out, "exe", r.exe);
  }
  if (r.slot) put(out, "slot", uint64_t{*r.slot});
  if (!r.token.empty()) put(out, "token", r.token);
  if (!r.serial.empty()) put(out, "serial", r.serial);
  if (r.session) put(out, "session", uint64_t{*r.session});
  put(out, "function", r.function);
  if (!r.mechanism.empty()) put(out, "mechanism", r.mechanism);
  if (!r.object_id.empty() || !r.object_class.empty() || !r.object_label.empty()) {
    out += ",\"object\":{\"id\":";
    put_string(out, r.object_id);
    put(out, "class", r.object_class);
    put(out, "label", r.object_label);
    out += '}';
  }
  if (!r.intent) {
    put(out, "rv", r.rv);
    put_signed(out, "duration_us", r.duration_us);
  }
  if (!r.rule.empty()) put(out, "rule", r.rule);
  if (!r.detail.empty()) put(out, "detail", r.detail);
  out += '}';
  return out;
}

std::string encode_open(uint64_t seq, const std::string& prev, int64_t time_us, const std::string& previous_file) {
  ojson j;
  j["seq"] = seq;
  j["prev"] = prev;
  j["kind"] = "open";
  j["time"] = format_time(time_us);
  j["previous_file"] = previous_file;
  return dump(j);
}

std::string checkpoint_message(const Checkpoint& c) {
  return "ferrohsm-audit-checkpoint-v1\n" + dump(checkpoint_json(c, false));
}

std::string encode_checkpoint(const Checkpoint& c) { return dump(checkpoint_json(c, true)); }

Result<Line> decode_line(std::string_view text) {
  ojson j = ojson::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(CKR_DATA_INVALID, "not a JSON object");
  try {
    Line l;
    auto seq = get<uint64_t>(j, "seq");
    auto prev = get<std::string>(j, "prev");
    auto kind = get<std::string>(j, "kind");
    auto time = get<std::string>(j, "time");
    if (!seq || !prev || !kind || !time) return make_error(CKR_DATA_INVALID, "seq, prev, kind or time missing");
    auto t = parse_time(*time);
    if (!t) return make_error(CKR_DATA_INVALID, "time is not a UTC time");
    l.seq = *seq;
    l.prev = *prev;
    l.kind = *kind;
    l.time_us = *t;
    if (l.kind == "open") {
      l.previous_file = get<std::string>(j, "previous_file").value_or("");
      l.canonical = encode_open(l.seq, l.prev, *t, l.previous_file);
    } else if (l.kind == "checkpoint") {
      Checkpoint& c = l.checkpoint;
      c.seq = l.seq;
      c.prev = l.prev;
      c.time_us = *t;
      c.records = get<uint64_t>(j, "records").value_or(0);
      c.reason = get<std::string>(j, "reason").value_or("");
      c.key = get<std::string>(j, "key").value_or("");
      c.public_key = get<std::string>(j, "public_key").value_or("");
      c.sig = get<std::string>(j, "sig").value_or("");
      l.canonical = encode_checkpoint(c);
    } else if (l.kind == "call" || l.kind == "intent") {
      Record& r = l.record;
      r.intent = l.kind == "intent";
      r.time_us = *t;
      r.identity = get<std::string>(j, "identity").value_or("");
      r.pid = get<int64_t>(j, "pid").value_or(0);
      r.exe = get<std::string>(j, "exe").value_or("");
      r.slot = get<uint64_t>(j, "slot");
      r.token = get<std::string>(j, "token").value_or("");
      r.serial = get<std::string>(j, "serial").value_or("");
      r.session = get<uint64_t>(j, "session");
      r.function = get<std::string>(j, "function").value_or("");
      r.mechanism = get<std::string>(j, "mechanism").value_or("");
      if (auto o = j.find("object"); o != j.end() && o->is_object()) {
        r.object_id = get<std::string>(*o, "id").value_or("");
        r.object_class = get<std::string>(*o, "class").value_or("");
        r.object_label = get<std::string>(*o, "label").value_or("");
      }
      r.rv = get<std::string>(j, "rv").value_or("");
      r.duration_us = get<int64_t>(j, "duration_us").value_or(0);
      r.rule = get<std::string>(j, "rule").value_or("");
      r.detail = get<std::string>(j, "detail").value_or("");
      l.canonical = encode_record(r, l.seq, l.prev);
    } else {
      return make_error(CKR_DATA_INVALID, "unknown kind '" + l.kind + "'");
    }
    return l;
  } catch (const nlohmann::json::exception& e) {
    return make_error(CKR_DATA_INVALID, std::string("a field has the wrong type: ") + e.what());
  }
}

std::string base64(ByteView b) {
  std::string out(4 * ((b.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), b.data(), static_cast<int>(b.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::optional<Bytes> from_base64(const std::string& s) {
  if (s.size() % 4 != 0) return std::nullopt;
  Bytes out(s.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!s.empty() && s.back() == '=') ++pad;
  if (s.size() > 1 && s[s.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace ferrohsm::audit
