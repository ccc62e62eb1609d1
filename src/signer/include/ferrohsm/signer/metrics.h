// Prometheus text-format metrics: requests, latency, errors by kind, key states.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/rotation_service.h"

namespace ferrohsm::signer {

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram's buckets.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

  void observe_request(std::string_view route, int status, double seconds);
  void count_error(ErrorKind kind);
  std::string render(const KeyStateCounts& key_states, bool dev_only) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (route, status) → count
  std::map<std::string, Histogram> latency_;                      // route → histogram
  std::map<ErrorKind, std::uint64_t> errors_;
};

}  // namespace ferrohsm::signer
