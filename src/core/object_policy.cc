#include "core/object_policy.h"

#include "core/attribute_rules.h"
#include "base/names.h"

namespace ferrohsm {
namespace {

Status check_subtype(CK_OBJECT_CLASS cls, const AttrMap& tmpl, const std::vector<AttrRule>** rules) {
  CK_ULONG sub = 0;
  if (cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) {
    auto kt = tmpl.get_ulong(CKA_KEY_TYPE);
    if (!kt) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
    sub = *kt;
  } else if (cls == CKO_CERTIFICATE) {
    auto ct = tmpl.get_ulong(CKA_CERTIFICATE_TYPE);
    if (!ct) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_CERTIFICATE_TYPE is required");
    sub = *ct;
  } else if (cls != CKO_DATA) {
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "object class " + std::to_string(cls) + " is not supported");
  }
  *rules = rules_for(cls, sub);
  if (*rules == nullptr)
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID,
                      std::string(cls == CKO_CERTIFICATE ? "certificate" : "key") + " type " + std::to_string(sub) +
                          " is not supported for this class");
  return {};
}

void apply_default(AttrMap& out, const AttrRule& r);

// Later rules are the more specific ones (a class's own default over the common one).
void apply_defaults(AttrMap& out, const std::vector<AttrRule>& rules) {
  // A key the caller makes for wrapping does not also encrypt or decrypt unless the
  // template says so: otherwise C_Decrypt would hand out what C_WrapKey wrapped.
  if (out.get_bool_or(CKA_WRAP, false) || out.get_bool_or(CKA_UNWRAP, false)) {
    for (CK_ATTRIBUTE_TYPE t : {CKA_ENCRYPT, CKA_DECRYPT})
      if (!out.has(t) && find_rule(rules, t) != nullptr) out.set_bool(t, false);
  }
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) apply_default(out, *it);
}

void apply_default(AttrMap& out, const AttrRule& r) {
  if (out.has(r.type)) return;
  switch (r.dflt) {
    case Default::False: out.set_bool(r.type, false); break;
    case Default::True: out.set_bool(r.type, true); break;
    case Default::Empty: out.set(r.type, ByteView()); break;
    case Default::Zero: out.set_ulong(r.type, 0); break;
    case Default::Unavailable: out.set_ulong(r.type, CK_UNAVAILABLE_INFORMATION); break;
    case Default::None: break;
  }
}

// Rules every template shares: known attribute, SO-only values, and the bool
// one-way rules at creation (a template may set anything the rule allows).
Status check_common(const std::vector<AttrRule>& rules, const AttrMap& tmpl, bool so) {
  for (const auto& [t, v] : tmpl) {
    const AttrRule* r = find_rule(rules, t);
    // A type FerroHSM does not know was refused by parse_template; a known one that
    // does not belong to this kind of object conflicts with its class.
    if (r == nullptr)
      return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(t) + " does not belong to this kind of object");
    if ((r->flags & kSoOnly) && tmpl.get_bool_or(t, false) && !so)
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " can only be set by the SO");
  }
  return {};
}

void add_key_derived(AttrMap& out, CK_OBJECT_CLASS cls, bool generated, CK_MECHANISM_TYPE mech) {
  if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY) return;
  out.set_bool(CKA_LOCAL, generated);
  out.set_ulong(CKA_KEY_GEN_MECHANISM, generated ? mech : CK_UNAVAILABLE_INFORMATION);
  if (cls != CKO_PUBLIC_KEY) {
    bool sensitive = out.get_bool_or(CKA_SENSITIVE, false);
    bool extractable = out.get_bool_or(CKA_EXTRACTABLE, false);
    out.set_bool(CKA_ALWAYS_SENSITIVE, generated && sensitive);
    out.set_bool(CKA_NEVER_EXTRACTABLE, generated && !extractable);
  }
}

// Completes what follows from the key material: CKA_VALUE_LEN, CKA_MODULUS_BITS,
// CKA_PUBLIC_KEY_INFO (and checks the material is a usable key).
Status add_material_derived(AttrMap& out, CK_OBJECT_CLASS cls) {
  if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY) return {};
  FH_ASSIGN_OR_RETURN(mech::KeyPtr key, mech::key_from_attributes(cls, out));
  if (cls == CKO_SECRET_KEY) {
    out.set_ulong(CKA_VALUE_LEN, out.view(CKA_VALUE).size());
    return {};
  }
  FH_ASSIGN_OR_RETURN(AttrMap pub, mech::public_attributes_of(*key));
  if (cls == CKO_PRIVATE_KEY && pub.has(CKA_EC_POINT)) out.set(CKA_EC_POINT, pub.view(CKA_EC_POINT));
  if (out.get_ulong(CKA_KEY_TYPE) == CKK_RSA) {
    if (cls == CKO_PUBLIC_KEY) out.set_ulong(CKA_MODULUS_BITS, key->bits);
    if (!out.has(CKA_PUBLIC_EXPONENT) && pub.has(CKA_PUBLIC_EXPONENT))
      out.set(CKA_PUBLIC_EXPONENT, pub.view(CKA_PUBLIC_EXPONENT));
  }
  const SecureBytes* given = out.get(CKA_PUBLIC_KEY_INFO);
  if ((given == nullptr || given->empty()) && pub.has(CKA_PUBLIC_KEY_INFO))
    out.set(CKA_PUBLIC_KEY_INFO, pub.view(CKA_PUBLIC_KEY_INFO));
  return {};
}

}  // namespace

