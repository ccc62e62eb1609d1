// Registry: starting, finding, routing, restarting and stopping slot servers.
#include <ferrohsm/client/names.h>
#include <ferrohsm/client/registry.h>

#include <algorithm>

namespace ferrohsm::client {

using Clock = std::chrono::steady_clock;

Registry::Registry(std::shared_ptr<Telemetry> telemetry) : telemetry_(std::move(telemetry)) {}

Registry::~Registry() { stop_all(); }

Status Registry::start(std::vector<SlotConfig> configs) {
  std::chrono::milliseconds shortest{0};
  {
    std::unique_lock lock(mu_);
    for (auto& c : configs) {
      FH_TRY(validate(c));
      if (slot_locked(c.slot_ref) != nullptr) {
        return Error{ErrorKind::config, CKR_OK, "slot '" + c.slot_ref + "' is configured twice"};
      }
      auto slot = std::make_unique<Slot>();
      slot->config = std::make_shared<const SlotConfig>(std::move(c));
      slot->activity = std::make_shared<SlotActivity>();
      if (slot->config->idle_timeout.count() > 0 && (shortest.count() == 0 || slot->config->idle_timeout < shortest)) {
        shortest = slot->config->idle_timeout;
      }
      slots_.push_back(std::move(slot));
      Slot& s = *slots_.back();
      for (int i = 1; i <= s.config->session_pool_size; ++i) {
        auto worker = std::make_shared<SlotServer>(s.config, i, telemetry_, s.activity);
        Status started = worker->start();
        s.workers.push_back(std::move(worker));
        if (!started) {
          lock.unlock();
          stop_all();
          return started.error();
        }
      }
    }
  }
  if (shortest.count() > 0 && !reaper_.joinable()) {
    auto tick = std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
    reaper_ = std::jthread([this, tick](std::stop_token stop) { reap(stop, tick); });
  }
  return {};
}

void Registry::reap(std::stop_token stop, std::chrono::milliseconds tick) {
  std::unique_lock lock(reaper_mu_);
  while (!stop.stop_requested()) {
    reaper_cv_.wait_for(lock, stop, tick, [] { return false; });
    if (stop.stop_requested()) break;
    std::vector<std::shared_ptr<SlotServer>> workers;
    {
      std::shared_lock slots_lock(mu_);
      for (const auto& s : slots_) workers.insert(workers.end(), s->workers.begin(), s->workers.end());
    }
    for (const auto& w : workers) w->expire_if_idle(Clock::now());
  }
}

void Registry::stop_all() {
  if (reaper_.joinable()) {
    reaper_.request_stop();
    reaper_.join();
  }
  std::vector<std::unique_ptr<Slot>> slots;
  {
    std::unique_lock lock(mu_);
    slots.swap(slots_);
  }
  // Reverse start order: the last slot started is the first stopped; within a slot, worker N first.
  for (auto it = slots.rbegin(); it != slots.rend(); ++it) {
    for (auto w = (*it)->workers.rbegin(); w != (*it)->workers.rend(); ++w) (*w)->shutdown();
  }
}

Registry::Slot* Registry::slot_locked(std::string_view slot_ref) const {
  for (const auto& s : slots_) {
    if (s->config->slot_ref == slot_ref) return s.get();
  }
  return nullptr;
}

Error Registry::unknown(std::string_view slot_ref) const {
  return Error{ErrorKind::unknown_slot, CKR_OK, "no slot server for slot_ref '" + std::string(slot_ref) + "'"};
}

std::shared_ptr<SlotServer> Registry::find(std::string_view slot_ref, int worker_index) const {
  std::shared_lock lock(mu_);
  Slot* s = slot_locked(slot_ref);
  if (s == nullptr || worker_index < 1 || worker_index > static_cast<int>(s->workers.size())) return nullptr;
  return s->workers[worker_index - 1];
}

Status Registry::restart(std::string_view slot_ref, int worker_index) {
  Clock::time_point start = Clock::now();
  std::shared_ptr<SlotServer> old;
  std::shared_ptr<SlotServer> fresh;
  std::shared_ptr<const SlotConfig> config;
  {
    std::unique_lock lock(mu_);
    Slot* s = slot_locked(slot_ref);
    if (s == nullptr) return unknown(slot_ref);
    if (worker_index < 1 || worker_index > static_cast<int>(s->workers.size())) {
      return Error{ErrorKind::unknown_slot, CKR_OK,
                   "slot '" + std::string(slot_ref) + "' has no worker " + std::to_string(worker_index)};
    }
    config = s->config;
    old = s->workers[worker_index - 1];
    fresh = std::make_shared<SlotServer>(s->config, worker_index, telemetry_, s->activity);
    s->workers[worker_index - 1] = fresh;
  }
  old->shutdown();  // waits for a call in progress; its session closes before the new one opens
  Status started = fresh->start();
  ++restarts_;
  telemetry_->emit(Event{"slot.recover", config->slot_ref, worker_index, "",
                         std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start),
                         started ? "ok" : (started.rv() != CKR_OK ? rv_name(started.rv()) : error_kind_name(started.error().kind)),
                         "restart"});
  return started;
}

