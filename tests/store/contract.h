// The ObjectStore contract (base/object_store.h) as a test suite that any store runs:
// a store joins by adding a StoreMaker to its instantiation (contract_sqlite_test.cc
// for SQLite; a PostgreSQL store adds its own, started by its test). Each test speaks
// only through the port, so what passes here is what the core may rely on.
#pragma once

#include "base/object_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

namespace ferrohsm::store::contract {

// Opens a store in the empty folder `dir`. Opening twice with the same folder gives two
// handles on one store (two processes, connections or servers).
struct StoreMaker {
  std::string name;
  std::function<Result<std::shared_ptr<ObjectStore>>(const std::string& dir)> open;
};

class ObjectStoreContract : public ::testing::TestWithParam<StoreMaker> {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::shared_ptr<ObjectStore> Open();   // another handle on the same store
  int64_t MakeToken(const std::string& label);
  int64_t MakeObject(int64_t token, CK_OBJECT_CLASS cls, const std::string& label, bool is_private = false);

  std::string dir_;
  std::shared_ptr<ObjectStore> store_;
};

}  // namespace ferrohsm::store::contract
