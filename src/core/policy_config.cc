#include "core/policy_config.h"

#include "core/config_toml.h"
#include "core/mech/curves.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

namespace ferrohsm {

namespace {

const std::set<std::string> kPolicyKeys = {"name",    "token", "key",  "mechanisms", "key_sizes", "enforce_dates",
                                           "max_uses", "rate",  "use",  "export",     "wrap",      "destroy"};
const std::set<std::string> kPolicySizeKeys = {"rsa", "ec", "aes"};

int policy_line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// A quoted value in a message is one printable line, whatever the file held.
std::string policy_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f && c != '"') {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
    }
  }
  return out + "\"";
}

bool policy_name_ok(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// The canonical name of a curve named any way the curve table accepts ("secp256r1",
// "P-256" → "P-256"), or "" when it is no curve FerroHSM has.
std::string policy_curve_name(const std::string& name) {
  if (name.empty() || name.size() > 100) return {};
  Bytes der{0x13, static_cast<uint8_t>(name.size())};  // DER PrintableString
  der.insert(der.end(), name.begin(), name.end());
  auto c = mech::curve_from_params(der);
  if (!c.ok()) return {};
  return std::string((*c)->names.back());
}

// Reads one [[policy]] table into `r`; each problem goes to `report`.
class RuleReader {
 public:
  RuleReader(const toml::table& t, PolicyRule& r, const std::string& source, std::vector<std::string>& problems)
      : t_(t), r_(r), source_(source), problems_(problems) {}

  void read() {
    r_.line = policy_line(t_);
    if (const toml::node* n = t_.get("name")) {
      auto v = n->value<std::string>();
      if (!n->is_string() || !policy_name_ok(*v))
        report(*n, "name must be 1 to 64 letters, digits, '-', '_' or '.'");
      else
        r_.name = *v;
    } else {
      report(t_, "needs name = \"…\" (refusals and the audit trail name the rule)");
    }
    for (const auto& [k, v] : t_)
      if (!kPolicyKeys.count(std::string(k.str())))
        report(v, "unknown key " + policy_quote(std::string(k.str())) +
                      " (name, token, key, mechanisms, key_sizes, enforce_dates, max_uses, rate, use, export, "
                      "wrap, destroy)");
    glob("token", r_.token);
    glob("key", r_.key);
    if (const toml::node* n = t_.get("mechanisms")) {
      if (n->as_array() == nullptr || n->as_array()->empty()) {
        report(*n, "mechanisms must be a non-empty list of names (\"CKM_ECDSA\") or numbers; leave it out to allow any");
      } else {
        auto m = read_mechanisms(n, "mechanisms", source_);
        if (!m.ok()) {
          // The shared reader's message starts "configuration <source>: ": keep what follows.
          const std::string& msg = m.error().message;
          const size_t at = msg.find("mechanisms");
          report(*n, at == std::string::npos ? msg : msg.substr(at));
        } else {
          r_.mechanisms = std::move(*m);
        }
      }
    }
    if (const toml::node* n = t_.get("key_sizes")) sizes(*n);
    if (const toml::node* n = t_.get("enforce_dates")) {
      if (!n->is_boolean())
        report(*n, "enforce_dates must be true or false");
      else
        r_.enforce_dates = n->as_boolean()->get();
    }
    if (const toml::node* n = t_.get("max_uses")) {
      const toml::value<int64_t>* v = n->as_integer();
      if (v == nullptr || v->get() < 1)
        report(*n, "max_uses must be a positive integer (written without a decimal point)");
      else
        r_.max_uses = static_cast<uint64_t>(v->get());
    }
    if (const toml::node* n = t_.get("rate")) {
      auto v = n->value<std::string>();
      auto rate = (v && n->is_string()) ? parse_policy_rate(*v) : std::nullopt;
      if (!rate)
        report(*n, "rate must be \"<count>/<unit>\" with a positive count and unit s, m, h or d (\"100/s\")");
      else
        r_.rate = *rate;
    }
    identities("use", r_.use);
    identities("export", r_.export_);
    identities("wrap", r_.wrap);
    identities("destroy", r_.destroy);
  }

 private:
  void report(const toml::node& n, const std::string& what) {
    std::string rule = r_.name.empty() ? std::string("[[policy]]") : "policy " + policy_quote(r_.name);
    problems_.push_back("line " + std::to_string(policy_line(n)) + ": " + rule + ": " + what);
  }

  void glob(const char* key, std::string& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return;
    auto v = n->value<std::string>();
    if (!v || !n->is_string()) return report(*n, std::string(key) + " must be a string (a label or a glob)");
    if (std::string p = policy_glob_problem(*v); !p.empty())
      return report(*n, std::string(key) + " " + policy_quote(*v) + " " + p);
    out = *v;
  }

  void identities(const char* key, std::optional<std::vector<std::string>>& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr)
      return report(*n, std::string(key) + " must be a list of identities (\"uid:1000\", \"cert:CN=app1\"); [] "
                                           "allows no one");
    std::vector<std::string> list;
    for (const toml::node& item : *a) {
      auto v = item.value<std::string>();
      if (!v || !item.is_string()) {
        report(item, std::string(key) + " holds identities as strings");
        continue;
      }
      const bool known_kind = *v == "*" || v->rfind("uid:", 0) == 0 || v->rfind("gid:", 0) == 0 ||
                              v->rfind("cert:", 0) == 0;
      if (!known_kind) {
        report(item, std::string(key) + ": " + policy_quote(*v) +
                         " is no identity (\"uid:<n>\", \"gid:<n>\", \"cert:CN=…\" or \"*\")");
        continue;
      }
      if (std::string p = policy_glob_problem(*v); !p.empty()) {
        report(item, std::string(key) + ": " + policy_quote(*v) + " " + p);
        continue;
      }
      list.push_back(*v);
    }
    out = std::move(list);
  }

  void sizes(const toml::node& n) {
    const toml::table* t = n.as_table();
    if (t == nullptr) return report(n, "key_sizes must be a table: { rsa = [2048], ec = [\"P-256\"], aes = [256] }");
    for (const auto& [k, v] : *t)
      if (!kPolicySizeKeys.count(std::string(k.str())))
        report(v, "key_sizes: unknown key type " + policy_quote(std::string(k.str())) + " (rsa, ec, aes)");
    bits("rsa", *t, 512, 16384, r_.rsa_bits);
    bits("aes", *t, 128, 256, r_.aes_bits);
    if (r_.aes_bits)
      for (CK_ULONG b : *r_.aes_bits)
        if (b != 128 && b != 192 && b != 256) report(*t->get("aes"), "key_sizes.aes: AES keys have 128, 192 or 256 bits");
    if (const toml::node* e = t->get("ec")) {
      const toml::array* a = e->as_array();
      if (a == nullptr || a->empty()) return report(*e, "key_sizes.ec must be a non-empty list of curves (\"P-256\")");
      std::set<std::string> curves;
      for (const toml::node& item : *a) {
        auto v = item.value<std::string>();
        std::string name = (v && item.is_string()) ? policy_curve_name(*v) : std::string();
        if (name.empty()) {
          report(item, "key_sizes.ec: " + (v ? policy_quote(*v) : std::string("a non-string")) +
                           " is no curve FerroHSM has (P-256, P-384, P-521, secp256k1, brainpoolP256r1…, Ed25519, "
                           "Ed448, X25519, X448)");
          continue;
        }
        curves.insert(name);
      }
      r_.ec_curves = std::move(curves);
    }
  }

  void bits(const char* key, const toml::table& t, int64_t lo, int64_t hi, std::optional<std::set<CK_ULONG>>& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty()) return report(*n, std::string("key_sizes.") + key + " must be a non-empty list of bit sizes");
    std::set<CK_ULONG> s;
    for (const toml::node& item : *a) {
      const toml::value<int64_t>* v = item.as_integer();
      if (v == nullptr || v->get() < lo || v->get() > hi) {
        report(item, std::string("key_sizes.") + key + " holds integers from " + std::to_string(lo) + " to " +
                         std::to_string(hi) + " (bits)");
        continue;
      }
      s.insert(static_cast<CK_ULONG>(v->get()));
    }
    out = std::move(s);
  }

  const toml::table& t_;
  PolicyRule& r_;
  const std::string& source_;
  std::vector<std::string>& problems_;
};

