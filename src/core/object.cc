#include "core/object.h"

namespace ferrohsm {

Result<mech::KeyPtr> Object::key() const {
  std::lock_guard<std::mutex> lock(key_mu_);
  if (key_) return key_;
  if (!complete_) return make_error(CKR_USER_NOT_LOGGED_IN, "key material is sealed until login");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, mech::key_from_attributes(cls(), attrs_));
  key_ = k;
  return k;
}

}  // namespace ferrohsm
