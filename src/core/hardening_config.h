// Reading [hardening] from the configuration file (core/config.cc calls it).
#pragma once

#include "core/hardening.h"

#include <toml++/toml.h>

#include <string>

namespace ferrohsm {

// Fills `out` from root["hardening"] if present; unknown keys, a profile other than
// "default" / "strict" and non-boolean switches are errors naming the key.
Status read_hardening(const toml::table& root, Hardening& out, const std::string& source);

}  // namespace ferrohsm
