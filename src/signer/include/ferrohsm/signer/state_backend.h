// The daemon's key-state backend as the configuration picks it: the SQLite store (one
// process), or the PostgreSQL store with its listener and the freshness the sign guard
// and /readyz ask (several replicas).
#pragma once

#include <memory>
#include <string>

#include "ferrohsm/signer/config.h"
#include "ferrohsm/signer/rotation_service.h"
#include "ferrohsm/signer/rotation_store.h"

namespace ferrohsm::signer {

class PgRotationStore;
class StateFreshness;
class StateListener;

class StateBackend {
 public:
  // Opens the store `config.state` names (SQLite: config.database).
  static Result<std::unique_ptr<StateBackend>> open(const Config& config);
  ~StateBackend();

  RotationStore& store() { return *store_; }
  // After service.load(): on PostgreSQL, ties the guard to the freshness and starts the
  // listener (its first read must succeed).
  Status start(RotationService& service);
  // Stops the listener (before the service goes).
  void stop();
  // "sqlite /path/signer.db" or "postgres postgresql://user@host/db" (no password).
  const std::string& describe() const { return described_; }

 private:
  StateBackend() = default;
  std::unique_ptr<RotationStore> store_;
  PgRotationStore* pg_ = nullptr;  // store_, when it is PostgreSQL
  StateSettings settings_;
  std::unique_ptr<StateFreshness> freshness_;
  std::unique_ptr<StateListener> listener_;
  std::string described_;
};

}  // namespace ferrohsm::signer
