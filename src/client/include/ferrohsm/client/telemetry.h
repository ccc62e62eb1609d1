// Telemetry: every slot server call ends in one Event delivered to the sinks that are
// plugged in. Names: slot.sign, slot.verify, slot.run, slot.login, slot.logout,
// slot.reauth, slot.recover. Fields: slot_ref, worker_index, mechanism (for slot.run the
// caller's operation name), duration, result ("ok" or
// the CKR_* name / error kind), and for slot.recover the ladder step taken.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ferrohsm::client {

struct Event {
  std::string name;       // "slot.sign" …
  std::string slot_ref;
  int worker_index = 1;
  std::string mechanism;  // "CKM_SHA256_RSA_PKCS", empty when the call has none
  std::chrono::nanoseconds duration{0};
  std::string result;     // "ok", "CKR_PIN_INCORRECT", "reauth_required", "idle_timeout" …
  std::string step;       // slot.recover only: the ladder step ("reopen_session" …)
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Called on the thread that made the call, after the call; must be thread-safe and quick.
  virtual void handle(const Event& event) = 0;
};

class Telemetry {
 public:
  void add_sink(std::shared_ptr<Sink> sink);
  void emit(const Event& event) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Sink>> sinks_;
};

// Writes one spdlog line per event (info for ok, warn otherwise). No PIN ever reaches an Event.
class LogSink : public Sink {
 public:
  void handle(const Event& event) override;
};

// Counters and latency histograms in the Prometheus text exposition format:
//   ferrohsm_client_events_total{event,slot_ref,worker,mechanism,result}
//   ferrohsm_client_duration_seconds_{bucket,sum,count}{event,slot_ref}
class PrometheusSink : public Sink {
 public:
  void handle(const Event& event) override;
  std::string render() const;
  static const std::vector<double>& buckets();  // upper bounds in seconds

 private:
  struct Histogram {
    std::vector<unsigned long long> counts;  // per bucket (not cumulative)
    double sum = 0;
    unsigned long long count = 0;
  };
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, unsigned long long>> counters_;   // label set → count
  std::vector<std::pair<std::string, Histogram>> histograms_;          // label set → histogram
};

}  // namespace ferrohsm::client
