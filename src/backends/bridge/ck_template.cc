#include "backends/bridge/ck_template.h"

#include "base/names.h"

namespace ferrohsm::bridge {

namespace {
CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, const SecureBytes& value) {
  return CK_ATTRIBUTE{type, value.empty() ? nullptr : const_cast<uint8_t*>(value.data()),
                      static_cast<CK_ULONG>(value.size())};
}
}  // namespace

Result<CkTemplate> CkTemplate::of(const AttrMap& attrs) {
  CkTemplate t;
  t.attrs_.reserve(attrs.size());
  for (const auto& [type, value] : attrs) {
    // Only the attribute arrays are held encoded; CKA_ALLOWED_MECHANISMS also carries
    // CKF_ARRAY_ATTRIBUTE but is a plain array of CK_MECHANISM_TYPE, passed as it is.
    if (attribute_kind(type) != AttrKind::AttrArray) {
      t.attrs_.push_back(attribute(type, value));
      continue;
    }
    FH_ASSIGN_OR_RETURN(AttrMap decoded, decode_attr_array(value));
    const AttrMap& inner = t.inner_maps_.emplace_back(std::move(decoded));
    std::vector<CK_ATTRIBUTE>& list = t.inner_.emplace_back();
    for (const auto& [it, iv] : inner) list.push_back(attribute(it, iv));
    t.attrs_.push_back(CK_ATTRIBUTE{type, list.empty() ? nullptr : list.data(),
                                    static_cast<CK_ULONG>(list.size() * sizeof(CK_ATTRIBUTE))});
  }
  return t;
}

}  // namespace ferrohsm::bridge
