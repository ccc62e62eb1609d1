// The event dispatcher: a list of sinks behind a mutex.
#include <ferrohsm/client/telemetry.h>

namespace ferrohsm::client {

void Telemetry::add_sink(std::shared_ptr<Sink> sink) {
  std::lock_guard lock(mu_);
  sinks_.push_back(std::move(sink));
}

void Telemetry::emit(const Event& event) const {
  std::vector<std::shared_ptr<Sink>> sinks;
  {
    std::lock_guard lock(mu_);
    sinks = sinks_;
  }
  for (const auto& sink : sinks) sink->handle(event);
}

}  // namespace ferrohsm::client
