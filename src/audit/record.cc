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

ojson record_json(const Record& r, uint64_t seq, const std::string& prev) {
  ojson j;
  j["seq"] = seq;
  j["prev"] = prev;
  j["kind"] = r.intent ? "intent" : "call";
  j["time"] = format_time(r.time_us);
  j["identity"] = r.identity;
  if (r.pid != 0) {
    j["pid"] = r.pid;
    j["exe"] = r.exe;
  }
  if (r.slot) j["slot"] = *r.slot;
  if (!r.token.empty()) j["token"] = r.token;
  if (!r.serial.empty()) j["serial"] = r.serial;
  if (r.session) j["session"] = *r.session;
  j["function"] = r.function;
  if (!r.mechanism.empty()) j["mechanism"] = r.mechanism;
  if (!r.object_id.empty() || !r.object_class.empty() || !r.object_label.empty()) {
    ojson o;
    o["id"] = r.object_id;
    o["class"] = r.object_class;
    o["label"] = r.object_label;
    j["object"] = std::move(o);
  }
  if (!r.intent) {
    j["rv"] = r.rv;
    j["duration_us"] = r.duration_us;
  }
  if (!r.rule.empty()) j["rule"] = r.rule;
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
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
  return dump(record_json(r, seq, prev));
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
