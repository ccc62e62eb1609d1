// The registry starts the configured slot servers (workers 1..session_pool_size per
// slot), finds a worker by (slot_ref, worker_index), routes calls (round-robin for
// sign/verify, worker 1 for login/logout/status), restarts a worker whose
// re-initialisation gave up, runs the idle-timeout reaper, and stops everything in
// reverse start order.
#pragma once

#include <ferrohsm/client/slot_server.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <shared_mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace ferrohsm::client {

class Registry {
 public:
  explicit Registry(std::shared_ptr<Telemetry> telemetry = std::make_shared<Telemetry>());
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Starts every worker of every slot; if one fails, the ones started are stopped and
  // the error (naming the slot and the worker) is returned.
  Status start(std::vector<SlotConfig> slots);
  void stop_all();

  std::shared_ptr<SlotServer> find(std::string_view slot_ref, int worker_index) const;
  // The next worker round-robin (always worker 1 for a single-worker slot); a failed
  // worker is restarted before it is handed out.
  Result<std::shared_ptr<SlotServer>> route(std::string_view slot_ref);
  Status restart(std::string_view slot_ref, int worker_index);
  std::size_t restarts() const { return restarts_.load(); }

  Result<Bytes> sign(std::string_view slot_ref, std::string_view key_ref, std::span<const std::uint8_t> data,
                     const Mechanism& mechanism, std::optional<Secret> pin = std::nullopt);
  Result<bool> verify(std::string_view slot_ref, std::string_view key_ref, std::span<const std::uint8_t> data,
                      std::span<const std::uint8_t> signature, const Mechanism& mechanism,
                      std::optional<Secret> pin = std::nullopt);
  // SlotServer::run on the next worker (round-robin, like sign).
  Status run(std::string_view slot_ref, std::string_view operation, const SlotServer::SessionOp& op,
             bool needs_login = true, std::optional<Secret> pin = std::nullopt);
  Status login(std::string_view slot_ref, std::optional<Secret> pin = std::nullopt);
  Status logout(std::string_view slot_ref);
  Result<SlotState> status(std::string_view slot_ref);
  // The single source of truth for a slot's configuration (key ref → label and all).
  Result<std::shared_ptr<const SlotConfig>> slot_config(std::string_view slot_ref) const;

  Telemetry& telemetry() { return *telemetry_; }

 private:
  struct Slot {
    std::shared_ptr<const SlotConfig> config;
    std::shared_ptr<SlotActivity> activity;
    std::vector<std::shared_ptr<SlotServer>> workers;  // index 0 is worker 1
    std::atomic<std::uint64_t> next{0};
  };

  Slot* slot_locked(std::string_view slot_ref) const;
  Error unknown(std::string_view slot_ref) const;
  void reap(std::stop_token stop, std::chrono::milliseconds tick);

  std::shared_ptr<Telemetry> telemetry_;
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;  // in start order
  std::atomic<std::size_t> restarts_{0};
  std::mutex reaper_mu_;
  std::condition_variable_any reaper_cv_;
  std::jthread reaper_;
};

}  // namespace ferrohsm::client