// Whether every key `narrow` applies to is also under `wide` (a sufficient test: the
// same glob, or "*").
bool policy_covers(const PolicyRule& wide, const PolicyRule& narrow) {
  return (wide.token == "*" || wide.token == narrow.token) && (wide.key == "*" || wide.key == narrow.key);
}

template <typename T>
bool policy_disjoint(const std::optional<std::set<T>>& a, const std::optional<std::set<T>>& b) {
  if (!a || !b) return false;
  for (const T& x : *a)
    if (b->count(x)) return false;
  return true;
}

// Rules that together allow nothing: one covers the other's keys and their lists of
// mechanisms (or of sizes of one key type) have nothing in common.
void policy_conflicts(const Policy& p, const std::vector<PolicyRule>& every, std::vector<std::string>& problems) {
  std::map<std::string, int> names;
  for (const PolicyRule& r : every) {  // a faulty rule's name is taken too
    if (r.name.empty()) continue;
    auto [it, fresh] = names.emplace(r.name, r.line);
    if (!fresh)
      problems.push_back("line " + std::to_string(r.line) + ": policy " + policy_quote(r.name) +
                         ": the name is already that of the rule on line " + std::to_string(it->second));
  }
  for (size_t i = 0; i < p.rules.size(); ++i)
    for (size_t j = i + 1; j < p.rules.size(); ++j) {
      const PolicyRule& a = p.rules[i];
      const PolicyRule& b = p.rules[j];
      if (!policy_covers(a, b) && !policy_covers(b, a)) continue;
      std::string what;
      if (policy_disjoint(a.mechanisms, b.mechanisms)) what = "mechanisms";
      else if (policy_disjoint(a.rsa_bits, b.rsa_bits)) what = "key_sizes.rsa";
      else if (policy_disjoint(a.ec_curves, b.ec_curves)) what = "key_sizes.ec";
      else if (policy_disjoint(a.aes_bits, b.aes_bits)) what = "key_sizes.aes";
      if (what.empty()) continue;
      problems.push_back("line " + std::to_string(b.line) + ": policy " + policy_quote(b.name) +
                         " conflicts with policy " + policy_quote(a.name) + " (line " + std::to_string(a.line) +
                         "): both apply to the same keys and their " + what +
                         " have nothing in common, so those keys could do nothing");
    }
}

}  // namespace

