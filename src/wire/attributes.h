// CK_ATTRIBUTE arrays across the wire, by the attribute table's kinds (base/names.h):
// templates that go in (C_CreateObject, C_GenerateKey …, and templates inside
// mechanism parameters) and the in/out array of C_GetAttributeValue (a query of types
// and capacities, then an answer of lengths and values).
#pragma once

#include "base/result.h"
#include "wire/ferrohsm_wire.pb.h"

namespace ferrohsm::wire {

class Storage;
using Attrs = google::protobuf::RepeatedPtrField<Attr>;

// --- a template going in --------------------------------------------------------------
// Fails with CKR_ARGUMENTS_BAD when the values add up to more than `budget` bytes.
Status encode_template(const CK_ATTRIBUTE* t, CK_ULONG count, Attrs* out, uint64_t& budget);
// The server's copy, every value in `storage`; nullptr (with the reason) when malformed.
CK_ATTRIBUTE* rebuild_template(const Attrs& in, uint64_t count, Storage& storage, std::string& why);

// --- C_GetAttributeValue ---------------------------------------------------------------
// The caller's types, NULLs and capacities.
void encode_query(const CK_ATTRIBUTE* t, CK_ULONG count, Attrs* out);
// The server's array with buffers of the asked capacities (bounded by `budget` bytes).
CK_ATTRIBUTE* rebuild_query(const Attrs& in, Storage& storage, uint64_t budget, std::string& why);
// After the call: lengths and the values that were copied.
void encode_answer(const CK_ATTRIBUTE* t, CK_ULONG count, bool values, Attrs* out);
// The answer into the caller's array, within the caller's buffers.
void write_answer(const Attrs& in, CK_ATTRIBUTE* t, CK_ULONG count);

}  // namespace ferrohsm::wire
