// Policy rules ([[policy]] in ferrohsm.toml, docs/POLICY.md): which mechanisms and key
// sizes a key may have, its validity window, how often it may be used, by whom — per
// token label and key label (globs). The model and its evaluation live here, free of
// any backend: the App (core/policy_app.h) gathers a key's facts and asks.
//
// Every rule whose token and key globs match applies; a call passes only when each of
// them allows it. A refusal names the rule: its message starts `policy "<name>": `
// (policy_rule_of reads it back, for the audit record).
#pragma once

#include "base/result.h"

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ferrohsm {

// What a call does with a key.
enum class KeyAction {
  Use,      // sign, verify, encrypt, decrypt, MAC, derive (the base key), digest a key
  Export,   // the key C_WrapKey wraps (it leaves the token)
  Wrap,     // the wrapping key of C_WrapKey, the unwrapping key of C_UnwrapKey
  Destroy,  // C_DestroyObject
  Create,   // key generation and import (C_CreateObject of a key)
};
const char* key_action_name(KeyAction a);

// "<count>/<unit>" with unit s, m, h or d: at most `count` in any window of `period_ms`.
struct PolicyRate {
  uint64_t count = 0;
  uint64_t period_ms = 1000;
};

struct PolicyRule {
  std::string name;       // [A-Za-z0-9._-]+, unique in the file
  int line = 0;           // where its [[policy]] header is (messages)
  std::string token = "*";  // token label glob (fnmatch)
  std::string key = "*";    // CKA_LABEL glob
  std::optional<std::set<CK_MECHANISM_TYPE>> mechanisms;  // unset: any
  std::optional<std::set<CK_ULONG>> rsa_bits;             // modulus bits
  std::optional<std::set<std::string>> ec_curves;         // "P-256", "Ed25519"…
  std::optional<std::set<CK_ULONG>> aes_bits;
  bool enforce_dates = false;  // CKA_START_DATE / CKA_END_DATE at each use
  uint64_t max_uses = 0;       // 0: no limit; else a counter in the store per key
  std::optional<PolicyRate> rate;  // per identity per key
  // Identity globs ("uid:1000", "cert:CN=app*"); unset: anyone, empty: no one.
  std::optional<std::vector<std::string>> use, export_, wrap, destroy;

  bool has_key_sizes() const { return rsa_bits || ec_curves || aes_bits; }
  const std::optional<std::vector<std::string>>& who(KeyAction a) const;
};

struct Policy {
  std::vector<PolicyRule> rules;
  bool empty() const { return rules.empty(); }
};

// What a check needs of a key, read once per key object (core/policy_app.h caches it).
struct KeyFacts {
  std::string token;     // the token's label, unpadded
  std::string label;     // CKA_LABEL
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_KEY_TYPE key_type = CK_UNAVAILABLE_INFORMATION;
  CK_ULONG bits = 0;     // RSA modulus bits, AES key bits (0: unknown)
  std::string curve;     // EC / Edwards: "P-256" … ("" unknown)
  std::string unique_id; // CKA_UNIQUE_ID (the use counter's key)
  std::string start_date, end_date;  // "YYYYMMDD", "" when absent or empty
  bool dates_unknown = false;        // a bridged library would not give them
  bool is_key() const { return cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY; }
};

// A refused call: the PKCS#11 code, the rule, and why (no key material, ever).
struct PolicyRefusal {
  CK_RV rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
  std::string rule;
  std::string why;
  Error error() const { return make_error(rv, "policy \"" + rule + "\": " + why); }
};

// The rule a refusal's message names, or nothing when the error came from elsewhere.
// (The audit trail records it: every policy refusal's Error::message starts so.)
std::optional<std::string> policy_rule_of(const Error& e);

// Shell-style glob (fnmatch, no special meaning for '/').
bool policy_glob_match(const std::string& glob, const std::string& text);
// Empty when `glob` is well-formed, else why not (an unclosed '[', a trailing '\').
std::string policy_glob_problem(const std::string& glob);
// "100/s" → {100, 1000}; nullopt for anything else.
std::optional<PolicyRate> parse_policy_rate(const std::string& text);

// The rules matching a key (by token and key label), in file order.
std::vector<const PolicyRule*> matching_rules(const Policy& p, const std::string& token, const std::string& key_label);

// The static checks of one call on one key (no counters, no clock but `today`):
// identity, mechanism, key size, validity window. `mechanism` 0 with `has_mechanism`
// false skips the mechanism test (C_DestroyObject). `today` is "YYYYMMDD" (UTC).
std::optional<PolicyRefusal> check_rules(const std::vector<const PolicyRule*>& rules, const KeyFacts& k,
                                         KeyAction action, const std::string& identity, bool has_mechanism,
                                         CK_MECHANISM_TYPE mechanism, const std::string& today);

// Today's date in UTC as "YYYYMMDD".
std::string policy_today_utc();

}  // namespace ferrohsm
