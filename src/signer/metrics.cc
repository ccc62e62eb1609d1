#include "ferrohsm/signer/metrics.h"

#include <cstdio>

namespace ferrohsm::signer {

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

void Metrics::observe_request(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  requests_[{std::string(route), status}]++;
  auto& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) h.buckets[i]++;
  h.count++;
  h.sum += seconds;
}

void Metrics::count_error(ErrorKind kind) {
  std::lock_guard lock(mu_);
  errors_[kind]++;
}

std::string Metrics::render(const KeyStateCounts& key_states, bool dev_only) const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP ferrohsm_signer_requests_total HTTP requests by route and status code.\n";
  out += "# TYPE ferrohsm_signer_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "ferrohsm_signer_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  out += "# HELP ferrohsm_signer_request_duration_seconds HTTP request latency by route.\n";
  out += "# TYPE ferrohsm_signer_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out += "ferrohsm_signer_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" +
             number(kBuckets[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
    out += "ferrohsm_signer_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "ferrohsm_signer_request_duration_seconds_sum{route=\"" + route + "\"} " + number(h.sum) + "\n";
    out += "ferrohsm_signer_request_duration_seconds_count{route=\"" + route + "\"} " + std::to_string(h.count) +
           "\n";
  }
  out += "# HELP ferrohsm_signer_errors_total Errors returned, by domain error kind.\n";
  out += "# TYPE ferrohsm_signer_errors_total counter\n";
  for (const auto& [kind, n] : errors_)
    out += "ferrohsm_signer_errors_total{kind=\"" + std::string(error_kind_name(kind)) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP ferrohsm_signer_keys Signing keys by lifecycle state.\n";
  out += "# TYPE ferrohsm_signer_keys gauge\n";
  for (KeyState s : kAllKeyStates)
    out += "ferrohsm_signer_keys{state=\"" + std::string(key_state_name(s)) + "\"} " +
           std::to_string(key_states[static_cast<std::size_t>(s)]) + "\n";
  out += "# HELP ferrohsm_signer_dev_only 1 when the running key provider is dev-only.\n";
  out += "# TYPE ferrohsm_signer_dev_only gauge\n";
  out += std::string("ferrohsm_signer_dev_only ") + (dev_only ? "1" : "0") + "\n";
  return out;
}

}  // namespace ferrohsm::signer
