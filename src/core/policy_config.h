// Reading [[policy]] rules from ferrohsm.toml (docs/POLICY.md). Every problem is named
// with the line it is on (toml++ keeps each node's source region).
#pragma once

#include "base/result.h"
#include "core/policy.h"

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace ferrohsm {

// The rules of a parsed file's `policy` node (nullptr: none). `problems` gets every
// problem, one line each ("line 12: policy \"signing-keys\": …"); the rules that had
// none are kept in the result.
Policy read_policy_rules(const toml::node* n, const std::string& source, std::vector<std::string>& problems);
// For the configuration loader: the rules, or the first problem as the load's error.
Result<Policy> read_policy(const toml::node* n, const std::string& source);
// `ferrohsm policy check`: every problem of the [[policy]] rules in a whole ferrohsm.toml
// (or server.toml) text, a TOML syntax error included; empty when the rules are sound.
std::vector<std::string> check_policy_text(const std::string& text, const std::string& source, Policy* out = nullptr);

}  // namespace ferrohsm
