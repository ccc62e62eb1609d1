#include "wire/attributes.h"

#include "base/names.h"
#include "wire/layout.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace ferrohsm::wire {
namespace {

constexpr uint64_t kUnavailable = std::numeric_limits<uint64_t>::max();

bool ulong_kind(AttrKind k) { return k == AttrKind::Ulong || k == AttrKind::MechArray; }

// Wire length (elements for CK_ULONG and array kinds, bytes otherwise) ↔ native ulValueLen.
uint64_t to_wire_len(AttrKind k, CK_ULONG len) {
  if (len == CK_UNAVAILABLE_INFORMATION) return kUnavailable;
  if (ulong_kind(k)) return len / sizeof(CK_ULONG);
  if (k == AttrKind::AttrArray) return len / sizeof(CK_ATTRIBUTE);
  return len;
}
CK_ULONG to_native_len(AttrKind k, uint64_t len) {
  if (len == kUnavailable) return CK_UNAVAILABLE_INFORMATION;
  if (ulong_kind(k)) return static_cast<CK_ULONG>(len * sizeof(CK_ULONG));
  if (k == AttrKind::AttrArray) return static_cast<CK_ULONG>(len * sizeof(CK_ATTRIBUTE));
  return static_cast<CK_ULONG>(len);
}

Status encode_one(const CK_ATTRIBUTE& a, Attr* o, uint64_t& budget, bool inside_array) {
  o->set_type(a.type);
  o->set_len(a.ulValueLen);
  if (a.pValue == nullptr) {
    o->set_null(true);
    return {};
  }
  const AttrKind k = attribute_kind(a.type);
  const auto* bytes = static_cast<const char*>(a.pValue);
  if (ulong_kind(k) && a.ulValueLen % sizeof(CK_ULONG) == 0 && (k == AttrKind::MechArray || a.ulValueLen == sizeof(CK_ULONG))) {
    const CK_ULONG n = a.ulValueLen / sizeof(CK_ULONG);
    if (n * 8 > budget) return make_error(CKR_ARGUMENTS_BAD, "a template is larger than a message may be");
    budget -= n * 8;
    for (CK_ULONG i = 0; i < n; ++i) o->add_ulongs(static_cast<const CK_ULONG*>(a.pValue)[i]);
    o->set_len(n);
    return {};
  }
  if (k == AttrKind::AttrArray && a.ulValueLen % sizeof(CK_ATTRIBUTE) == 0) {
    if (inside_array)  // the module refuses arrays inside arrays; so do we, before the pointers are followed
      return make_error(CKR_ATTRIBUTE_VALUE_INVALID, attribute_name(a.type) + " cannot be inside an attribute array");
    const CK_ULONG n = a.ulValueLen / sizeof(CK_ATTRIBUTE);
    o->set_len(n);
    for (CK_ULONG i = 0; i < n; ++i)
      FH_TRY(encode_one(static_cast<const CK_ATTRIBUTE*>(a.pValue)[i], o->add_nested(), budget, true));
    return {};
  }
  // An attribute value that cannot cross is one the token cannot take.
  if (a.ulValueLen > budget) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "an attribute value is larger than a message may carry");
  budget -= a.ulValueLen;
  o->set_value(bytes, a.ulValueLen);
  // A CK_ULONG or array kind whose length fits no element count travels raw.
  o->set_raw(ulong_kind(k) || k == AttrKind::AttrArray);
  return {};
}

