// Loading a PKCS#11 library: dlopen, then its function table — the 3.0 table through
// C_GetInterface("PKCS 11") when the library offers one, else C_GetFunctionList's.
// A table from C_GetFunctionList always has the 2.40 layout, whatever version it
// claims, so a library that claims 3.x there is used through its 2.40 functions only
// (reading 3.0 members past the end of a 2.40 table would read garbage). Does not call
// C_Initialize: that is the caller's decision.
#pragma once

#include "base/result.h"

#include <dlfcn.h>

#include <string>

namespace ferrohsm {

struct Pkcs11Library {
  std::string path;
  void* handle = nullptr;                          // from dlopen
  CK_FUNCTION_LIST* functions = nullptr;           // the 2.40 functions (a prefix of the 3.0 table)
  CK_FUNCTION_LIST_3_0* functions_3_0 = nullptr;   // only when the library offers a 3.x interface
  CK_VERSION version{};                            // of the table in use: 3.x only with functions_3_0
  bool via_interface = false;                      // the table came from C_GetInterface
};

// RTLD_NODELETE by default: libraries with atexit handlers (SoftHSMv2, OpenSSL
// inside) must stay mapped after dlclose.
Result<Pkcs11Library> load_pkcs11_library(const std::string& path,
                                          int dlopen_flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

}  // namespace ferrohsm