CK_OBJECT_CLASS object_class(const AttrMap& a) { return a.get_ulong(CKA_CLASS).value_or(CKO_DATA); }

CK_ULONG object_subtype(const AttrMap& a) {
  CK_OBJECT_CLASS c = object_class(a);
  if (c == CKO_CERTIFICATE) return a.get_ulong(CKA_CERTIFICATE_TYPE).value_or(0);
  if (c == CKO_DATA) return 0;
  return a.get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
}

Result<AttrMap> complete_created(const AttrMap& tmpl, bool so) {
  auto cls = tmpl.get_ulong(CKA_CLASS);
  if (!cls) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_CLASS is required");
  const std::vector<AttrRule>* rules = nullptr;
  FH_TRY(check_subtype(*cls, tmpl, &rules));
  FH_TRY(check_common(*rules, tmpl, so));
  for (const auto& [t, v] : tmpl) {
    const AttrRule* r = find_rule(*rules, t);
    if (r->flags & kReadOnly) return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " is set by the token");
  }
  AttrMap out = tmpl;
  for (const AttrRule& r : *rules)
    if ((r.flags & kReqCreate) && !out.has(r.type))
      return make_error(CKR_TEMPLATE_INCOMPLETE, attribute_name(r.type) + " is required");
  apply_defaults(out, *rules);
  add_key_derived(out, *cls, false, 0);
  FH_TRY(add_material_derived(out, *cls));
  return out;
}

Status check_generate_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type, const AttrMap& tmpl, bool so) {
  if (auto c = tmpl.get_ulong(CKA_CLASS); c && *c != cls)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_CLASS does not match the mechanism");
  if (auto k = tmpl.get_ulong(CKA_KEY_TYPE); k && *k != key_type)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not match the mechanism");
  const std::vector<AttrRule>* rules = rules_for(cls, key_type);
  if (rules == nullptr) return make_error(CKR_MECHANISM_INVALID, "key type not supported");
  FH_TRY(check_common(*rules, tmpl, so));
  for (const auto& [t, v] : tmpl) {
    const AttrRule* r = find_rule(*rules, t);
    if (r->flags & kReqGen) continue;
    if (r->flags & kNoGen)
      return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(t) + " cannot be given when a key is generated");
    if (r->flags & kReadOnly) return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " is set by the token");
  }
  return {};
}

Result<AttrMap> complete_generated(CK_OBJECT_CLASS cls, AttrMap tmpl, AttrMap material, CK_MECHANISM_TYPE mechanism,
                                   bool so, bool derived_included) {
  CK_KEY_TYPE kt = material.get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  FH_TRY(check_generate_template(cls, kt, tmpl, so));
  const std::vector<AttrRule>* rules = rules_for(cls, kt);
  // The material wins over the template; a CKA_PUBLIC_KEY_INFO the template gave stays,
  // as add_material_derived keeps it.
  if (derived_included) {
    const SecureBytes* given = tmpl.get(CKA_PUBLIC_KEY_INFO);
    if (given != nullptr && !given->empty()) material.erase(CKA_PUBLIC_KEY_INFO);
  }
  AttrMap out = std::move(material);
  out.absorb(std::move(tmpl));
  out.set_ulong(CKA_CLASS, cls);
  out.set_ulong(CKA_KEY_TYPE, kt);
  apply_defaults(out, *rules);
  add_key_derived(out, cls, true, mechanism);
  if (!derived_included) FH_TRY(add_material_derived(out, cls));
  return out;
}

