// Opens the object store the settings name. The composition roots (the PKCS#11
// library, ferrohsm-server, the CLI) call this and hand the store to the core, which
// only knows the ObjectStore port.
#pragma once

#include "base/object_store.h"

#include <memory>

namespace ferrohsm::store {

Result<std::shared_ptr<ObjectStore>> open_store(const StoreSettings& settings);

}  // namespace ferrohsm::store
