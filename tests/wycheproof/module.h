// The module under test for the Wycheproof run: dlopened once, initialised on a
// fresh temporary store (FERROHSM_CONF), with a token initialised and a user
// session logged in. Torn down (finalised, store removed) at process exit.
#pragma once

#include "harness.h"

namespace wycheproof {

// The shared logged-in session, or a Session with f == nullptr after an error
// (`error` says why).
const Session& module_session(std::string& error);

}  // namespace wycheproof
