#include "core/policy.h"

#include "base/names.h"

#include <fnmatch.h>

#include <ctime>

namespace ferrohsm {

const char* key_action_name(KeyAction a) {
  switch (a) {
    case KeyAction::Use: return "use";
    case KeyAction::Export: return "export";
    case KeyAction::Wrap: return "wrap";
    case KeyAction::Destroy: return "destroy";
    case KeyAction::Create: return "create";
  }
  return "use";
}

const std::optional<std::vector<std::string>>& PolicyRule::who(KeyAction a) const {
  static const std::optional<std::vector<std::string>> kAnyone;
  switch (a) {
    case KeyAction::Use: return use;
    case KeyAction::Export: return export_;
    case KeyAction::Wrap: return wrap;
    case KeyAction::Destroy: return destroy;
    case KeyAction::Create: return kAnyone;
  }
  return kAnyone;
}

std::optional<std::string> policy_rule_of(const Error& e) {
  static const std::string kPrefix = "policy \"";
  if (e.message.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  const size_t end = e.message.find("\": ", kPrefix.size());
  if (end == std::string::npos) return std::nullopt;
  return e.message.substr(kPrefix.size(), end - kPrefix.size());
}

bool policy_glob_match(const std::string& glob, const std::string& text) {
  if (glob == "*") return true;  // the default: no call into libc on the common path
  return fnmatch(glob.c_str(), text.c_str(), 0) == 0;
}

std::string policy_glob_problem(const std::string& glob) {
  if (glob.empty()) return "is empty (\"*\" matches everything)";
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') {
      if (i + 1 == glob.size()) return "ends in a lone '\\'";
      ++i;
      continue;
    }
    if (glob[i] != '[') continue;
    size_t j = i + 1;
    if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
    if (j < glob.size() && glob[j] == ']') ++j;  // a leading ']' is a member
    while (j < glob.size() && glob[j] != ']') ++j;
    if (j >= glob.size()) return "has a '[' that is never closed";
    i = j;
  }
  return {};
}

std::optional<PolicyRate> parse_policy_rate(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 2 != text.size()) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i < slash; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    if (n > 1'000'000'000) return std::nullopt;
  }
  if (n == 0) return std::nullopt;
  switch (text[slash + 1]) {
    case 's': return PolicyRate{n, 1000};
    case 'm': return PolicyRate{n, 60'000};
    case 'h': return PolicyRate{n, 3'600'000};
    case 'd': return PolicyRate{n, 86'400'000};
    default: return std::nullopt;
  }
}

std::vector<const PolicyRule*> matching_rules(const Policy& p, const std::string& token, const std::string& key_label) {
  std::vector<const PolicyRule*> out;
  for (const PolicyRule& r : p.rules)
    if (policy_glob_match(r.token, token) && policy_glob_match(r.key, key_label)) out.push_back(&r);
  return out;
}

namespace {

bool identity_allowed(const std::vector<std::string>& globs, const std::string& identity) {
  for (const std::string& g : globs)
    if (policy_glob_match(g, identity)) return true;
  return false;
}

std::string bits_list(const std::set<CK_ULONG>& s) {
  std::string out;
  for (CK_ULONG b : s) out += (out.empty() ? "" : ", ") + std::to_string(b);
  return out;
}

// The key-size test of one rule: nullopt when it passes (or says nothing of this type).
std::optional<std::string> size_problem(const PolicyRule& r, const KeyFacts& k) {
  switch (k.key_type) {
    case CKK_RSA:
      if (r.rsa_bits && !r.rsa_bits->count(k.bits))
        return "an RSA key of " + std::to_string(k.bits) + " bits (the rule allows " + bits_list(*r.rsa_bits) + ")";
      return std::nullopt;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
      if (r.ec_curves && !r.ec_curves->count(k.curve)) {
        std::string list;
        for (const std::string& c : *r.ec_curves) list += (list.empty() ? "" : ", ") + c;
        return "a key on curve " + (k.curve.empty() ? std::string("(unknown)") : k.curve) + " (the rule allows " +
               list + ")";
      }
      return std::nullopt;
    case CKK_AES:
      if (r.aes_bits && !r.aes_bits->count(k.bits))
        return "an AES key of " + std::to_string(k.bits) + " bits (the rule allows " + bits_list(*r.aes_bits) + ")";
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<PolicyRefusal> check_rules(const std::vector<const PolicyRule*>& rules, const KeyFacts& k,
                                         KeyAction action, const std::string& identity, bool has_mechanism,
                                         CK_MECHANISM_TYPE mechanism, const std::string& today) {
  // Most specific first: who may act at all, then with what, then on which key, then when.
  for (const PolicyRule* r : rules) {
    const auto& who = r->who(action);
    if (who && !identity_allowed(*who, identity))
      return PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, r->name,
                           identity + " may not " + key_action_name(action) + " this key"};
  }
  if (has_mechanism)
    for (const PolicyRule* r : rules)
      if (r->mechanisms && !r->mechanisms->count(mechanism))
        return PolicyRefusal{CKR_MECHANISM_INVALID, r->name, mechanism_name(mechanism) + " is not allowed for this key"};
  // A template that gives no size is the backend's to refuse (CKR_TEMPLATE_INCOMPLETE).
  const bool size_unknown = k.bits == 0 && k.curve.empty();
  for (const PolicyRule* r : rules)
    if (auto p = (action == KeyAction::Create && size_unknown) ? std::nullopt : size_problem(*r, k))
      return PolicyRefusal{CKR_KEY_SIZE_RANGE, r->name, *p + " is not allowed"};
  if (action != KeyAction::Create && action != KeyAction::Destroy)
    for (const PolicyRule* r : rules) {
      if (!r->enforce_dates) continue;
      if (k.dates_unknown)
        return PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, r->name,
                             "the key's CKA_START_DATE / CKA_END_DATE cannot be read, so its validity window "
                             "cannot be checked"};
      if (!k.start_date.empty() && today < k.start_date)
        return PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, r->name,
                             "the key is valid from " + k.start_date + " (CKA_START_DATE), today is " + today};
      if (!k.end_date.empty() && today > k.end_date)
        return PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, r->name,
                             "the key was valid until " + k.end_date + " (CKA_END_DATE), today is " + today};
    }
  return std::nullopt;
}

std::string policy_today_utc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

}  // namespace ferrohsm
