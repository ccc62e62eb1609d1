// Output buffers as applications pass them, shared by the harnesses: a length query
// (NULL) then a buffer of exactly the length the module asked for, or a buffer of a
// size the input chooses (then, on CKR_BUFFER_TOO_SMALL, one of the size asked for).
// The module writing past a buffer is an AddressSanitizer report; claiming more
// output than the buffer holds, asking for a buffer and then finding it too small, or
// an implausible length, is a harness failure.
#pragma once

#include <ferrohsm/cryptoki.h>

#include "common/input.h"
#include "common/module.h"

namespace ferrohsm::fuzz {

inline constexpr CK_ULONG kMaxOutput = 1 << 20;  // every input is < 64 KiB

template <typename Call>  // CK_RV call(CK_BYTE_PTR out, CK_ULONG_PTR out_len)
CK_RV with_output(Reader& r, Arena& arena, Call call) {
  const bool query = (r.u8() & 1) == 0;
  CK_ULONG len = query ? 0 : r.u16() % 4097;
  CK_BYTE_PTR buf = query ? nullptr : arena.alloc(len);
  const CK_ULONG given = len;
  CK_RV rv = call(buf, &len);
  if (rv == CKR_OK && buf != nullptr && len > given) fail("an output length beyond the buffer", rv);
  if (!(rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && buf == nullptr))) return rv;
  if (len > kMaxOutput) fail("an implausible output length", rv);
  buf = arena.alloc(len);
  const CK_ULONG asked = len;
  rv = call(buf, &len);
  // The length it answered "suffices to hold the output" (PKCS#11 3.0 §5.2).
  if (rv == CKR_BUFFER_TOO_SMALL) fail("the length the module asked for", rv);
  if (rv == CKR_OK && len > asked) fail("an output length beyond the length the module asked for", rv);
  return rv;
}

}  // namespace ferrohsm::fuzz
