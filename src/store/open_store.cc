#include "store/open_store.h"

#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace ferrohsm::store {

Result<std::shared_ptr<ObjectStore>> open_store(const StoreSettings& settings) {
  if (settings.backend == "postgres") {
    FH_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> s, PgStore::open(settings));
    return std::shared_ptr<ObjectStore>(std::move(s));
  }
  if (settings.backend != "sqlite")
    return make_error(CKR_GENERAL_ERROR, "store: backend '" + settings.backend + "' is not one of sqlite, postgres");
  OpenOptions o;
  o.busy_timeout_ms = settings.busy_timeout_ms;
  o.read_only = settings.read_only;
  FH_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> s, SqliteStore::open(settings.path, o));
  return std::shared_ptr<ObjectStore>(std::move(s));
}

}  // namespace ferrohsm::store
