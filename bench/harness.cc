#include "harness.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <time.h>
#include <vector>

namespace p11bench {

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double measure_seconds() {
  const char* e = std::getenv("BENCH_SECONDS");
  double s = e != nullptr ? std::atof(e) : 0.3;
  return s > 0.01 && s < 60 ? s : 0.3;
}

Rate measure(int threads, const Factory& make, double seconds) {
  // One cache line (or more) per thread, and the count kept in a register until the end:
  // threads that shared a line here (one writing its count, the other reading its
  // function) slowed each other by up to half on 64-byte operations, FerroHSM and raw
  // OpenSSL alike, which hid how either scales.
  struct alignas(64) Slot {
    std::optional<OpFn> fn;
    std::string why;
    long ops = 0;
    double end = 0;
    bool failed = false;
  };
  std::vector<Slot> slots(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    slots[i].fn = make(i, slots[i].why);
    if (!slots[i].fn) return Rate{false, 0, slots[i].why.empty() ? "not supported" : slots[i].why};
  }
  std::atomic<int> ready{0};
  std::atomic<double> start{0};
  const double warmup = seconds * 0.15;
  auto body = [&](Slot& s) {
    ready.fetch_add(1);
    while (ready.load() < threads) std::this_thread::yield();
    // Warm-up: caches, lazy loads, first-use key unsealing.
    for (double t0 = now_s(); now_s() - t0 < warmup;)
      if (!(*s.fn)()) {
        s.failed = true;
        return;
      }
    ready.fetch_add(1);
    while (ready.load() < 2 * threads) std::this_thread::yield();
    double expected = 0;
    start.compare_exchange_strong(expected, now_s());
    const double deadline = start.load() + seconds;
    const OpFn& fn = *s.fn;
    for (long ops = 1;; ++ops) {
      if (!fn()) {
        s.failed = true;
        return;
      }
      double t = now_s();
      if (t >= deadline) {
        s.ops = ops;
        s.end = t;
        return;
      }
    }
  };
  std::vector<std::thread> ts;
  for (int i = 1; i < threads; ++i) ts.emplace_back(body, std::ref(slots[i]));
  body(slots[0]);
  for (auto& t : ts) t.join();
  long ops = 0;
  double end = 0;
  for (const Slot& s : slots) {
    if (s.failed) return Rate{false, 0, "operation failed"};
    ops += s.ops;
    end = std::max(end, s.end);
  }
  return Rate{true, static_cast<double>(ops) / (end - start.load()), {}};
}

// The last field is the machine's 1-minute load average when the figure was taken: the
// report marks cells measured while the machine was busier than it has cores.
void emit(const std::string& peer, const std::string& op, int threads, const char* unit, double value) {
  double load = -1;
  (void)getloadavg(&load, 1);
  std::printf("R\t%s\t%s\t%d\t%s\t%.6g\t%.2f\n", peer.c_str(), op.c_str(), threads, unit, value, load);
  std::fflush(stdout);
}

void emit_na(const std::string& peer, const std::string& op, int threads, const std::string& why) {
  std::printf("R\t%s\t%s\t%d\tn/a\t%s\n", peer.c_str(), op.c_str(), threads, why.c_str());
  std::fflush(stdout);
}

void emit_rate(const std::string& peer, const std::string& op, int threads, const Rate& r) {
  if (r.ok) emit(peer, op, threads, "ops/s", r.ops_per_s);
  else emit_na(peer, op, threads, r.why);
}

}  // namespace p11bench