bool rebuild_one(const Attr& o, CK_ATTRIBUTE& a, Storage& storage, std::string& why, bool inside_array) {
  a.type = static_cast<CK_ATTRIBUTE_TYPE>(o.type());
  a.pValue = nullptr;
  a.ulValueLen = static_cast<CK_ULONG>(o.len());
  if (o.null()) return true;
  const AttrKind k = attribute_kind(a.type);
  if (o.raw() || (!ulong_kind(k) && k != AttrKind::AttrArray)) {
    // Raw bytes of an attribute array would be pointers from another process.
    if (k == AttrKind::AttrArray && o.value().size() % sizeof(CK_ATTRIBUTE) == 0) {
      why = "an attribute array sent as raw bytes";
      return false;
    }
    a.pValue = storage.bytes(o.value(), o.value().size());
    a.ulValueLen = static_cast<CK_ULONG>(o.value().size());
    return true;
  }
  if (ulong_kind(k)) {
    auto* v = static_cast<CK_ULONG*>(storage.block(sizeof(CK_ULONG) * std::max(1, o.ulongs_size())));
    for (int i = 0; i < o.ulongs_size(); ++i) v[i] = static_cast<CK_ULONG>(o.ulongs(i));
    a.pValue = v;
    a.ulValueLen = static_cast<CK_ULONG>(o.ulongs_size() * sizeof(CK_ULONG));
    return true;
  }
  if (inside_array) {
    why = "an attribute array inside an attribute array";
    return false;
  }
  auto* inner = static_cast<CK_ATTRIBUTE*>(storage.block(sizeof(CK_ATTRIBUTE) * std::max(1, o.nested_size())));
  for (int i = 0; i < o.nested_size(); ++i)
    if (!rebuild_one(o.nested(i), inner[i], storage, why, true)) return false;
  a.pValue = inner;
  a.ulValueLen = static_cast<CK_ULONG>(o.nested_size() * sizeof(CK_ATTRIBUTE));
  return true;
}

void query_one(const CK_ATTRIBUTE& a, Attr* o, bool inside_array) {
  const AttrKind k = attribute_kind(a.type);
  o->set_type(a.type);
  o->set_null(a.pValue == nullptr);
  o->set_len(a.pValue == nullptr ? 0 : to_wire_len(k, a.ulValueLen));
  if (a.pValue != nullptr && k == AttrKind::AttrArray && !inside_array) {
    const CK_ULONG n = a.ulValueLen / sizeof(CK_ATTRIBUTE);
    for (CK_ULONG i = 0; i < n; ++i) query_one(static_cast<const CK_ATTRIBUTE*>(a.pValue)[i], o->add_nested(), true);
  }
}

bool rebuild_query_one(const Attr& o, CK_ATTRIBUTE& a, Storage& storage, uint64_t& budget, std::string& why,
                       bool inside_array) {
  const AttrKind k = attribute_kind(static_cast<CK_ATTRIBUTE_TYPE>(o.type()));
  a.type = static_cast<CK_ATTRIBUTE_TYPE>(o.type());
  a.pValue = nullptr;
  a.ulValueLen = 0;
  if (o.null()) return true;
  if (k == AttrKind::AttrArray && !inside_array) {
    if (static_cast<uint64_t>(o.nested_size()) != o.len()) {
      why = "an attribute array query whose count disagrees with its elements";
      return false;
    }
    auto* inner = static_cast<CK_ATTRIBUTE*>(storage.block(sizeof(CK_ATTRIBUTE) * std::max(1, o.nested_size())));
    for (int i = 0; i < o.nested_size(); ++i)
      if (!rebuild_query_one(o.nested(i), inner[i], storage, budget, why, true)) return false;
    a.pValue = inner;
    a.ulValueLen = static_cast<CK_ULONG>(o.nested_size() * sizeof(CK_ATTRIBUTE));
    return true;
  }
  // A capacity beyond what a reply can carry is cut to what is left of the budget: the
  // value could not come back anyway.
  uint64_t want = std::min<uint64_t>(to_native_len(k, o.len() == kUnavailable ? 0 : o.len()), budget);
  budget -= want;
  a.pValue = storage.block(static_cast<size_t>(want));
  a.ulValueLen = static_cast<CK_ULONG>(want);
  return true;
}

