// The timing harness: runs one operation on N threads (each with its own state, e.g.
// its own PKCS#11 session) for a fixed wall time after a short warm-up, and reports
// operations per second. Every loop is bounded by time and stops by itself. Results
// are printed as tab-separated lines that bench/run.sh collects and `p11bench report`
// turns into the table (medians over the alternating rounds).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace p11bench {

// One operation; false when it failed (the measurement is then reported as n/a).
using OpFn = std::function<bool()>;
// Builds thread `i`'s operation; nullopt with `why` set when the peer cannot do it.
using Factory = std::function<std::optional<OpFn>(int i, std::string& why)>;

struct Rate {
  bool ok = false;
  double ops_per_s = 0;
  std::string why;  // when !ok
};

// Seconds per measurement: env BENCH_SECONDS (default 0.3).
double measure_seconds();
Rate measure(int threads, const Factory& make, double seconds);

// Result lines: "R <peer> <op> <threads> <unit> <value>" or "... n/a <reason>".
void emit(const std::string& peer, const std::string& op, int threads, const char* unit, double value);
void emit_na(const std::string& peer, const std::string& op, int threads, const std::string& why);
void emit_rate(const std::string& peer, const std::string& op, int threads, const Rate& r);

double now_s();  // monotonic seconds

}  // namespace p11bench