Result<AttrMap> complete_secret_from_value(const AttrMap& tmpl, ByteView value, const AttrMap* base, bool so) {
  if (auto c = tmpl.get_ulong(CKA_CLASS); c && *c != CKO_SECRET_KEY)
    return make_error(CKR_TEMPLATE_INCONSISTENT, "only secret keys can be made this way");
  auto kt = tmpl.get_ulong(CKA_KEY_TYPE);
  if (!kt) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  const std::vector<AttrRule>* rules = rules_for(CKO_SECRET_KEY, *kt);
  if (rules == nullptr) return make_error(CKR_TEMPLATE_INCONSISTENT, "key type not supported");
  FH_TRY(check_common(*rules, tmpl, so));
  for (const auto& [t, v] : tmpl) {
    const AttrRule* r = find_rule(*rules, t);
    if (t == CKA_VALUE_LEN) continue;  // the length asked of a derivation
    if (r->flags & kNoGen)
      return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(t) + " comes from the wrapped or derived value");
    if (r->flags & kReadOnly) return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " is set by the token");
  }
  AttrMap out = tmpl;
  out.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
  out.set(CKA_VALUE, value);
  apply_defaults(out, *rules);
  out.set_bool(CKA_LOCAL, false);
  out.set_ulong(CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
  bool sensitive = out.get_bool_or(CKA_SENSITIVE, false), extractable = out.get_bool_or(CKA_EXTRACTABLE, false);
  out.set_bool(CKA_ALWAYS_SENSITIVE, base != nullptr && base->get_bool_or(CKA_ALWAYS_SENSITIVE, false) && sensitive);
  out.set_bool(CKA_NEVER_EXTRACTABLE,
               base != nullptr && base->get_bool_or(CKA_NEVER_EXTRACTABLE, false) && !extractable);
  FH_TRY(add_material_derived(out, CKO_SECRET_KEY));
  return out;
}

Result<AttrMap> apply_set(const AttrMap& current, const AttrMap& changes, bool so) {
  if (!current.get_bool_or(CKA_MODIFIABLE, true))
    return make_error(CKR_ACTION_PROHIBITED, "the object is not modifiable (CKA_MODIFIABLE is false)");
  const std::vector<AttrRule>* rules = rules_for(object_class(current), object_subtype(current));
  if (rules == nullptr) return make_error(CKR_GENERAL_ERROR, "object of unknown kind");
  FH_TRY(check_common(*rules, changes, so));
  AttrMap out = current;
  for (const auto& [t, v] : changes) {
    const AttrRule* r = find_rule(*rules, t);
    const SecureBytes* cur = current.get(t);
    bool same = cur != nullptr && *cur == v;
    if (same) continue;
    if (!(r->flags & kModifiable))
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " cannot be changed");
    bool now = current.get_bool_or(t, false), next = v.size() == 1 && v[0] != CK_FALSE;
    if ((r->flags & kOnlyToTrue) && now && !next)
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " can only become true");
    if ((r->flags & kOnlyToFalse) && !now && next)
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " can only become false");
    out.set(t, v);
  }
  return out;
}

Result<AttrMap> apply_copy(const AttrMap& current, const AttrMap& changes, bool so) {
  if (!current.get_bool_or(CKA_COPYABLE, true))
    return make_error(CKR_ACTION_PROHIBITED, "the object is not copyable (CKA_COPYABLE is false)");
  const std::vector<AttrRule>* rules = rules_for(object_class(current), object_subtype(current));
  if (rules == nullptr) return make_error(CKR_GENERAL_ERROR, "object of unknown kind");
  FH_TRY(check_common(*rules, changes, so));
  AttrMap out = current;
  for (const auto& [t, v] : changes) {
    const AttrRule* r = find_rule(*rules, t);
    const SecureBytes* cur = current.get(t);
    if (cur != nullptr && *cur == v) continue;
    if (!(r->flags & (kModifiable | kCopyMay)))
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " cannot be changed by a copy");
    bool now = current.get_bool_or(t, false), next = v.size() == 1 && v[0] != CK_FALSE;
    if ((r->flags & kOnlyToTrue) && now && !next)
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " can only become true");
    if ((r->flags & kOnlyToFalse) && !now && next)
      return make_error(CKR_ATTRIBUTE_READ_ONLY, attribute_name(t) + " can only become false");
    out.set(t, v);
  }
  out.erase(CKA_UNIQUE_ID);
  return out;
}

Reveal can_reveal(const AttrMap& object, CK_ATTRIBUTE_TYPE t) {
  const std::vector<AttrRule>* rules = rules_for(object_class(object), object_subtype(object));
  const AttrRule* r = rules ? find_rule(*rules, t) : nullptr;
  if (r == nullptr || !object.has(t)) return Reveal::Invalid;
  if (r->flags & kSensitive) {
    if (object.get_bool_or(CKA_SENSITIVE, false) || !object.get_bool_or(CKA_EXTRACTABLE, true))
      return Reveal::Sensitive;
  }
  return Reveal::Ok;
}

bool must_seal(const AttrMap& object, CK_ATTRIBUTE_TYPE t) {
  CK_OBJECT_CLASS cls = object_class(object);
  if (cls == CKO_DATA) return t == CKA_VALUE && object.get_bool_or(CKA_PRIVATE, false);
  const std::vector<AttrRule>* rules = rules_for(cls, object_subtype(object));
  const AttrRule* r = rules ? find_rule(*rules, t) : nullptr;
  return r != nullptr && (r->flags & kSensitive);
}

}  // namespace ferrohsm
