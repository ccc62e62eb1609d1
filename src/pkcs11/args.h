// Argument checks shared by the entry points: NULL pointers and buffer/length pairs
// become CKR_ARGUMENTS_BAD before any work is done.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string>
#include <string_view>

#define FH_NOT_NULL(p)                                                                     \
  do {                                                                                     \
    if ((p) == nullptr) return ::ferrohsm::make_error(CKR_ARGUMENTS_BAD, #p " is NULL");   \
  } while (0)

namespace ferrohsm::p11 {

// A caller's input buffer; NULL is allowed only with length 0.
inline Result<ByteView> in_bytes(const void* p, CK_ULONG len, const char* what) {
  if (p == nullptr && len != 0) return make_error(CKR_ARGUMENTS_BAD, std::string(what) + " is NULL");
  return ByteView(static_cast<const uint8_t*>(p), p ? len : 0);
}

// No PIN is longer than the largest pin.max_length the configuration accepts.
inline constexpr CK_ULONG kMaxPinBytes = 1024;

// A caller's PIN; one longer than any PIN can be answers `too_long`
// (CKR_PIN_INCORRECT where a PIN is checked, CKR_PIN_LEN_RANGE where one is set) before
// any of it is read, so that no length is ever cut on the way to the key derivation.
inline Result<std::string_view> in_pin(const CK_UTF8CHAR* p, CK_ULONG len, CK_RV too_long) {
  if (p == nullptr && len != 0) return make_error(CKR_ARGUMENTS_BAD, "PIN is NULL");
  if (len > kMaxPinBytes) return make_error(too_long, "PIN longer than " + std::to_string(kMaxPinBytes) + " bytes");
  return std::string_view(reinterpret_cast<const char*>(p), p ? len : 0);
}

}  // namespace ferrohsm::p11
