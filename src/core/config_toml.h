// The TOML readers config.cc shares with the other parsers of ferrohsm.toml sections
// (core/policy_config.cc).
#pragma once

#include "base/result.h"

#include <toml++/toml.h>

#include <optional>
#include <set>
#include <string>

namespace ferrohsm {

// A list of mechanism names ("CKM_ECDSA") or numbers (0x1041); `what` names the key in
// messages, `source` the file.
// Parses TOML text into `out`; on a syntax error, "line N: what is wrong" (the caller
// says which file). One wording for every parser of ferrohsm.toml and server.toml.
std::optional<std::string> parse_toml(const std::string& text, const std::string& source, toml::table& out);

Result<std::set<unsigned long>> read_mechanisms(const toml::node* n, const std::string& what,
                                                const std::string& source);

}  // namespace ferrohsm