Result<std::shared_ptr<SlotServer>> Registry::route(std::string_view slot_ref) {
  std::shared_ptr<SlotServer> worker;
  {
    std::shared_lock lock(mu_);
    Slot* s = slot_locked(slot_ref);
    if (s == nullptr) return unknown(slot_ref);
    std::size_t n = s->workers.size();
    std::size_t index = n == 1 ? 0 : s->next.fetch_add(1) % n;
    worker = s->workers[index];
  }
  if (worker->failed()) {
    // Restart failures are reported by the call itself, which then re-initialises the new worker.
    (void)restart(slot_ref, worker->worker_index());
    std::shared_lock lock(mu_);
    Slot* s = slot_locked(slot_ref);
    if (s == nullptr) return unknown(slot_ref);
    worker = s->workers[worker->worker_index() - 1];
  }
  return worker;
}

Result<Bytes> Registry::sign(std::string_view slot_ref, std::string_view key_ref, std::span<const std::uint8_t> data,
                             const Mechanism& mechanism, std::optional<Secret> pin) {
  FH_ASSIGN_OR_RETURN(auto worker, route(slot_ref));
  return worker->sign(key_ref, data, mechanism, std::move(pin));
}

Result<bool> Registry::verify(std::string_view slot_ref, std::string_view key_ref,
                              std::span<const std::uint8_t> data, std::span<const std::uint8_t> signature,
                              const Mechanism& mechanism, std::optional<Secret> pin) {
  FH_ASSIGN_OR_RETURN(auto worker, route(slot_ref));
  return worker->verify(key_ref, data, signature, mechanism, std::move(pin));
}

Status Registry::run(std::string_view slot_ref, std::string_view operation, const SlotServer::SessionOp& op,
                     bool needs_login, std::optional<Secret> pin) {
  FH_ASSIGN_OR_RETURN(auto worker, route(slot_ref));
  return worker->run(operation, op, needs_login, std::move(pin));
}

Status Registry::login(std::string_view slot_ref, std::optional<Secret> pin) {
  auto worker = find(slot_ref, 1);
  if (!worker) return unknown(slot_ref);
  return worker->login(std::move(pin));
}

Status Registry::logout(std::string_view slot_ref) {
  auto worker = find(slot_ref, 1);
  if (!worker) return unknown(slot_ref);
  return worker->logout();
}

Result<SlotState> Registry::status(std::string_view slot_ref) {
  auto worker = find(slot_ref, 1);
  if (!worker) return unknown(slot_ref);
  return worker->status();
}

Result<std::shared_ptr<const SlotConfig>> Registry::slot_config(std::string_view slot_ref) const {
  std::shared_lock lock(mu_);
  Slot* s = slot_locked(slot_ref);
  if (s == nullptr) return unknown(slot_ref);
  return s->config;
}

}  // namespace ferrohsm::client
