// One call across the wire, at each end, from a row of base/pkcs11_functions.inc.
//   client::invoke(ctx, function, send, refused, codecs…)  encodes the application's
//       arguments, sends the Call, and writes the Return's outputs back; the application
//       gets the server's code (or the transport's, when the connection is lost). An
//       argument that cannot cross (too long for a message) is refused here: `refused(rv)`
//       is called instead of `send` and its answer is the application's.
//   server::run(ctx, call, ret, codecs, fn)        rebuilds the arguments, calls `fn` (the
//       embedded function) and encodes its outputs.
#pragma once

#include "wire/args.h"

#include <tuple>
#include <utility>

namespace ferrohsm::wire {

namespace client {

template <typename Send, typename Refused, typename... C>
CK_RV invoke(Context& ctx, uint32_t function, Send&& send, Refused&& refused, C... codecs) {
  Call call;
  call.set_function(function);
  // The connection this call's session handles were translated for: the call must go
  // to that connection or nowhere.
  const uint32_t generation = ctx.generation();
  uint64_t budget = ctx.budget() > 4096 ? ctx.budget() - 4096 : 0;  // room for the envelope
  CK_RV early = CKR_OK;
  auto put = [&](auto& c) {
    c.ctx = &ctx;
    if (early != CKR_OK) return;
    Status st = c.put(*call.add_args(), budget);
    if (!st.ok()) early = st.rv();
  };
  (put(codecs), ...);
  if (early != CKR_OK) return refused(early);
  Result<Return> ret = send(call, generation);
  if (!ret.ok()) return ret.rv();
  if (ret->args_size() != static_cast<int>(sizeof...(C))) return CKR_DEVICE_ERROR;  // not our protocol
  const CK_RV rv = static_cast<CK_RV>(ret->rv());
  int i = 0;
  auto take = [&](auto& c) { c.take(ret->args(i++), rv); };
  (take(codecs), ...);
  return rv;
}

}  // namespace client

namespace server {

// Runs one call. Returns the Load that stopped it (kAnswer: `ret` holds the code;
// kMalformed: the connection should close), or kOk when `fn` ran.
template <typename Tuple, typename Fn>
Load run(Context& ctx, const Call& call, Return& ret, Tuple codecs, Fn&& fn) {
  constexpr size_t n = std::tuple_size_v<Tuple>;
  if (call.args_size() != static_cast<int>(n))
    return Load::malformed("a call with " + std::to_string(call.args_size()) + " arguments where the function takes " +
                           std::to_string(n));
  Load stop;
  size_t i = 0;
  std::apply(
      [&](auto&... c) {
        auto load = [&](auto& one) {
          one.ctx = &ctx;
          if (stop.what == Load::kOk) stop = one.load(call.args(static_cast<int>(i)));
          ++i;
        };
        (load(c), ...);
      },
      codecs);
  if (stop.what == Load::kAnswer) {  // answered without a call: no outputs, but one Arg per codec
    ret.set_rv(stop.rv);
    for (size_t k = 0; k < n; ++k) ret.add_args();
  }
  if (stop.what != Load::kOk) return stop;
  const CK_RV rv = fn();
  ret.set_rv(rv);
  std::apply([&](auto&... c) { (c.store(*ret.add_args(), rv), ...); }, codecs);
  return {};
}

}  // namespace server

}  // namespace ferrohsm::wire
