#include "core/attributes.h"

#include "base/names.h"

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

namespace {

Result<AttrMap> parse(const CK_ATTRIBUTE* tmpl, CK_ULONG count, bool inner);

// An attribute array's value: CK_ATTRIBUTEs, parsed and stored in the encoded form.
Result<SecureBytes> parse_array(CK_ATTRIBUTE_TYPE type, ByteView v) {
  if (v.size() % sizeof(CK_ATTRIBUTE) != 0)
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(type) + " must be an array of CK_ATTRIBUTE");
  FH_ASSIGN_OR_RETURN(AttrMap inner, parse(reinterpret_cast<const CK_ATTRIBUTE*>(v.data()),
                                           static_cast<CK_ULONG>(v.size() / sizeof(CK_ATTRIBUTE)), true));
  return encode_attr_array(inner);
}

void put_be(SecureBytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t get_be(ByteView in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<size_t>(i)];
  return v;
}

}  // namespace

SecureBytes encode_attr_array(const AttrMap& inner) {
  SecureBytes out;
  put_be(out, inner.size(), 4);
  for (const auto& [t, v] : inner) {
    put_be(out, t, 8);
    put_be(out, v.size(), 4);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

Result<AttrMap> decode_attr_array(ByteView in) {
  AttrMap out;
  if (in.empty()) return out;  // an absent template is an empty one
  const Error bad = make_error(CKR_GENERAL_ERROR, "stored attribute array is corrupt");
  if (in.size() < 4) return bad;
  const uint64_t count = get_be(in, 0, 4);
  size_t at = 4;
  for (uint64_t i = 0; i < count; ++i) {
    if (in.size() - at < 12) return bad;
    const auto t = static_cast<CK_ATTRIBUTE_TYPE>(get_be(in, at, 8));
    const size_t len = get_be(in, at + 8, 4);
    at += 12;
    if (in.size() - at < len) return bad;
    out.set(t, in.subspan(at, len));
    at += len;
  }
  if (at != in.size()) return bad;
  return out;
}

Result<AttrMap> apply_key_template(const AttrMap& caller, ByteView stored_template) {
  FH_ASSIGN_OR_RETURN(AttrMap required, decode_attr_array(stored_template));
  AttrMap out = caller;
  for (const auto& [t, v] : required) {
    if (const SecureBytes* given = caller.get(t); given != nullptr && *given != v)
      return make_error(CKR_TEMPLATE_INCONSISTENT, attribute_name(t) + " conflicts with the key's template");
    out.set(t, ByteView(v.data(), v.size()));
  }
  return out;
}

bool matches_template(const AttrMap& attrs, ByteView stored_template) {
  auto required = decode_attr_array(stored_template);
  if (!required.ok()) return false;
  for (const auto& [t, v] : *required) {
    const SecureBytes* have = attrs.get(t);
    if (have == nullptr || *have != v) return false;
  }
  return true;
}

Result<AttrMap> parse_template(const CK_ATTRIBUTE* tmpl, CK_ULONG count) { return parse(tmpl, count, false); }

namespace {

Result<AttrMap> parse(const CK_ATTRIBUTE* tmpl, CK_ULONG count, bool inner) {
  AttrMap out;
  if (count != 0 && tmpl == nullptr) return make_error(CKR_ARGUMENTS_BAD, "template is NULL with a non-zero count");
  for (CK_ULONG i = 0; i < count; ++i) {
    const CK_ATTRIBUTE& a = tmpl[i];
    if (a.ulValueLen != 0 && a.pValue == nullptr) return make_error(CKR_ARGUMENTS_BAD, "attribute value is NULL");
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "bad length");
    if (a.ulValueLen > kMaxAttributeValueBytes)
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " is longer than 64 MiB");
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
      if (inner) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "attribute arrays cannot nest");
      FH_ASSIGN_OR_RETURN(SecureBytes enc, parse_array(a.type, v));
      out.set(a.type, std::move(enc));
      continue;
    }
    out.set(a.type, v);
  }
  return out;
}

}  // namespace

}  // namespace ferrohsm
