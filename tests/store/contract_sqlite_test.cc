// The ObjectStore contract over the SQLite store, opened the way the composition roots
// open it (store/open_store.h).
#include "contract.h"
#include "store/open_store.h"

namespace ferrohsm::store::contract {
namespace {

StoreMaker Sqlite() {
  return {"sqlite", [](const std::string& dir) { return open_store(StoreSettings{.path = dir + "/store.db"}); }};
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreContract, ::testing::Values(Sqlite()),
                         [](const ::testing::TestParamInfo<StoreMaker>& p) { return p.param.name; });

}  // namespace
}  // namespace ferrohsm::store::contract
