// The REST API's request counters for GET /metrics (Prometheus text exposition format
// 0.0.4): requests by route (the OpenAPI path template, never the raw path with its key
// ids) and result (HTTP status and CKR_* name), a latency histogram by route, and the
// gauges the caller hands to render() (live bearers, logged-in tokens, store health).
//
// Counting is lock-free: every route has a fixed array of atomics for its histogram and
// a small open-addressed table of (status, rv) → count cells claimed by compare-and-swap,
// so the listener's threads never wait on each other to count.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server::rest {

// A label value as the text format wants it: \ " and newline escaped.
std::string prometheus_label(const std::string& value);

class Metrics {
 public:
  // The routes counted, in the order of their index ("GET", "/v1/tokens/{token}/keys").
  // One more row, route "(unmatched)", counts requests no route took (index routes.size()):
  // an unknown path, or a body refused before routing. It has no latency histogram.
  explicit Metrics(const std::vector<std::pair<std::string, std::string>>& routes);
  ~Metrics();

  size_t unmatched() const { return rows_.size() - 1; }
  // One request on `route` ended with `status` and `rv` (CKR_OK for a success) after `took`.
  void observe(size_t route, int status, CK_RV rv, std::chrono::nanoseconds took);

  struct Gauges {
    size_t sessions = 0;        // live login bearers
    size_t logged_in_tokens = 0;  // tokens with a user logged in on the core
    bool store_up = false;        // the /readyz check
  };
  std::string render(const Gauges& g) const;

  // Upper bounds of the latency buckets, in seconds (+Inf follows).
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                       0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};

 private:
  static constexpr size_t kCells = 32;  // distinct (status, rv) pairs per route; more count as "other"
  struct Row {
    std::string method, path;
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};  // not cumulative; the last is +Inf
    std::atomic<uint64_t> sum_ns{0};
    std::array<std::atomic<uint64_t>, kCells> keys{};  // (status << 32 | rv), 0 = free
    std::array<std::atomic<uint64_t>, kCells> counts{};
    std::atomic<uint64_t> other{0};
  };
  std::vector<std::unique_ptr<Row>> rows_;
};

}  // namespace ferrohsm::server::rest
