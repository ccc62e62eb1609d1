#include "core/policy_gate.h"

#include "base/log.h"
#include "core/app.h"
#include "core/core.h"
#include "core/hsm.h"
#include "core/mech/curves.h"
#include "core/object.h"

#include <algorithm>
#include <functional>
#include <map>

namespace ferrohsm {

namespace {

// Past this many cached keys, entries of objects that are gone are dropped.
constexpr size_t kPruneEntries = 4096;

using AttrGetter = std::function<const SecureBytes*(CK_ATTRIBUTE_TYPE)>;

std::optional<CK_ULONG> gate_ulong(const SecureBytes* v) {
  if (v == nullptr || v->size() != sizeof(CK_ULONG)) return std::nullopt;
  CK_ULONG out = 0;
  std::copy(v->begin(), v->end(), reinterpret_cast<uint8_t*>(&out));
  return out;
}

SecureBytes gate_ulong_bytes(CK_ULONG v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  return SecureBytes(p, p + sizeof v);
}

std::string gate_text(const SecureBytes* v) { return v == nullptr ? std::string() : std::string(v->begin(), v->end()); }

// A CK_DATE ("YYYYMMDD"), or "" when absent or empty (no bound, PKCS#11 3.0 §4.4).
std::string gate_date(const SecureBytes* v) {
  if (v == nullptr || v->size() != 8) return {};
  std::string s(v->begin(), v->end());
  for (char c : s)
    if (c < '0' || c > '9') return {};
  return s;
}

// Bits of a big-endian unsigned integer (the modulus).
CK_ULONG gate_bit_length(const SecureBytes& v) {
  size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  if (i == v.size()) return 0;
  CK_ULONG bits = static_cast<CK_ULONG>(v.size() - i - 1) * 8;
  for (uint8_t b = v[i]; b != 0; b >>= 1) ++bits;
  return bits;
}

// The facts of a key from its attributes (an object's, or a template's).
void gate_facts(const AttrGetter& get, KeyFacts& k) {
  if (auto c = gate_ulong(get(CKA_CLASS))) k.cls = *c;
  if (auto t = gate_ulong(get(CKA_KEY_TYPE))) k.key_type = *t;
  k.label = gate_text(get(CKA_LABEL));
  k.unique_id = gate_text(get(CKA_UNIQUE_ID));
  k.start_date = gate_date(get(CKA_START_DATE));
  k.end_date = gate_date(get(CKA_END_DATE));
  switch (k.key_type) {
    case CKK_RSA:
      if (const SecureBytes* n = get(CKA_MODULUS)) k.bits = gate_bit_length(*n);
      else if (auto b = gate_ulong(get(CKA_MODULUS_BITS))) k.bits = *b;
      break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
      if (const SecureBytes* p = get(CKA_EC_PARAMS)) {
        auto c = mech::curve_from_params(ByteView(p->data(), p->size()));
        if (c.ok()) k.curve = std::string((*c)->names.back());
      }
      break;
    case CKK_AES:
      if (auto n = gate_ulong(get(CKA_VALUE_LEN))) k.bits = *n * 8;
      else if (const SecureBytes* v = get(CKA_VALUE)) k.bits = static_cast<CK_ULONG>(v->size() * 8);
      break;
    default: break;
  }
}

// The key type a generation mechanism makes (templates may leave CKA_KEY_TYPE out).
std::optional<CK_KEY_TYPE> generated_type(CK_MECHANISM_TYPE m) {
  switch (m) {
    case CKM_RSA_PKCS_KEY_PAIR_GEN:
    case CKM_RSA_X9_31_KEY_PAIR_GEN: return CKK_RSA;
    case CKM_EC_KEY_PAIR_GEN: return CKK_EC;
    case CKM_EC_EDWARDS_KEY_PAIR_GEN: return CKK_EC_EDWARDS;
    case CKM_EC_MONTGOMERY_KEY_PAIR_GEN: return CKK_EC_MONTGOMERY;
    case CKM_AES_KEY_GEN: return CKK_AES;
    default: return std::nullopt;
  }
}

std::string gate_unpad(const CK_UTF8CHAR* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

bool PolicyGate::token_of(CK_SESSION_HANDLE h, std::string& label, std::string& serial) {
  if (h < App::kBridgeBase) {
    auto s = app_.keystore().session(h);
    if (!s.ok()) return false;
    label = (*s)->token()->label();
    serial = (*s)->token()->serial();
    return true;
  }
  auto slot = app_.session_slot(h);
  if (!slot.ok()) return false;
  auto info = app_.token_info(*slot);
  if (!info.ok()) return false;
  label = gate_unpad(info->label, sizeof info->label);
  serial = gate_unpad(info->serialNumber, sizeof info->serialNumber);
  return true;
}

PolicyGate::EntryPtr PolicyGate::make_entry(KeyFacts facts, const std::shared_ptr<const Policy>& policy) {
  auto e = std::make_shared<Entry>();
  e->policy = policy;
  e->rules = matching_rules(*policy, facts.token, facts.label);
  e->facts = std::move(facts);
  return e;
}

PolicyGate::EntryPtr PolicyGate::entry(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key,
                                       const std::shared_ptr<const Policy>& policy) {
  if (h < App::kBridgeBase) {
    auto obj = app_.keystore().object(h, key);
    if (!obj.ok()) return nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_object_.find(obj->get());
      if (it != by_object_.end() && it->second->policy == policy && it->second->object.lock() == *obj)
        return it->second;
    }
    KeyFacts k;
    std::string serial;
    if (!token_of(h, k.token, serial)) return nullptr;
    const AttrMap& attrs = (*obj)->attrs();
    gate_facts([&](CK_ATTRIBUTE_TYPE t) { return attrs.get(t); }, k);
    auto made = std::const_pointer_cast<Entry>(make_entry(std::move(k), policy));
    made->object = *obj;
    made->counter = serial + "/" + made->facts.unique_id;
    std::lock_guard<std::mutex> lock(mu_);
    if (by_object_.size() > kPruneEntries)
      std::erase_if(by_object_, [](const auto& e) { return e.second->object.expired(); });
    by_object_[obj->get()] = made;
    return made;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_handle_.find(key);
    if (it != by_handle_.end() && it->second->policy == policy) return it->second;
  }
  // A bridged key: its attributes through the backend, sizes first, then values (an
  // attribute the key lacks or keeps sensitive comes back unavailable and is left out).
  static constexpr CK_ATTRIBUTE_TYPE kWanted[] = {CKA_CLASS,      CKA_KEY_TYPE,  CKA_LABEL,    CKA_UNIQUE_ID,
                                                  CKA_START_DATE, CKA_END_DATE,  CKA_MODULUS,  CKA_MODULUS_BITS,
                                                  CKA_EC_PARAMS,  CKA_VALUE_LEN};
  // One attribute a call: a library may stop at the first attribute a key lacks and
  // leave the others unfilled (SoftHSMv2 does). Only on a cache miss.
  std::map<CK_ATTRIBUTE_TYPE, SecureBytes> values;
  bool dates_unknown = false;
  for (CK_ATTRIBUTE_TYPE t : kWanted) {
    CK_ATTRIBUTE a{t, nullptr, 0};
    const bool read = app_.get_attributes(h, key, std::span<CK_ATTRIBUTE>(&a, 1)).ok();
    if (!read || a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 4096) {
      if (t == CKA_CLASS) return nullptr;  // no such object: the backend answers for it
      // Every key has both dates (PKCS#11 3.0 §4.7): one the library will not give is a
      // window the policy cannot check, and refuses.
      if (t == CKA_START_DATE || t == CKA_END_DATE) dates_unknown = true;
      continue;
    }
    SecureBytes& v = values[t];
    v.resize(a.ulValueLen);  // an empty value (a date left empty) needs no second call
    if (a.ulValueLen == 0) continue;
    a.pValue = v.data();
    if (!app_.get_attributes(h, key, std::span<CK_ATTRIBUTE>(&a, 1)).ok()) values.erase(t);
  }
  KeyFacts k;
  k.dates_unknown = dates_unknown;
  std::string serial;
  if (!token_of(h, k.token, serial)) return nullptr;
  gate_facts(
      [&](CK_ATTRIBUTE_TYPE t) -> const SecureBytes* {
        auto it = values.find(t);
        return it == values.end() ? nullptr : &it->second;
      },
      k);
  auto made = std::const_pointer_cast<Entry>(make_entry(std::move(k), policy));
  made->counter = serial + "/" + (made->facts.unique_id.empty() ? "label:" + made->facts.label : made->facts.unique_id);
  std::lock_guard<std::mutex> lock(mu_);
  if (by_handle_.size() > kPruneEntries) by_handle_.clear();
  by_handle_[key] = made;
  return made;
}

void PolicyGate::forget(CK_OBJECT_HANDLE key) {
  if (!core_.policy().active()) return;
  std::lock_guard<std::mutex> lock(mu_);
  by_handle_.erase(key);  // keystore entries notice a replaced object themselves
}

Status PolicyGate::refuse(const PolicyRefusal& r, CK_SESSION_HANDLE h) {
  Error e = r.error();
  log().info("{} (session {}): {}", app_.options().identity, h, e.message);
  return e;
}

Status PolicyGate::check(CK_SESSION_HANDLE h, KeyAction action, const CK_MECHANISM* m, CK_OBJECT_HANDLE key) {
  if (!core_.policy().active()) return {};  // no [[policy]]: the hot path pays one load
  std::shared_ptr<const Policy> policy = core_.policy().rules();
  EntryPtr e = entry(h, key, policy);
  if (!e || e->rules.empty() || !e->facts.is_key()) return {};
  const std::string& identity = app_.options().identity;
  const bool dates = std::any_of(e->rules.begin(), e->rules.end(), [](const PolicyRule* r) { return r->enforce_dates; });
  if (auto r = check_rules(e->rules, e->facts, action, identity, m != nullptr, m ? m->mechanism : 0,
                           dates ? policy_today_utc() : std::string()))
    return refuse(*r, h);
  if (action == KeyAction::Destroy) return {};
  for (const PolicyRule* r : e->rules)
    if (r->rate && !core_.policy().take_rate(r->name, identity, e->counter, *r->rate))
      return refuse(PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, r->name,
                                  identity + " exceeded the rate of " + std::to_string(r->rate->count) + " uses per " +
                                      std::to_string(r->rate->period_ms / 1000) + " s for this key"},
                    h);
  // One counter per key; the smallest max_uses of the matching rules bounds it.
  const PolicyRule* bound = nullptr;
  for (const PolicyRule* r : e->rules)
    if (r->max_uses != 0 && (bound == nullptr || r->max_uses < bound->max_uses)) bound = r;
  if (bound != nullptr) {
    auto taken = core_.store().take_key_use(e->counter, bound->max_uses);
    if (!taken.ok()) {
      if (taken.rv() != CKR_KEY_FUNCTION_NOT_PERMITTED) return taken.error();  // the store failed
      return refuse(PolicyRefusal{CKR_KEY_FUNCTION_NOT_PERMITTED, bound->name,
                                  "the key has had its " + std::to_string(bound->max_uses) + " uses (max_uses)"},
                    h);
    }
  }
  return {};
}

Status PolicyGate::check_new(CK_SESSION_HANDLE h, const CK_MECHANISM* m, const AttrMap& tmpl, const AttrMap* pub) {
  if (!core_.policy().active()) return {};
  std::shared_ptr<const Policy> policy = core_.policy().rules();
  std::string token, serial;
  if (!token_of(h, token, serial)) return {};  // the backend answers for the session
  // Each key the call makes is judged by the rules its label matches. A pair's size
  // is in the public template (CKA_MODULUS_BITS, CKA_EC_PARAMS).
  std::vector<KeyFacts> keys;
  const std::optional<CK_KEY_TYPE> made = m != nullptr ? generated_type(m->mechanism) : std::nullopt;
  auto facts_of = [&](const AttrMap& own, const AttrMap* other, CK_OBJECT_CLASS cls) {
    KeyFacts k;
    k.token = token;
    // Generation: the class is the call's, the key type the mechanism's.
    const SecureBytes class_bytes = gate_ulong_bytes(cls);
    const SecureBytes type_bytes = gate_ulong_bytes(made.value_or(0));
    gate_facts(
        [&](CK_ATTRIBUTE_TYPE t) -> const SecureBytes* {
          if (m != nullptr && t == CKA_CLASS) return &class_bytes;
          if (made && t == CKA_KEY_TYPE) return &type_bytes;
          const SecureBytes* v = own.get(t);
          if (v == nullptr && other != nullptr && t != CKA_LABEL && t != CKA_UNIQUE_ID) v = other->get(t);
          return v;
        },
        k);
    keys.push_back(std::move(k));
  };
  if (pub != nullptr) {
    facts_of(tmpl, pub, CKO_PRIVATE_KEY);
    facts_of(*pub, nullptr, CKO_PUBLIC_KEY);
  } else {
    facts_of(tmpl, nullptr, CKO_SECRET_KEY);
  }
  for (const KeyFacts& k : keys) {
    if (!k.is_key()) continue;
    std::vector<const PolicyRule*> rules = matching_rules(*policy, k.token, k.label);
    if (rules.empty()) continue;
    if (auto r = check_rules(rules, k, KeyAction::Create, app_.options().identity, m != nullptr,
                             m ? m->mechanism : 0, {})) {
      // A size the rule refuses is a token-specific requirement of the template
      // (PKCS#11 3.0 §4.1.1): CKR_TEMPLATE_INCONSISTENT, not the use-time code.
      PolicyRefusal made = *r;
      if (made.rv == CKR_KEY_SIZE_RANGE) made.rv = CKR_TEMPLATE_INCONSISTENT;
      return refuse(made, h);
    }
  }
  return {};
}

}  // namespace ferrohsm
