#include "server/rest/metrics.h"

#include "base/names.h"

#include <cstdio>

namespace ferrohsm::server::rest {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string prometheus_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Metrics::Metrics(const std::vector<std::pair<std::string, std::string>>& routes) {
  for (const auto& [method, path] : routes) {
    rows_.push_back(std::make_unique<Row>());
    rows_.back()->method = method;
    rows_.back()->path = path;
  }
  rows_.push_back(std::make_unique<Row>());
  rows_.back()->method = "";
  rows_.back()->path = "(unmatched)";
}

Metrics::~Metrics() = default;

void Metrics::observe(size_t route, int status, CK_RV rv, std::chrono::nanoseconds took) {
  if (route > unmatched()) route = unmatched();
  Row& row = *rows_[route];
  if (route != unmatched()) {  // those were answered before any route's clock started
    const double s = std::chrono::duration<double>(took).count();
    size_t b = 0;
    while (b < kBuckets.size() && s > kBuckets[b]) ++b;
    row.buckets[b].fetch_add(1, std::memory_order_relaxed);
    row.sum_ns.fetch_add(static_cast<uint64_t>(took.count() > 0 ? took.count() : 0), std::memory_order_relaxed);
  }

  // The cell of (status, rv): found, or claimed in probe order from its hash.
  const uint64_t key = (static_cast<uint64_t>(status) << 32) | (rv & 0xffffffffu);
  const size_t start = static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 59) % kCells;
  for (size_t i = 0; i < kCells; ++i) {
    const size_t c = (start + i) % kCells;
    uint64_t seen = row.keys[c].load(std::memory_order_acquire);
    if (seen == 0 && row.keys[c].compare_exchange_strong(seen, key, std::memory_order_acq_rel)) seen = key;
    if (seen == key) {
      row.counts[c].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  row.other.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  auto labels = [](const Row& r) {
    return "method=\"" + prometheus_label(r.method) + "\",route=\"" + prometheus_label(r.path) + "\"";
  };

  family(out, "ferrohsm_rest_requests_total", "counter",
         "REST requests by route (OpenAPI path template), HTTP status and result (CKR_* name).");
  for (const auto& r : rows_) {
    for (size_t c = 0; c < kCells; ++c) {
      const uint64_t key = r->keys[c].load(std::memory_order_acquire);
      if (key == 0) continue;
      out += "ferrohsm_rest_requests_total{" + labels(*r) + ",status=\"" + std::to_string(key >> 32) +
             "\",result=\"" + prometheus_label(rv_name(key & 0xffffffffu)) + "\"} " +
             std::to_string(r->counts[c].load(std::memory_order_relaxed)) + "\n";
    }
    if (uint64_t n = r->other.load(std::memory_order_relaxed); n != 0)
      out += "ferrohsm_rest_requests_total{" + labels(*r) + ",status=\"other\",result=\"other\"} " +
             std::to_string(n) + "\n";
  }

  family(out, "ferrohsm_rest_request_duration_seconds", "histogram",
         "Time from a request's arrival at its route to its answer, by route.");
  for (size_t i = 0; i < unmatched(); ++i) {
    const auto& r = rows_[i];
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += r->buckets[b].load(std::memory_order_relaxed);
      const std::string le = b < kBuckets.size() ? number(kBuckets[b]) : "+Inf";
      out += "ferrohsm_rest_request_duration_seconds_bucket{" + labels(*r) + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "ferrohsm_rest_request_duration_seconds_sum{" + labels(*r) + "} " +
           number(static_cast<double>(r->sum_ns.load(std::memory_order_relaxed)) / 1e9) + "\n";
    out += "ferrohsm_rest_request_duration_seconds_count{" + labels(*r) + "} " + std::to_string(cumulative) + "\n";
  }

  family(out, "ferrohsm_rest_sessions", "gauge", "Live REST login bearers.");
  out += "ferrohsm_rest_sessions " + std::to_string(g.sessions) + "\n";
  family(out, "ferrohsm_logged_in_tokens", "gauge", "Tokens with a user logged in (through REST or PKCS#11).");
  out += "ferrohsm_logged_in_tokens " + std::to_string(g.logged_in_tokens) + "\n";
  family(out, "ferrohsm_store_up", "gauge", "1 when the store answers (the /readyz check), else 0.");
  out += std::string("ferrohsm_store_up ") + (g.store_up ? "1" : "0") + "\n";
  return out;
}

}  // namespace ferrohsm::server::rest
