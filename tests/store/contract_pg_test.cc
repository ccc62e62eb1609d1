// The ObjectStore contract over the PostgreSQL store, opened the way the composition
// roots open it (store/open_store.h), on the binary's private server: each test's
// folder names a schema of its own, and every Open() of that folder is another store
// (another pool of connections) on the same tables — as another server would be.
#include "contract.h"
#include "pg_env.h"
#include "store/open_store.h"

#include <filesystem>

namespace ferrohsm::store::contract {
namespace {

StoreMaker Postgres() {
  return {"postgres", [](const std::string& dir) {
            return open_store(pgtest::settings_for(pgtest::schema_name(std::filesystem::path(dir).filename())));
          }};
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreContract, ::testing::Values(Postgres()),
                         [](const ::testing::TestParamInfo<StoreMaker>& p) { return p.param.name; });

}  // namespace
}  // namespace ferrohsm::store::contract
