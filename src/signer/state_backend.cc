#include "ferrohsm/signer/state_backend.h"

#include "ferrohsm/signer/pg_rotation_store.h"
#include "ferrohsm/signer/state_listener.h"

namespace ferrohsm::signer {

Result<std::unique_ptr<StateBackend>> StateBackend::open(const Config& config) {
  std::unique_ptr<StateBackend> b(new StateBackend());
  b->settings_ = config.state;
  if (config.state.backend == "postgres") {
    auto pg = PgRotationStore::open(
        PgStateSettings{config.state.url, config.state.password_file, config.state.pool_size});
    if (!pg) return pg.error();
    b->pg_ = pg->get();
    b->described_ = "postgres " + (*pg)->describe();
    b->store_ = std::move(*pg);
  } else {
    auto sqlite = RotationStore::open(config.database);
    if (!sqlite) return sqlite.error();
    b->described_ = "sqlite " + config.database;
    b->store_ = std::move(*sqlite);
  }
  return b;
}

StateBackend::~StateBackend() { stop(); }

Status StateBackend::start(RotationService& service) {
  if (!pg_) return {};
  freshness_ = std::make_unique<StateFreshness>(std::chrono::milliseconds(settings_.max_staleness_ms));
  listener_ = std::make_unique<StateListener>(
      *pg_, service, *freshness_, ListenerSettings{std::chrono::milliseconds(settings_.refresh_ms)});
  service.set_freshness(freshness_.get());  // unconfirmed until the first read below
  return listener_->start();
}

void StateBackend::stop() {
  if (listener_) listener_->stop();
}

}  // namespace ferrohsm::signer
