// A PKCS#11 object's attributes: a flat map from CK_ATTRIBUTE_TYPE to its encoded
// bytes (CK_BBOOL as 1 byte, CK_ULONG in native width, arrays as they arrive). Values
// live in SecureBytes so that key material is wiped when the map dies.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <map>
#include <optional>

namespace ferrohsm {

class AttrMap {
 public:
  using Map = std::map<CK_ATTRIBUTE_TYPE, SecureBytes>;

  bool has(CK_ATTRIBUTE_TYPE t) const { return m_.count(t) != 0; }
  const SecureBytes* get(CK_ATTRIBUTE_TYPE t) const;
  std::optional<CK_ULONG> get_ulong(CK_ATTRIBUTE_TYPE t) const;
  std::optional<bool> get_bool(CK_ATTRIBUTE_TYPE t) const;
  bool get_bool_or(CK_ATTRIBUTE_TYPE t, bool dflt) const { return get_bool(t).value_or(dflt); }
  ByteView view(CK_ATTRIBUTE_TYPE t) const;  // empty when absent

  void set(CK_ATTRIBUTE_TYPE t, ByteView v) { m_[t] = SecureBytes(v.begin(), v.end()); }
  void set(CK_ATTRIBUTE_TYPE t, SecureBytes v) { m_[t] = std::move(v); }
  void set_ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v);
  void set_bool(CK_ATTRIBUTE_TYPE t, bool v);
  void erase(CK_ATTRIBUTE_TYPE t) { m_.erase(t); }
  // Adds every attribute of `other`, replacing those already present.
  void merge(const AttrMap& other);
  // Takes every attribute of `other` this map lacks, without copying a value (the
  // map's nodes move); those it already has stay as they are.
  void absorb(AttrMap&& other) { m_.merge(other.m_); }

  size_t size() const { return m_.size(); }
  bool empty() const { return m_.empty(); }
  Map::const_iterator begin() const { return m_.begin(); }
  Map::const_iterator end() const { return m_.end(); }

 private:
  Map m_;
};

// The longest attribute value FerroHSM takes (64 MiB): every value is stored whole or
// refused, and the bound keeps each one far inside what SQLite, the sealing (OpenSSL's
// int lengths) and the attribute-array encoding (4-byte lengths) can hold.
inline constexpr size_t kMaxAttributeValueBytes = size_t{64} << 20;

// Reads a caller's template (pointer and count from the C ABI) into a map. Checks
// NULL values with non-zero length (CKR_ARGUMENTS_BAD), the size of CK_BBOOL and
// CK_ULONG attributes and values over kMaxAttributeValueBytes
// (CKR_ATTRIBUTE_VALUE_INVALID) and conflicting duplicates (CKR_TEMPLATE_INCONSISTENT).
// Attribute arrays (CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE, CKA_DERIVE_TEMPLATE) are
// parsed the same way (no arrays inside arrays) and stored in the encoding below.
Result<AttrMap> parse_template(const CK_ATTRIBUTE* tmpl, CK_ULONG count);

// The stored form of an attribute array, independent of the platform's CK_ATTRIBUTE:
// count (4 bytes), then per attribute its type (8), length (4) and value, big-endian.
SecureBytes encode_attr_array(const AttrMap& inner);
Result<AttrMap> decode_attr_array(ByteView stored);

// Adds a key's template attribute (CKA_UNWRAP_TEMPLATE, CKA_DERIVE_TEMPLATE) to the
// caller's template; a conflicting value is CKR_TEMPLATE_INCONSISTENT (§4.8, §4.9).
Result<AttrMap> apply_key_template(const AttrMap& caller, ByteView stored_template);
// True when `attrs` has every attribute of the stored template with the same value
// (a CKA_WRAP_TEMPLATE test of the key to be wrapped).
bool matches_template(const AttrMap& attrs, ByteView stored_template);

}  // namespace ferrohsm
