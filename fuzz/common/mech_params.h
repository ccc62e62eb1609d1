// Mechanisms and their parameters from the fuzzer's bytes (encoding in input.h):
//   mechanism  ulong type (a listed mechanism, or the (type mod n)-th listed one), then a parameter
//   parameter  u8 form: 0 = NULL and length 0; 1 = a blob (bytes as given, or NULL with a
//              stated length); 2 + i = a parameter struct of layout i, its fields in order
// For a mechanism whose parameter struct holds pointers, bytes of that struct's size
// always come as that struct (a blob loses a byte, another layout of the same size
// becomes that one): the module never reads a pointer the harness did not set.
// A layout is the table row of one PKCS#11 parameter struct: each field read as a
// ulong, a CK_BBOOL, a key (u8, Module::key), inline bytes, or a pointer with its
// length (a blob in the Arena, so valid for exactly the length the struct states).
// Output pointers whose length another field implies (a tag of ulTagBits) get a
// buffer of that length. Nothing points anywhere else.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <vector>

#include "common/input.h"

namespace ferrohsm::fuzz {

// The parameter structs, by their index in the layout table (append only: seeds name them).
enum LayoutId : uint8_t {
  kRsaPss,
  kRsaOaep,
  kAesCtr,
  kGcm,
  kCcm,
  kChaCha20Poly1305,
  kEdDsa,
  kMacGeneral,
  kEcdh1Derive,
  kHkdf,
  kSp800108,
  kSp800108Feedback,
  kPbkdf2,
  kKeyDerivationString,
  kAesCbcEncryptData,
  kDes3CbcEncryptData,
  kObjectHandle,
  kGcmMessage,
  kCcmMessage,
  kChaCha20Poly1305Message,
  kLayoutCount,
};

// What decoding produced besides the struct: handles the module may write (the
// additional derived keys of SP 800-108), to be destroyed after the call.
struct ParamOutputs {
  std::vector<CK_OBJECT_HANDLE*> handles;
};

struct Param {
  void* p = nullptr;
  CK_ULONG len = 0;
};

// `message`: the per-message parameter of C_EncryptMessage … rather than the mechanism's.
Param read_param(Reader& r, Arena& arena, ParamOutputs& out, CK_MECHANISM_TYPE mech, bool message);
// `flags` narrows the choice to mechanisms with one of those CKF_ flags (0: any).
CK_MECHANISM read_mechanism(Reader& r, Arena& arena, ParamOutputs& out, CK_FLAGS flags = 0);

// The seed writer's side: one field value per field of the layout, in order. A field
// that is a pointer takes bytes (or null_ptr), a key takes a KeyId, a ulong a number,
// a tag its bits (number) and its bytes; PRF data params are elements {type, value}.
struct SeedField {
  uint64_t number = 0;
  std::vector<uint8_t> bytes;
  bool null = false;                     // a NULL pointer (stated length = number)
  std::vector<std::vector<SeedField>> elements;  // PRF data params / derived keys
};
SeedField num(uint64_t v);
SeedField bytes(std::vector<uint8_t> b);
SeedField null_ptr(uint64_t stated_len = 0);
SeedField tag_bits(uint64_t bits, std::vector<uint8_t> tag);
void write_null_param(Writer& w);
void write_raw_param(Writer& w, const std::vector<uint8_t>& b);
void write_struct_param(Writer& w, LayoutId id, const std::vector<SeedField>& fields);

}  // namespace ferrohsm::fuzz
