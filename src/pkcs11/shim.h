// The one place a C++ result becomes a CK_RV: every exported function body runs
// inside guard(), which catches anything thrown (nothing crosses the ABI), logs the
// call with its return code at debug level (never arguments that may be secret)
// and returns the error's CKR_* code.
#pragma once

#include "base/log.h"
#include "base/result.h"
#include "base/names.h"

#include <new>

namespace ferrohsm::p11 {

template <typename F>
CK_RV guard(const char* name, F&& body) noexcept {
  CK_RV rv = CKR_GENERAL_ERROR;
  try {
    Status st = body();
    rv = st.rv();
    if (log().should_log(spdlog::level::debug)) {
      if (st.ok()) log().debug("{} -> CKR_OK", name);
      else log().debug("{} -> {}: {}", name, rv_name(rv), st.error().message);
    }
  } catch (const std::bad_alloc&) {
    rv = CKR_HOST_MEMORY;
  } catch (...) {
    rv = CKR_GENERAL_ERROR;
  }
  return rv;
}

}  // namespace ferrohsm::p11

// Declares every fh_C_* shim (defined across the entry_*.cc files).
#define FH_FN(name, params, args, codecs) CK_RV fh_##name params;
#include "base/pkcs11_functions.inc"
#undef FH_FN