Policy read_policy_rules(const toml::node* n, const std::string& source, std::vector<std::string>& problems) {
  Policy p;
  if (n == nullptr) return p;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    problems.push_back("line " + std::to_string(policy_line(*n)) + ": policies are [[policy]] tables");
    return p;
  }
  std::vector<PolicyRule> every;
  for (const toml::node& entry : *a) {
    const toml::table* t = entry.as_table();
    if (t == nullptr) {
      problems.push_back("line " + std::to_string(policy_line(entry)) + ": policies are [[policy]] tables");
      continue;
    }
    PolicyRule r;
    const size_t before = problems.size();
    RuleReader(*t, r, source, problems).read();
    every.push_back(r);
    if (problems.size() == before) p.rules.push_back(std::move(r));
  }
  policy_conflicts(p, every, problems);
  // In the order of the file, each problem with its line.
  std::stable_sort(problems.begin(), problems.end(), [](const std::string& a, const std::string& b) {
    return std::atoi(a.c_str() + 5) < std::atoi(b.c_str() + 5);  // after "line "
  });
  return p;
}

Result<Policy> read_policy(const toml::node* n, const std::string& source) {
  std::vector<std::string> problems;
  Policy p = read_policy_rules(n, source, problems);
  if (!problems.empty()) return make_error(CKR_GENERAL_ERROR, "configuration " + source + ": " + problems.front());
  return p;
}

std::vector<std::string> check_policy_text(const std::string& text, const std::string& source, Policy* out) {
  std::vector<std::string> problems;
  toml::table root;
  if (std::optional<std::string> bad = parse_toml(text, source, root)) {
    problems.push_back(*bad);
    return problems;
  }
  Policy p = read_policy_rules(root.get("policy"), source, problems);
  if (out != nullptr) *out = std::move(p);
  return problems;
}

}  // namespace ferrohsm
