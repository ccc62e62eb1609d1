#include "common/templates.h"

#include <algorithm>
#include <cstring>

namespace ferrohsm::fuzz {
namespace {

constexpr CK_ATTRIBUTE_TYPE kTypes[] = {
    CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_APPLICATION, CKA_VALUE, CKA_OBJECT_ID,
    CKA_CERTIFICATE_TYPE, CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_AC_ISSUER, CKA_OWNER, CKA_ATTR_TYPES,
    CKA_TRUSTED, CKA_CERTIFICATE_CATEGORY, CKA_JAVA_MIDP_SECURITY_DOMAIN, CKA_URL,
    CKA_HASH_OF_SUBJECT_PUBLIC_KEY, CKA_HASH_OF_ISSUER_PUBLIC_KEY, CKA_CHECK_VALUE, CKA_KEY_TYPE,
    CKA_SUBJECT, CKA_ID, CKA_SENSITIVE, CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN,
    CKA_SIGN_RECOVER, CKA_VERIFY, CKA_VERIFY_RECOVER, CKA_DERIVE, CKA_START_DATE, CKA_END_DATE,
    CKA_MODULUS, CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
    CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_PUBLIC_KEY_INFO, CKA_PRIME, CKA_SUBPRIME,
    CKA_BASE, CKA_PRIME_BITS, CKA_SUBPRIME_BITS, CKA_VALUE_BITS, CKA_VALUE_LEN, CKA_EXTRACTABLE,
    CKA_LOCAL, CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_KEY_GEN_MECHANISM, CKA_MODIFIABLE,
    CKA_COPYABLE, CKA_DESTROYABLE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_SECONDARY_AUTH, CKA_AUTH_PIN_FLAGS,
    CKA_ALWAYS_AUTHENTICATE, CKA_WRAP_WITH_TRUSTED, CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE,
    CKA_DERIVE_TEMPLATE, CKA_OTP_FORMAT, CKA_OTP_LENGTH, CKA_OTP_COUNTER, CKA_GOSTR3410_PARAMS,
    CKA_HW_FEATURE_TYPE, CKA_RESET_ON_INIT, CKA_HAS_RESET, CKA_MECHANISM_TYPE, CKA_ALLOWED_MECHANISMS,
    CKA_PROFILE_ID, CKA_UNIQUE_ID, CKA_NAME_HASH_ALGORITHM, CKA_VENDOR_DEFINED,
};

constexpr CK_ULONG kMaxAttributes = 16;
constexpr CK_ULONG kMaxInner = 8;
constexpr int kMaxDepth = 3;  // a template in a template in a template: the module must refuse the second level

// The attribute types whose value is an array of CK_ATTRIBUTE (with pointers inside):
// their value is always a nested template, never bytes.
bool holds_attributes(CK_ATTRIBUTE_TYPE t) {
  return t == CKA_WRAP_TEMPLATE || t == CKA_UNWRAP_TEMPLATE || t == CKA_DERIVE_TEMPLATE;
}

Template read_level(Reader& r, Arena& arena, CK_ULONG max, int depth) {
  Template t;
  t.count = r.u8() % (max + 1);
  t.attrs = arena.array<CK_ATTRIBUTE>(t.count);
  for (CK_ULONG i = 0; i < t.count; ++i) {
    CK_ATTRIBUTE& a = t.attrs[i];
    const uint8_t tag = r.u8();
    a.type = tag < std::size(kTypes) ? kTypes[tag] : r.ulong();
    const bool nested = (r.u8() & 1) != 0;
    if ((nested || holds_attributes(a.type)) && depth < kMaxDepth) {
      Template inner = read_level(r, arena, kMaxInner, depth + 1);
      a.pValue = inner.attrs;
      a.ulValueLen = inner.count * sizeof(CK_ATTRIBUTE);
    } else if (holds_attributes(a.type)) {
      a.pValue = arena.alloc(0);  // deepest level: an empty array, never pointers made of bytes
      a.ulValueLen = 0;
    } else {
      a.pValue = arena.blob(r, a.ulValueLen);
    }
  }
  return t;
}

bool is_bool(const CK_ATTRIBUTE& a, CK_ATTRIBUTE_TYPE type, CK_BBOOL v) {
  return a.type == type && a.pValue != nullptr && a.ulValueLen == 1 && *static_cast<CK_BBOOL*>(a.pValue) == v;
}

void write_attr(Writer& w, const SeedAttr& a) {
  const auto* it = std::find(std::begin(kTypes), std::end(kTypes), a.type);
  if (it != std::end(kTypes)) {
    w.u8(static_cast<uint8_t>(it - std::begin(kTypes)));
  } else {
    w.u8(0xff).ulong(a.type);
  }
  if (!a.array.empty() || holds_attributes(a.type)) {
    w.u8(1).u8(static_cast<uint8_t>(a.array.size()));
    for (const SeedAttr& inner : a.array) write_attr(w, inner);
  } else {
    w.u8(0).blob(a.value);
  }
}

}  // namespace

const std::span<const CK_ATTRIBUTE_TYPE> kAttributeTypes(kTypes);
static_assert(std::size(kTypes) < 0xff, "tag 0xff must stay free for a raw type");

Template read_template(Reader& r, Arena& arena) { return read_level(r, arena, kMaxAttributes, 0); }

void keep_destroyable(Template& t) {
  bool token = false;
  for (CK_ULONG i = 0; i < t.count; ++i) token |= is_bool(t.attrs[i], CKA_TOKEN, CK_TRUE);
  if (!token) return;
  for (CK_ULONG i = 0; i < t.count; ++i)
    if (is_bool(t.attrs[i], CKA_DESTROYABLE, CK_FALSE)) *static_cast<CK_BBOOL*>(t.attrs[i].pValue) = CK_TRUE;
}

SeedAttr ck_bool(CK_ATTRIBUTE_TYPE t, bool v) { return {t, {static_cast<uint8_t>(v ? CK_TRUE : CK_FALSE)}, {}}; }
SeedAttr ck_ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) {
  std::vector<uint8_t> b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return {t, std::move(b), {}};
}
SeedAttr ck_bytes(CK_ATTRIBUTE_TYPE t, std::vector<uint8_t> v) { return {t, std::move(v), {}}; }
SeedAttr ck_string(CK_ATTRIBUTE_TYPE t, const char* s) {
  return {t, std::vector<uint8_t>(s, s + std::strlen(s)), {}};
}
SeedAttr ck_array(CK_ATTRIBUTE_TYPE t, std::vector<SeedAttr> inner) { return {t, {}, std::move(inner)}; }

void write_template(Writer& w, const std::vector<SeedAttr>& attrs) {
  w.u8(static_cast<uint8_t>(attrs.size()));
  for (const SeedAttr& a : attrs) write_attr(w, a);
}

}  // namespace ferrohsm::fuzz
