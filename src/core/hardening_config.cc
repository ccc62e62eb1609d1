// [hardening] in ferrohsm.toml: the profile and one switch per named rule
// (core/hardening.h, docs/HARDENING.md). Every key is optional; each rule is on unless
// the file says `false`.
#include "core/hardening_config.h"

#include <toml++/toml.h>

namespace ferrohsm {
namespace {

struct RuleSwitch {
  const char* name;
  bool Hardening::*field;
};

constexpr RuleSwitch kRuleSwitches[] = {
    {"wrap_xor_decrypt", &Hardening::wrap_xor_decrypt},
    {"sticky_attributes", &Hardening::sticky_attributes},
    {"no_weaker_wrapping", &Hardening::no_weaker_wrapping},
    {"unwrapped_not_local", &Hardening::unwrapped_not_local},
    {"untrusted_unwrapped", &Hardening::untrusted_unwrapped},
    {"conflicting_usages", &Hardening::conflicting_usages},
};

// A message that stays one printable line whatever the file held.
Error hardening_error(const std::string& source, const std::string& what) {
  std::string line;
  for (char c : "configuration " + source + ": [hardening] " + what)
    line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return make_error(CKR_GENERAL_ERROR, line);
}

}  // namespace

Status read_hardening(const toml::table& root, Hardening& out, const std::string& source) {
  const toml::node* n = root.get("hardening");
  if (n == nullptr) return {};
  const toml::table* t = n->as_table();
  if (t == nullptr) return hardening_error(source, "must be a table");
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (key == "profile") {
      const toml::value<std::string>* p = v.as_string();
      if (p == nullptr || (p->get() != "default" && p->get() != "strict"))
        return hardening_error(source, "profile must be \"default\" or \"strict\"");
      out.profile = p->get() == "strict" ? Hardening::Profile::Strict : Hardening::Profile::Default;
      continue;
    }
    const RuleSwitch* rule = nullptr;
    for (const RuleSwitch& r : kRuleSwitches)
      if (key == r.name) rule = &r;
    if (rule == nullptr)
      return hardening_error(source, "unknown key " + key +
                                         " (profile, wrap_xor_decrypt, sticky_attributes, no_weaker_wrapping, "
                                         "unwrapped_not_local, untrusted_unwrapped, conflicting_usages)");
    // is_boolean: a 0 or 1 is not taken for a switch.
    if (!v.is_boolean()) return hardening_error(source, key + " must be true or false");
    out.*(rule->field) = v.as_boolean()->get();
  }
  return {};
}

}  // namespace ferrohsm
