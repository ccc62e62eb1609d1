#include "core/mech/kept_mechanism.h"

#include <cstring>

namespace ferrohsm::mech {

// The signature mechanisms' parameter blocks are flat (none, CK_MAC_GENERAL_PARAMS,
// CK_RSA_PKCS_PSS_PARAMS) except CK_EDDSA_PARAMS, whose pContextData points into the
// caller's memory. FerroHSM takes no EdDSA context (eddsa.cc refuses a non-empty
// one), so the kept copy drops the pointer and can never follow it.
Result<KeptMechanism> KeptMechanism::keep(const CK_MECHANISM& m) {
  if (m.pParameter == nullptr && m.ulParameterLen != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "the mechanism parameter is NULL with a length");
  KeptMechanism k;
  k.type_ = m.mechanism;
  if (m.pParameter == nullptr) return k;
  const auto* p = static_cast<const uint8_t*>(m.pParameter);
  k.param_.assign(p, p + m.ulParameterLen);
  if (m.mechanism == CKM_EDDSA && k.param_.size() == sizeof(CK_EDDSA_PARAMS)) {
    CK_EDDSA_PARAMS e;
    std::memcpy(&e, k.param_.data(), sizeof e);
    if (e.ulContextDataLen != 0)
      return make_error(CKR_MECHANISM_PARAM_INVALID, "EdDSA context strings are not supported");
    e.pContextData = nullptr;
    std::memcpy(k.param_.data(), &e, sizeof e);
  }
  return k;
}

}  // namespace ferrohsm::mech
