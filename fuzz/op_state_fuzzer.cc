// Harness 4: C_SetOperationState. The input picks what the session is doing first
// (nothing, a SHA-256 digest, an HMAC signature), the two key handles, and then the
// rest of it is the saved state. A state the module takes must come back unchanged
// from C_GetOperationState, and the restored digest must finish.
#include <cstring>
#include <vector>

#include "common/calls.h"
#include "common/module.h"
#include "harnesses.h"

using namespace ferrohsm::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Module& m = Module::get();
  CK_FUNCTION_LIST_3_0* f = m.f;
  Reader r(data, size);
  Arena arena;
  const CK_SESSION_HANDLE s = m.open_session();

  CK_BYTE text[] = "restored";
  switch (r.u8() % kStatesBefore) {
    case kDigesting: {
      CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
      if (f->C_DigestInit(s, &sha) != CKR_OK || f->C_DigestUpdate(s, text, sizeof text) != CKR_OK)
        fail("C_DigestInit/C_DigestUpdate before the state", CKR_OK);
      break;
    }
    case kSigning: {
      CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
      if (f->C_SignInit(s, &hmac, m.key(kGenericSecret)) != CKR_OK) fail("C_SignInit before the state", CKR_OK);
      break;
    }
    default: break;
  }
  const CK_OBJECT_HANDLE enc = m.key(r.u8()), auth = m.key(r.u8());
  size_t n = r.left();
  const uint8_t* p = r.take(n);
  CK_BYTE_PTR state = arena.copy(p, n);

  if (f->C_SetOperationState(s, state, n, enc, auth) == CKR_OK) {
    CK_ULONG len = 0;
    if (f->C_GetOperationState(s, nullptr, &len) != CKR_OK || len != n)
      fail("C_GetOperationState's length after C_SetOperationState", CKR_OK);
    CK_BYTE_PTR again = arena.alloc(len);
    if (f->C_GetOperationState(s, again, &len) != CKR_OK || len != n || std::memcmp(again, state, n) != 0)
      fail("C_GetOperationState after C_SetOperationState (the state changed)", CKR_OK);
    if (f->C_DigestUpdate(s, text, sizeof text) != CKR_OK) fail("C_DigestUpdate after C_SetOperationState", CKR_OK);
    CK_RV rv = with_output(r, arena, [&](auto o, auto l) { return f->C_DigestFinal(s, o, l); });
    if (rv != CKR_OK) fail("C_DigestFinal after C_SetOperationState", rv);
  }
  m.end_iteration(s, {});
  return 0;
}
