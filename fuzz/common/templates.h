// Attribute templates from the fuzzer's bytes (encoding in input.h):
//   template   u8 count (mod 17), then that many attributes
//   attribute  u8 tag: below kAttributeTypes' size it names that type, otherwise a
//              ulong with any type follows; then u8 form: even = a blob value,
//              odd = an attribute array (a nested template) as the value
// CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE and CKA_DERIVE_TEMPLATE always hold a nested
// template (their CK_ATTRIBUTEs hold pointers). Templates nest three levels deep (the
// module must refuse the second). Every value lives in the Arena, valid for exactly
// its stated length.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <span>
#include <vector>

#include "common/input.h"

namespace ferrohsm::fuzz {

// Real attribute types (PKCS#11 3.0, including ones FerroHSM does not know). Append
// only: a seed names a type by its index here.
extern const std::span<const CK_ATTRIBUTE_TYPE> kAttributeTypes;

struct Template {
  CK_ATTRIBUTE* attrs = nullptr;
  CK_ULONG count = 0;
};

Template read_template(Reader& r, Arena& arena);

// The harnesses destroy every object an iteration creates; an object with
// CKA_TOKEN = true and CKA_DESTROYABLE = false could not be, so for such a template
// CKA_DESTROYABLE = false becomes true (session objects keep the false value).
void keep_destroyable(Template& t);

// The seed writer's side.
struct SeedAttr {
  CK_ATTRIBUTE_TYPE type;
  std::vector<uint8_t> value;
  std::vector<SeedAttr> array;  // non-empty: the value is this attribute array
};
SeedAttr ck_bool(CK_ATTRIBUTE_TYPE t, bool v);
SeedAttr ck_ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v);
SeedAttr ck_bytes(CK_ATTRIBUTE_TYPE t, std::vector<uint8_t> v);
SeedAttr ck_string(CK_ATTRIBUTE_TYPE t, const char* s);
SeedAttr ck_array(CK_ATTRIBUTE_TYPE t, std::vector<SeedAttr> inner);
void write_template(Writer& w, const std::vector<SeedAttr>& attrs);

}  // namespace ferrohsm::fuzz
