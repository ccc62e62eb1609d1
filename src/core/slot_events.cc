#include "core/slot_events.h"

namespace ferrohsm {

void SlotEvents::baseline(Tokens now) {
  std::lock_guard<std::mutex> lock(mu_);
  reported_ = std::move(now);
}

std::optional<CK_SLOT_ID> SlotEvents::take(const Tokens& now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<CK_SLOT_ID> first;
  auto consider = [&](CK_SLOT_ID slot) {
    if (!first || slot < *first) first = slot;
  };
  for (const auto& [slot, id] : now) {
    auto it = reported_.find(slot);
    if (it == reported_.end() || it->second != id) consider(slot);  // created (or replaced)
  }
  for (const auto& [slot, id] : reported_)
    if (!now.count(slot)) consider(slot);  // deleted
  if (!first) return std::nullopt;
  auto it = now.find(*first);
  if (it == now.end()) reported_.erase(*first);
  else reported_[*first] = it->second;
  return first;
}

bool SlotEvents::sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return shutdown_; });
}

bool SlotEvents::shut_down() {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void SlotEvents::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

}  // namespace ferrohsm
