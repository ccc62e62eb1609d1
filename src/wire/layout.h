// How a C structure crosses the wire: a Layout lists its fields (offset, kind and,
// for pointers, where their length or count lives), and three walkers use it —
// encode (the caller's structure → Fields), rebuild (Fields → a structure the server
// owns, every pointer pointing into storage it keeps) and write_back (the outputs the
// server's callee wrote → the caller's structure). Mechanism parameters and the
// CK_*_INFO structures are all Layouts; a new parameter structure is a new table row
// (src/wire/mechanism_params.cc), not new code.
#pragma once

#include "base/result.h"
#include "wire/ferrohsm_wire.pb.h"

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

namespace ferrohsm::wire {

struct Layout;

enum class FieldKind {
  Ulong,     // CK_ULONG (and every CK_ULONG typedef: handles, mechanism types, flags)
  Bool,      // CK_BBOOL
  Inline,    // n bytes inside the structure (CK_AES_CTR_PARAMS.cb, a CK_VERSION, a label)
  Bytes,     // a pointer and the CK_ULONG at `len_off` that says how many bytes it points to
  BytesOut,  // the same, and the callee may write into the buffer (a generated IV, a tag)
  FixedOut,  // a pointer to n bytes the callee may read or write (ChaCha20-Poly1305's 16-byte tag)
  Array,     // a pointer to `len_off` structures of layout `sub`
  Tagged,    // a pointer and length whose layout depends on the CK_ULONG at `tag_off` (see `pick`)
  Template,  // a CK_ATTRIBUTE_PTR and the count at `len_off`
  HandleOut  // a CK_OBJECT_HANDLE_PTR the callee writes
};

struct FieldSpec {
  FieldKind kind;
  size_t off;             // of the field (the pointer, for pointer kinds)
  size_t len_off = 0;     // Bytes/BytesOut/Array/Template/Tagged: the length or count field
  size_t n = 0;           // Inline/FixedOut: bytes
  bool bits = false;      // Bytes/BytesOut: the length field counts bits (GCM's ulTagBits)
  const Layout* sub = nullptr;          // Array: element layout
  size_t tag_off = 0;                   // Tagged: the selector field
  const Layout* (*pick)(CK_ULONG tag) = nullptr;  // Tagged: layout of the pointee, nullptr = plain bytes
};

struct Layout {
  const char* name;
  size_t size;  // sizeof the structure on this platform
  std::vector<FieldSpec> fields;
};

// Memory the server keeps for rebuilt structures: every buffer stays where it is
// until the storage dies (after the call and its outputs were encoded).
class Storage {
 public:
  void* block(size_t size);  // zeroed, aligned for any CK_ type
  uint8_t* bytes(const std::string& data, size_t capacity);

 private:
  std::deque<std::unique_ptr<uint64_t[]>> blocks_;
};

// The caller's structure at `base` → `out` (one Field per FieldSpec). Fails with
// CKR_ARGUMENTS_BAD when a length makes no sense (more than `budget` bytes in all).
Status encode(const Layout& l, const void* base, google::protobuf::RepeatedPtrField<Field>* out, uint64_t& budget);
// Fields → a structure in `storage`; nullptr (with the reason) when the fields do not
// fit the layout — a malformed message.
void* rebuild(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, Storage& storage,
              std::string& why);
// The outputs of the rebuilt structure at `base` (BytesOut, FixedOut, HandleOut, also
// inside arrays) → `out`, in field order (other fields stay empty).
void encode_outputs(const Layout& l, const void* base, google::protobuf::RepeatedPtrField<Field>* out);
// The outputs in `in` → the caller's structure at `base`, within the caller's buffers.
void write_back(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, void* base);
// A structure of plain fields (CK_*_INFO) from `in` into `base`.
void fill(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, void* base);
// True when the layout has any output field.
bool has_outputs(const Layout& l);

}  // namespace ferrohsm::wire
