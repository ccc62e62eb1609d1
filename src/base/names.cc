#include "base/names.h"

#include <cctype>
#include <cstdio>
#include <utility>

namespace ferrohsm {
namespace {

#define FH_NAME(x) std::pair<CK_ULONG, const char*>{x, #x},
constexpr std::pair<CK_ULONG, const char*> kRvNames[] = {
#include "base/names_ckr.inc"
};
constexpr std::pair<CK_ULONG, const char*> kMechanismNames[] = {
#include "base/names_ckm.inc"
};
#undef FH_NAME

template <size_t N>
const char* find_name(const std::pair<CK_ULONG, const char*> (&table)[N], CK_ULONG code) {
  for (const auto& [value, name] : table)
    if (value == code) return name;
  return nullptr;
}


struct AttrType {
  CK_ATTRIBUTE_TYPE type;
  const char* name;
  AttrKind kind;
};

#define A(name, kind) {name, #name, AttrKind::kind}
constexpr AttrType kTypes[] = {
    A(CKA_CLASS, Ulong), A(CKA_TOKEN, Bool), A(CKA_PRIVATE, Bool), A(CKA_LABEL, Bytes),
    A(CKA_UNIQUE_ID, Bytes), A(CKA_APPLICATION, Bytes), A(CKA_VALUE, Bytes), A(CKA_OBJECT_ID, Bytes),
    A(CKA_CERTIFICATE_TYPE, Ulong), A(CKA_ISSUER, Bytes), A(CKA_SERIAL_NUMBER, Bytes),
    A(CKA_AC_ISSUER, Bytes), A(CKA_OWNER, Bytes), A(CKA_ATTR_TYPES, Bytes), A(CKA_TRUSTED, Bool),
    A(CKA_CERTIFICATE_CATEGORY, Ulong), A(CKA_JAVA_MIDP_SECURITY_DOMAIN, Ulong), A(CKA_URL, Bytes),
    A(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, Bytes), A(CKA_HASH_OF_ISSUER_PUBLIC_KEY, Bytes),
    A(CKA_NAME_HASH_ALGORITHM, Ulong), A(CKA_CHECK_VALUE, Bytes), A(CKA_KEY_TYPE, Ulong),
    A(CKA_SUBJECT, Bytes), A(CKA_ID, Bytes), A(CKA_SENSITIVE, Bool), A(CKA_ENCRYPT, Bool),
    A(CKA_DECRYPT, Bool), A(CKA_WRAP, Bool), A(CKA_UNWRAP, Bool), A(CKA_SIGN, Bool),
    A(CKA_SIGN_RECOVER, Bool), A(CKA_VERIFY, Bool), A(CKA_VERIFY_RECOVER, Bool), A(CKA_DERIVE, Bool),
    A(CKA_START_DATE, Date), A(CKA_END_DATE, Date), A(CKA_MODULUS, Bytes), A(CKA_MODULUS_BITS, Ulong),
    A(CKA_PUBLIC_EXPONENT, Bytes), A(CKA_PRIVATE_EXPONENT, Bytes), A(CKA_PRIME_1, Bytes),
    A(CKA_PRIME_2, Bytes), A(CKA_EXPONENT_1, Bytes), A(CKA_EXPONENT_2, Bytes), A(CKA_COEFFICIENT, Bytes),
    A(CKA_PUBLIC_KEY_INFO, Bytes), A(CKA_PRIME, Bytes), A(CKA_SUBPRIME, Bytes), A(CKA_BASE, Bytes),
    A(CKA_PRIME_BITS, Ulong), A(CKA_SUBPRIME_BITS, Ulong), A(CKA_VALUE_BITS, Ulong),
    A(CKA_VALUE_LEN, Ulong), A(CKA_EXTRACTABLE, Bool), A(CKA_LOCAL, Bool), A(CKA_NEVER_EXTRACTABLE, Bool),
    A(CKA_ALWAYS_SENSITIVE, Bool), A(CKA_KEY_GEN_MECHANISM, Ulong), A(CKA_MODIFIABLE, Bool),
    A(CKA_COPYABLE, Bool), A(CKA_DESTROYABLE, Bool), A(CKA_EC_PARAMS, Bytes), A(CKA_EC_POINT, Bytes),
    A(CKA_ALWAYS_AUTHENTICATE, Bool), A(CKA_WRAP_WITH_TRUSTED, Bool), A(CKA_WRAP_TEMPLATE, AttrArray),
    A(CKA_UNWRAP_TEMPLATE, AttrArray), A(CKA_DERIVE_TEMPLATE, AttrArray), A(CKA_HW_FEATURE_TYPE, Ulong),
    A(CKA_RESET_ON_INIT, Bool), A(CKA_HAS_RESET, Bool), A(CKA_ALLOWED_MECHANISMS, MechArray),
    A(CKA_PROFILE_ID, Ulong),
};
#undef A

const AttrType* lookup(CK_ATTRIBUTE_TYPE t) {
  for (const auto& a : kTypes)
    if (a.type == t) return &a;
  return nullptr;
}

}  // namespace

const char* rv_name(CK_RV rv) {
  if (const char* n = find_name(kRvNames, rv)) return n;
  static thread_local char buf[32];
  std::snprintf(buf, sizeof buf, "CKR_0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

std::optional<CK_RV> rv_from_name(std::string_view name) {
  for (const auto& [value, n] : kRvNames)
    if (name == n) return value;
  return std::nullopt;
}

std::string mechanism_name(CK_MECHANISM_TYPE type) {
  if (const char* n = find_name(kMechanismNames, type)) return n;
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(type));
  return buf;
}

std::optional<CK_MECHANISM_TYPE> mechanism_from_name(std::string_view name) {
  std::string wanted;
  for (char c : name) wanted.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (wanted.rfind("CKM_", 0) != 0) wanted = "CKM_" + wanted;
  for (const auto& [value, n] : kMechanismNames)
    if (wanted == n) return value;
  return std::nullopt;
}

AttrKind attribute_kind(CK_ATTRIBUTE_TYPE t) {
  const AttrType* a = lookup(t);
  return a ? a->kind : AttrKind::Unknown;
}

std::string attribute_name(CK_ATTRIBUTE_TYPE t) {
  if (const AttrType* a = lookup(t)) return a->name;
  char buf[32];
  std::snprintf(buf, sizeof buf, "attribute 0x%lx", static_cast<unsigned long>(t));
  return buf;
}

std::string object_class_name(CK_OBJECT_CLASS c) {
  static constexpr std::pair<CK_OBJECT_CLASS, const char*> kClasses[] = {
      {CKO_DATA, "CKO_DATA"},
      {CKO_CERTIFICATE, "CKO_CERTIFICATE"},
      {CKO_PUBLIC_KEY, "CKO_PUBLIC_KEY"},
      {CKO_PRIVATE_KEY, "CKO_PRIVATE_KEY"},
      {CKO_SECRET_KEY, "CKO_SECRET_KEY"},
      {CKO_HW_FEATURE, "CKO_HW_FEATURE"},
      {CKO_DOMAIN_PARAMETERS, "CKO_DOMAIN_PARAMETERS"},
      {CKO_MECHANISM, "CKO_MECHANISM"},
  };
  for (const auto& [k, name] : kClasses)
    if (k == c) return name;
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKO_0x%lx", static_cast<unsigned long>(c));
  return buf;
}

}  // namespace ferrohsm