void answer_one(const CK_ATTRIBUTE& a, Attr* o, bool values, bool inside_array) {
  const AttrKind k = attribute_kind(a.type);
  o->set_type(a.type);
  o->set_len(to_wire_len(k, a.ulValueLen));
  if (!values || a.pValue == nullptr || a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return;
  if (ulong_kind(k)) {
    for (CK_ULONG i = 0; i < a.ulValueLen / sizeof(CK_ULONG); ++i) o->add_ulongs(static_cast<const CK_ULONG*>(a.pValue)[i]);
  } else if (k == AttrKind::AttrArray && !inside_array) {
    for (CK_ULONG i = 0; i < a.ulValueLen / sizeof(CK_ATTRIBUTE); ++i)
      answer_one(static_cast<const CK_ATTRIBUTE*>(a.pValue)[i], o->add_nested(), values, true);
  } else {
    o->set_value(static_cast<const char*>(a.pValue), a.ulValueLen);
  }
}

void write_one(const Attr& o, CK_ATTRIBUTE& a, bool inside_array) {
  const CK_ULONG capacity = a.ulValueLen;
  if (inside_array) a.type = static_cast<CK_ATTRIBUTE_TYPE>(o.type());  // the token names the elements
  const AttrKind k = attribute_kind(a.type);
  const CK_ULONG len = to_native_len(k, o.len());
  a.ulValueLen = len;
  if (a.pValue == nullptr || len == CK_UNAVAILABLE_INFORMATION) return;
  if (ulong_kind(k)) {
    CK_ULONG n = std::min<CK_ULONG>(capacity / sizeof(CK_ULONG), static_cast<CK_ULONG>(o.ulongs_size()));
    for (CK_ULONG i = 0; i < n; ++i) static_cast<CK_ULONG*>(a.pValue)[i] = static_cast<CK_ULONG>(o.ulongs(static_cast<int>(i)));
  } else if (k == AttrKind::AttrArray && !inside_array) {
    CK_ULONG n = std::min<CK_ULONG>(capacity / sizeof(CK_ATTRIBUTE), static_cast<CK_ULONG>(o.nested_size()));
    for (CK_ULONG i = 0; i < n; ++i) write_one(o.nested(static_cast<int>(i)), static_cast<CK_ATTRIBUTE*>(a.pValue)[i], true);
  } else if (!o.value().empty()) {
    std::memcpy(a.pValue, o.value().data(), std::min<size_t>(capacity, o.value().size()));
  }
}

}  // namespace

Status encode_template(const CK_ATTRIBUTE* t, CK_ULONG count, Attrs* out, uint64_t& budget) {
  if (count > budget / 16) return make_error(CKR_ARGUMENTS_BAD, "a template is larger than a message may be");
  for (CK_ULONG i = 0; i < count; ++i) FH_TRY(encode_one(t[i], out->Add(), budget, false));
  return {};
}

CK_ATTRIBUTE* rebuild_template(const Attrs& in, uint64_t count, Storage& storage, std::string& why) {
  if (static_cast<uint64_t>(in.size()) != count) {
    why = "a template whose count disagrees with its attributes";
    return nullptr;
  }
  auto* t = static_cast<CK_ATTRIBUTE*>(storage.block(sizeof(CK_ATTRIBUTE) * std::max<uint64_t>(1, count)));
  for (int i = 0; i < in.size(); ++i)
    if (!rebuild_one(in[i], t[i], storage, why, false)) return nullptr;
  return t;
}

void encode_query(const CK_ATTRIBUTE* t, CK_ULONG count, Attrs* out) {
  for (CK_ULONG i = 0; i < count; ++i) query_one(t[i], out->Add(), false);
}

CK_ATTRIBUTE* rebuild_query(const Attrs& in, Storage& storage, uint64_t budget, std::string& why) {
  auto* t = static_cast<CK_ATTRIBUTE*>(storage.block(sizeof(CK_ATTRIBUTE) * std::max(1, in.size())));
  for (int i = 0; i < in.size(); ++i)
    if (!rebuild_query_one(in[i], t[i], storage, budget, why, false)) return nullptr;
  return t;
}

void encode_answer(const CK_ATTRIBUTE* t, CK_ULONG count, bool values, Attrs* out) {
  for (CK_ULONG i = 0; i < count; ++i) answer_one(t[i], out->Add(), values, false);
}

void write_answer(const Attrs& in, CK_ATTRIBUTE* t, CK_ULONG count) {
  if (static_cast<uint64_t>(in.size()) != count) return;
  for (CK_ULONG i = 0; i < count; ++i) write_one(in[static_cast<int>(i)], t[i], false);
}

}  // namespace ferrohsm::wire
