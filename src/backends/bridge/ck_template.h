// An AttrMap laid out again as the CK_ATTRIBUTE array a PKCS#11 library takes. The
// values point into the map (which must outlive the template); attribute arrays
// (CKA_WRAP_TEMPLATE …), which the map holds in their stored encoding, are decoded into
// nested CK_ATTRIBUTE arrays owned by the template.
#pragma once

#include "core/attributes.h"

#include <deque>
#include <vector>

namespace ferrohsm::bridge {

class CkTemplate {
 public:
  static Result<CkTemplate> of(const AttrMap& attrs);

  CK_ATTRIBUTE* data() { return attrs_.empty() ? nullptr : attrs_.data(); }
  CK_ULONG size() const { return static_cast<CK_ULONG>(attrs_.size()); }

 private:
  std::vector<CK_ATTRIBUTE> attrs_;
  std::deque<AttrMap> inner_maps_;                 // decoded attribute arrays
  std::deque<std::vector<CK_ATTRIBUTE>> inner_;    // and their CK_ATTRIBUTE form
};

}  // namespace ferrohsm::bridge
