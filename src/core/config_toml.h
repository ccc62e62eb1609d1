// The TOML readers config.cc shares with the other parsers of ferrohsm.toml sections
// (core/policy_config.cc).
#pragma once

#include "base/result.h"

#include <toml++/toml.h>

#include <set>
#include <string>

namespace ferrohsm {

// A list of mechanism names ("CKM_ECDSA") or numbers (0x1041); `what` names the key in
// messages, `source` the file.
Result<std::set<unsigned long>> read_mechanisms(const toml::node* n, const std::string& what,
                                                const std::string& source);

}  // namespace ferrohsm
