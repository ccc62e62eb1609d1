#include "core/attributes.h"

#include "core/attribute_types.h"

#include <cstring>

namespace ferrohsm {

const SecureBytes* AttrMap::get(CK_ATTRIBUTE_TYPE t) const {
  auto it = m_.find(t);
  return it == m_.end() ? nullptr : &it->second;
}

ByteView AttrMap::view(CK_ATTRIBUTE_TYPE t) const {
  const SecureBytes* v = get(t);
  return v ? ByteView(v->data(), v->size()) : ByteView();
}

std::optional<CK_ULONG> AttrMap::get_ulong(CK_ATTRIBUTE_TYPE t) const {
  const SecureBytes* v = get(t);
  if (v == nullptr || v->size() != sizeof(CK_ULONG)) return std::nullopt;
  CK_ULONG r;
  std::memcpy(&r, v->data(), sizeof r);
  return r;
}

std::optional<bool> AttrMap::get_bool(CK_ATTRIBUTE_TYPE t) const {
  const SecureBytes* v = get(t);
  if (v == nullptr || v->size() != sizeof(CK_BBOOL)) return std::nullopt;
  return (*v)[0] != CK_FALSE;
}

void AttrMap::set_ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  m_[t] = SecureBytes(p, p + sizeof v);
}

void AttrMap::set_bool(CK_ATTRIBUTE_TYPE t, bool v) { m_[t] = SecureBytes{static_cast<uint8_t>(v ? CK_TRUE : CK_FALSE)}; }

void AttrMap::merge(const AttrMap& other) {
  for (const auto& [t, v] : other.m_) m_[t] = v;
}

Result<AttrMap> parse_template(const CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  AttrMap out;
  if (count != 0 && tmpl == nullptr) return make_error(CKR_ARGUMENTS_BAD, "template is NULL with a non-zero count");
  for (CK_ULONG i = 0; i < count; ++i) {
    const CK_ATTRIBUTE& a = tmpl[i];
    if (a.ulValueLen != 0 && a.pValue == nullptr) return make_error(CKR_ARGUMENTS_BAD, "attribute value is NULL");
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "bad length");
    ByteView v(static_cast<const uint8_t*>(a.pValue), a.ulValueLen);
    switch (attribute_kind(a.type)) {
      case AttrKind::Bool:
        if (v.size() != sizeof(CK_BBOOL) || (v[0] != CK_TRUE && v[0] != CK_FALSE))
          return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " must be a CK_BBOOL");
        break;
      case AttrKind::Ulong:
        if (v.size() != sizeof(CK_ULONG))
          return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " must be a CK_ULONG");
        break;
      case AttrKind::Date:
        if (!v.empty() && v.size() != sizeof(CK_DATE))
          return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " must be a CK_DATE");
        break;
      case AttrKind::AttrArray:
      case AttrKind::MechArray:
      case AttrKind::Bytes:
        break;
      case AttrKind::Unknown:
        return make_error(CKR_ATTRIBUTE_TYPE_INVALID, "unknown attribute type " + attribute_name(a.type));
    }
    if (const SecureBytes* prev = out.get(a.type)) {
      if (prev->size() != v.size() || !std::equal(prev->begin(), prev->end(), v.begin()))
        return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(a.type) + " given twice with different values");
      continue;
    }
    if (attribute_kind(a.type) == AttrKind::AttrArray) {
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " is not supported yet");
    }
    out.set(a.type, v);
  }
  return out;
}

}  // namespace ferrohsm
