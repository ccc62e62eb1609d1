#include "core/object.h"

#include <cstring>

namespace ferrohsm {

Result<mech::KeyPtr> Object::key() const {
  std::lock_guard<std::mutex> lock(key_mu_);
  if (key_) return key_;
  if (!complete_) return make_error(CKR_USER_NOT_LOGGED_IN, "key material is sealed until login");
  FH_ASSIGN_OR_RETURN(mech::KeyPtr k, mech::key_from_attributes(cls(), attrs_));
  key_ = k;
  return k;
}

bool Object::allows_mechanism(CK_MECHANISM_TYPE type) const {
  ByteView allowed = attrs_.view(CKA_ALLOWED_MECHANISMS);
  if (allowed.empty()) return true;
  for (size_t i = 0; i + sizeof(CK_MECHANISM_TYPE) <= allowed.size(); i += sizeof(CK_MECHANISM_TYPE)) {
    CK_MECHANISM_TYPE t;
    std::memcpy(&t, allowed.data() + i, sizeof t);
    if (t == type) return true;
  }
  return false;
}

}  // namespace ferrohsm
