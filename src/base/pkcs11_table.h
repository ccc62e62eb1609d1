// Helpers for expanding base/pkcs11_functions.inc: the function's number (its position
// in the table, which is its number on the sidecar wire), and FH_IF_REMOTE/FH_IF_LOCAL to
// keep or drop a row by its `wire` column (a codec list, or LOCAL).
#pragma once

#include <cstdint>

namespace ferrohsm {

enum Pkcs11Function : uint32_t {
#define FH_FN(name, params, args, codecs) kFn_##name,
#include "base/pkcs11_functions.inc"
#undef FH_FN
  kFunctionCount
};

}  // namespace ferrohsm

#define FH_TBL_PROBE(...) ~, 1
#define FH_TBL_SECOND(...) FH_TBL_SECOND_(__VA_ARGS__, ~)
#define FH_TBL_SECOND_(a, b, ...) b
#define FH_TBL_IS_PAREN(x) FH_TBL_SECOND(FH_TBL_PROBE x, 0)
#define FH_TBL_CAT(a, b) FH_TBL_CAT_(a, b)
#define FH_TBL_CAT_(a, b) a##b
#define FH_TBL_KEEP_1(...) __VA_ARGS__
#define FH_TBL_KEEP_0(...)
#define FH_TBL_NOT_1 0
#define FH_TBL_NOT_0 1
// FH_IF_REMOTE(codecs)(text): `text` for a function that crosses the wire, nothing for LOCAL.
#define FH_IF_REMOTE(codecs) FH_TBL_CAT(FH_TBL_KEEP_, FH_TBL_IS_PAREN(codecs))
// FH_IF_LOCAL(codecs)(text): the other way round.
#define FH_IF_LOCAL(codecs) FH_TBL_CAT(FH_TBL_KEEP_, FH_TBL_CAT(FH_TBL_NOT_, FH_TBL_IS_PAREN(codecs)))
