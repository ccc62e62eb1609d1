// Every function of the 3.0 table that FerroHSM does not implement yet answers
// CKR_FUNCTION_NOT_SUPPORTED (once the module is initialised). These are weak
// definitions expanded from the one function list; the entry_*.cc files override
// each function they implement. README.md lists what is not supported yet.
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

// The weak defaults ignore their parameters by design.
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define FH_FN(name, params, args, codecs)                                                  \
  __attribute__((weak)) CK_RV fh_##name params {                                   \
    return ::ferrohsm::p11::guard(#name, []() -> ::ferrohsm::Status {               \
      FH_HSM(h);                                                                    \
      (void)h;                                                                      \
      return ::ferrohsm::make_error(CKR_FUNCTION_NOT_SUPPORTED, "not implemented"); \
    });                                                                             \
  }
#include "base/pkcs11_functions.inc"
#undef FH_FN
