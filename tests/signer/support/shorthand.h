// What the signer's tests write on every other line: the background context, and scopes
// and key ids parsed from text that is known to be valid.
#pragma once

#include <string_view>

#include "ferrohsm/signer/context.h"
#include "ferrohsm/signer/scope.h"

namespace ferrohsm::signer::testing {

inline const Context kCtx = Context::background();
inline Scope S(std::string_view s) { return *Scope::parse(s); }
inline KeyId K(std::string_view k) { return *KeyId::parse(k); }

}  // namespace ferrohsm::signer::testing
