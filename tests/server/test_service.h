// A Service for testing the network layer without the PKCS#11 core: it echoes, sleeps
// (quick or slow), says who it thinks the peer is, and counts its applications.
#pragma once

#include "server/service.h"

#include <atomic>
#include <cstdint>

namespace ferrohsm::server::testing {

enum TestFunction : uint32_t {
  kEcho = 1,       // Return.args = Call.args
  kSleep = 2,      // sleeps args[0].u ms on the quick path
  kSlowSleep = 3,  // sleeps args[0].u ms; Service::slow() says so
  kWhoAmI = 4,     // args[0].data = identity, args[1].data = grant rule, args[2].u = admin
};

struct TestCounters {
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_finished{0};
  std::atomic<uint64_t> reloads{0};
};

class TestService final : public Service {
 public:
  explicit TestService(TestCounters& counters) : counters_(counters) {}
  std::unique_ptr<Application> open(const Peer& peer, const Grant& grant) override;
  std::vector<uint32_t> functions() const override { return {kEcho, kSleep, kSlowSleep, kWhoAmI}; }
  bool slow(uint32_t function) const override { return function == kSlowSleep; }
  ServiceStatus status() const override;
  Status reload(const ServerConfig& config) override;

 private:
  TestCounters& counters_;
};

}  // namespace ferrohsm::server::testing
