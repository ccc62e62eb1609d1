// LogSink: one spdlog line per slot event.
#include <ferrohsm/client/telemetry.h>

#include <spdlog/spdlog.h>

namespace ferrohsm::client {

void LogSink::handle(const Event& e) {
  double ms = std::chrono::duration<double, std::milli>(e.duration).count();
  auto level = e.result == "ok" ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "{} slot_ref={} worker_index={} mechanism={} duration_ms={:.3f} result={}{}{}", e.name,
              e.slot_ref, e.worker_index, e.mechanism.empty() ? "-" : e.mechanism, ms, e.result,
              e.step.empty() ? "" : " step=", e.step);
}

}  // namespace ferrohsm::client
