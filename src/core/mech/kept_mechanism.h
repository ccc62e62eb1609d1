// A CK_MECHANISM that outlives the call that passed it: the type and a copy of the
// parameter block. A message-based signature context (C_MessageSignInit …) keeps
// one and starts each message's operation from it, through the same factory
// C_SignInit uses. Only parameter blocks without pointers can be kept this way
// (the signature mechanisms' are; see the .cc).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <ferrohsm/cryptoki.h>

namespace ferrohsm::mech {

class KeptMechanism {
 public:
  KeptMechanism() = default;
  // CKR_MECHANISM_PARAM_INVALID for a block whose pointers cannot be kept (see .cc).
  static Result<KeptMechanism> keep(const CK_MECHANISM& m);
  // Valid while this object lives and is not moved.
  CK_MECHANISM get() const {
    return CK_MECHANISM{type_, param_.empty() ? nullptr : const_cast<uint8_t*>(param_.data()),
                        static_cast<CK_ULONG>(param_.size())};
  }
  CK_MECHANISM_TYPE type() const { return type_; }

 private:
  CK_MECHANISM_TYPE type_ = 0;
  SecureBytes param_;  // max-aligned (heap), so the parameter struct can be read in place
};

}  // namespace ferrohsm::mech
