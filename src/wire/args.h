// The argument codecs named in the `wire` column of base/pkcs11_functions.inc. Each
// exists twice with the same name: in `client`, wrapping the application's arguments
// (put() encodes them into the Call, take() writes the Return's outputs back into the
// application's memory), and in `server`, bound to the parameters of the function the
// server calls (load() rebuilds them from the Call with memory the server owns,
// store() encodes the outputs). So one row of the table drives both ends, and a new
// function is one line.
//
//   U(x)            a CK_ULONG-like value in          Out(p, lenp)     bytes out, length query kept
//   In(p, len)      bytes in (NULL kept)              OutFixed(p, len) bytes out of a given length
//   OutU(p)         one CK_ULONG out (a handle)       Ulongs(p, countp) a slot or mechanism list out
//   Found(p, max, countp)  C_FindObjects' handles     Struct(p, layout) a CK_*_INFO out
//   Label(p)        C_InitToken's 32-byte label       Ignore(p)        not sent (Notify, pApplication)
//   Tmpl(p, count)  a template in                     Query(p, count)  C_GetAttributeValue
//   Mech(p)         a CK_MECHANISM in (outputs back)  MsgInit/MsgParam message-based operations
#pragma once

#include "wire/attributes.h"
#include "wire/layout.h"
#include "wire/mechanism_params.h"

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace ferrohsm::wire {

// Which message-based operation a per-message parameter belongs to.
enum MsgKind { kEncrypt = 0, kDecrypt = 1, kSign = 2, kVerify = 3 };

// Encodes one Arg per codec, or answers the call locally (an argument that cannot travel).
namespace client {

// What the client side of one connection knows across calls: the largest message and the
// mechanism of each session's message-based operations (to lay out their parameters).
class Context {
 public:
  explicit Context(uint64_t max_message) : max_message_(max_message) {}
  uint64_t budget() const { return max_message_; }
  void set_budget(uint64_t max_message) { max_message_ = max_message; }

  // Session handles carry the connection they were opened on (its generation, counted
  // from 1 by every new connection) in their upper 32 bits, so that a handle from a lost
  // connection answers CKR_DEVICE_REMOVED and can never reach a session of the next one.
  uint32_t generation() const { return generation_.load(); }
  void next_generation() { generation_.fetch_add(1); }
  void started(CK_SESSION_HANDLE h, MsgKind k, CK_MECHANISM_TYPE m);
  std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, MsgKind k) const;
  void forget(CK_SESSION_HANDLE h);

 private:
  uint64_t max_message_;
  std::atomic<uint32_t> generation_{1};
  mutable std::mutex mu_;
  std::map<std::pair<CK_SESSION_HANDLE, int>, CK_MECHANISM_TYPE> message_mechanisms_;
};

// put() may refuse a call before it is sent (a length that cannot cross): it returns
// the code the application gets. take() sees the call's code.
struct Codec {
  Context* ctx = nullptr;
};

template <typename T>
struct U : Codec {
  explicit U(const T& v) : v(v) {}
  const T& v;
  Status put(Arg& a, uint64_t&) const { a.set_u(static_cast<uint64_t>(v)); return {}; }
  void take(const Arg&, CK_RV) const {}
};

// A session handle: this connection's, translated to the server's; one from a lost
// connection is refused before anything is sent.
struct Sess : Codec {
  explicit Sess(CK_SESSION_HANDLE h) : h(h) {}
  CK_SESSION_HANDLE h;
  Status put(Arg& a, uint64_t&) const;
  void take(const Arg&, CK_RV) const {}
};

// C_OpenSession's output: the server's handle, marked with this connection.
struct NewSess : Codec {
  explicit NewSess(CK_SESSION_HANDLE_PTR p) : p(p) {}
  CK_SESSION_HANDLE_PTR p;
  mutable uint32_t generation = 0;
  Status put(Arg& a, uint64_t&) const {
    generation = ctx->generation();
    a.set_null(p == nullptr);
    return {};
  }
  void take(const Arg& a, CK_RV rv) const {
    if (p != nullptr && rv == CKR_OK) *p = static_cast<CK_SESSION_HANDLE>(uint64_t{generation} << 32 | (a.u() & 0xffffffffu));
  }
};

template <typename P>
struct In : Codec {
  // `too_long`: what the application gets when the input cannot fit in a message (the
  // code the function itself gives an over-long input of this argument).
  In(P p, CK_ULONG len, CK_RV too_long = CKR_DATA_LEN_RANGE) : p(p), len(len), too_long(too_long) {}
  P p;
  CK_ULONG len;
  CK_RV too_long;
  Status put(Arg& a, uint64_t& budget) const;
  void take(const Arg&, CK_RV) const {}
};

template <typename P>
struct Out : Codec {
  Out(P p, CK_ULONG_PTR lenp) : p(p), lenp(lenp) {}
  P p;
  CK_ULONG_PTR lenp;
  Status put(Arg& a, uint64_t&) const {
    a.set_null(p == nullptr);
    a.set_raw(lenp == nullptr);
    if (lenp != nullptr) a.set_len(*lenp);
    return {};
  }
  void take(const Arg& a, CK_RV rv) const;
};

template <typename P>
struct OutFixed : Codec {
  OutFixed(P p, CK_ULONG len) : p(p), len(len) {}
  P p;
  CK_ULONG len;
  Status put(Arg& a, uint64_t& budget) const;
  void take(const Arg& a, CK_RV rv) const;
};

template <typename P>
struct OutU : Codec {
  explicit OutU(P p) : p(p) {}
  P p;
  Status put(Arg& a, uint64_t&) const { a.set_null(p == nullptr); return {}; }
  void take(const Arg& a, CK_RV rv) const {
    if (p != nullptr && rv == CKR_OK) *p = static_cast<std::remove_pointer_t<P>>(a.u());
  }
};

template <typename P>
struct Ulongs : Codec {
  Ulongs(P p, CK_ULONG_PTR countp) : p(p), countp(countp) {}
  P p;
  CK_ULONG_PTR countp;
  Status put(Arg& a, uint64_t&) const {
    a.set_null(p == nullptr);
    a.set_raw(countp == nullptr);
    if (countp != nullptr) a.set_len(*countp);
    return {};
  }
  void take(const Arg& a, CK_RV rv) const;
};

struct Found : Codec {
  Found(CK_OBJECT_HANDLE_PTR p, CK_ULONG max, CK_ULONG_PTR countp) : p(p), max(max), countp(countp) {}
  CK_OBJECT_HANDLE_PTR p;
  CK_ULONG max;
  CK_ULONG_PTR countp;
  Status put(Arg& a, uint64_t&) const {
    a.set_null(p == nullptr);
    a.set_raw(countp == nullptr);
    a.set_len(max);
    return {};
  }
  void take(const Arg& a, CK_RV rv) const;
};

template <typename P>
struct Struct : Codec {
  Struct(P p, const Layout& (*layout)()) : p(p), layout(layout()) {}
  P p;
  const Layout& layout;
  Status put(Arg& a, uint64_t&) const { a.set_null(p == nullptr); return {}; }
  void take(const Arg& a, CK_RV rv) const {
    if (p != nullptr && rv == CKR_OK) fill(layout, a.fields(), p);
  }
};

struct Label : Codec {
  explicit Label(CK_UTF8CHAR_PTR p) : p(p) {}
  CK_UTF8CHAR_PTR p;
  Status put(Arg& a, uint64_t&) const {
    a.set_null(p == nullptr);
    if (p != nullptr) a.set_data(p, 32);
    return {};
  }
  void take(const Arg&, CK_RV) const {}
};

template <typename P>
struct Ignore : Codec {
  explicit Ignore(P) {}
  Status put(Arg&, uint64_t&) const { return {}; }
  void take(const Arg&, CK_RV) const {}
};

struct Tmpl : Codec {
  Tmpl(CK_ATTRIBUTE_PTR p, CK_ULONG count) : p(p), count(count) {}
  CK_ATTRIBUTE_PTR p;
  CK_ULONG count;
  Status put(Arg& a, uint64_t& budget) const {
    a.set_null(p == nullptr);
    a.set_len(count);
    return p == nullptr ? Status{} : encode_template(p, count, a.mutable_attrs(), budget);
  }
  void take(const Arg&, CK_RV) const {}
};

struct Query : Codec {
  Query(CK_ATTRIBUTE_PTR p, CK_ULONG count) : p(p), count(count) {}
  CK_ATTRIBUTE_PTR p;
  CK_ULONG count;
  Status put(Arg& a, uint64_t& budget) const;
  void take(const Arg& a, CK_RV) const {
    if (p != nullptr) write_answer(a.attrs(), p, count);
  }
};

struct Mech : Codec {
  explicit Mech(CK_MECHANISM_PTR p) : p(p) {}
  CK_MECHANISM_PTR p;
  Status put(Arg& a, uint64_t& budget) const;
  void take(const Arg& a, CK_RV rv) const;
};

struct MsgInit : Mech {
  MsgInit(CK_SESSION_HANDLE h, MsgKind k, CK_MECHANISM_PTR p) : Mech(p), h(h), k(k) {}
  CK_SESSION_HANDLE h;
  MsgKind k;
  void take(const Arg& a, CK_RV rv) const {
    Mech::take(a, rv);
    if (rv == CKR_OK && p != nullptr) ctx->started(h, k, p->mechanism);
  }
};

struct MsgParam : Codec {
  MsgParam(CK_SESSION_HANDLE h, MsgKind k, CK_VOID_PTR p, CK_ULONG len) : h(h), k(k), p(p), len(len) {}
  CK_SESSION_HANDLE h;
  MsgKind k;
  CK_VOID_PTR p;
  CK_ULONG len;
  Status put(Arg& a, uint64_t& budget) const;
  void take(const Arg& a, CK_RV rv) const;
};

// Deduction guides: U(x) and In(p, len) take the argument's own type.
template <typename T> U(const T&) -> U<T>;
template <typename P> In(P, CK_ULONG) -> In<P>;
template <typename P> In(P, CK_ULONG, CK_RV) -> In<P>;
template <typename P> Out(P, CK_ULONG_PTR) -> Out<P>;
template <typename P> OutFixed(P, CK_ULONG) -> OutFixed<P>;
template <typename P> OutU(P) -> OutU<P>;
template <typename P> Ulongs(P, CK_ULONG_PTR) -> Ulongs<P>;
template <typename P> Struct(P, const Layout& (*)()) -> Struct<P>;
template <typename P> Ignore(P) -> Ignore<P>;

template <typename P>
Status In<P>::put(Arg& a, uint64_t& budget) const {
  a.set_len(len);
  if (p == nullptr) {
    a.set_null(true);
    return {};
  }
  if (len > budget) return make_error(too_long, "more data than a sidecar message may carry");
  budget -= len;
  a.set_data(p, len);
  return {};
}

template <typename P>
void Out<P>::take(const Arg& a, CK_RV rv) const {
  // The length changes on success and CKR_BUFFER_TOO_SMALL; `u` says the callee wrote it.
  if (lenp != nullptr && a.u() != 0) *lenp = static_cast<CK_ULONG>(a.len());
  if (p != nullptr && rv == CKR_OK && lenp != nullptr) std::memcpy(p, a.data().data(), std::min<size_t>(*lenp, a.data().size()));
}

template <typename P>
Status OutFixed<P>::put(Arg& a, uint64_t& budget) const {
  a.set_null(p == nullptr);
  a.set_len(len);
  if (len > budget) return make_error(CKR_DATA_LEN_RANGE, "more data than a sidecar message may carry");
  return {};
}

template <typename P>
void OutFixed<P>::take(const Arg& a, CK_RV rv) const {
  if (p != nullptr && rv == CKR_OK) std::memcpy(p, a.data().data(), std::min<size_t>(len, a.data().size()));
}

template <typename P>
void Ulongs<P>::take(const Arg& a, CK_RV rv) const {
  if (countp == nullptr || (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)) return;
  const CK_ULONG room = *countp;
  *countp = static_cast<CK_ULONG>(a.len());
  if (p != nullptr && rv == CKR_OK)
    for (int i = 0; i < a.ulongs_size() && static_cast<CK_ULONG>(i) < room; ++i)
      p[i] = static_cast<std::remove_pointer_t<P>>(a.ulongs(i));
}

}  // namespace client

// Rebuilds the arguments of the function the server calls, in memory the call owns.
namespace server {

// What load() may say: go on, answer this code without calling (an argument the
// server will not pass on), or the message is malformed (the connection closes).
struct Load {
  enum { kOk, kAnswer, kMalformed } what = kOk;
  CK_RV rv = CKR_OK;
  std::string why;
  static Load answer(CK_RV rv) { return {kAnswer, rv, {}}; }
  static Load malformed(std::string why) { return {kMalformed, CKR_OK, std::move(why)}; }
};

struct Context {
  Storage storage;
  uint64_t budget = 0;  // how many bytes outputs may take in the Return
  // The mechanism of the session's message-based operation of a kind, if one is active.
  std::function<std::optional<CK_MECHANISM_TYPE>(CK_SESSION_HANDLE, MsgKind)> message_mechanism;
};

struct Codec {
  Context* ctx = nullptr;
};

template <typename T>
struct U : Codec {
  explicit U(T& v) : v(v) {}
  T& v;
  Load load(const Arg& a) { v = static_cast<T>(a.u()); return {}; }
  void store(Arg&, CK_RV) {}
};

template <typename P>
struct In : Codec {
  In(P& p, CK_ULONG& len, CK_RV = CKR_DATA_LEN_RANGE) : p(p), len(len) {}
  P& p;
  CK_ULONG& len;
  Load load(const Arg& a);
  void store(Arg&, CK_RV) {}
};

template <typename P>
struct Out : Codec {
  Out(P& p, CK_ULONG_PTR& lenp) : p(p), lenp(lenp) {}
  P& p;
  CK_ULONG_PTR& lenp;
  CK_ULONG len = 0, sent = 0;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

template <typename P>
struct OutFixed : Codec {
  OutFixed(P& p, CK_ULONG& len) : p(p), len(len) {}
  P& p;
  CK_ULONG& len;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv) {
    if (p != nullptr && rv == CKR_OK) a.set_data(p, len);
  }
};

template <typename P>
struct OutU : Codec {
  explicit OutU(P& p) : p(p) {}
  P& p;
  std::remove_pointer_t<P> value{};
  Load load(const Arg& a) { p = a.null() ? nullptr : &value; return {}; }
  void store(Arg& a, CK_RV) { a.set_u(static_cast<uint64_t>(value)); }
};

using Sess = U<CK_SESSION_HANDLE>;           // the server's own handles
using NewSess = OutU<CK_SESSION_HANDLE_PTR>;

template <typename P>
struct Ulongs : Codec {
  Ulongs(P& p, CK_ULONG_PTR& countp) : p(p), countp(countp) {}
  P& p;
  CK_ULONG_PTR& countp;
  CK_ULONG count = 0;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

struct Found : Codec {
  Found(CK_OBJECT_HANDLE_PTR& p, CK_ULONG& max, CK_ULONG_PTR& countp) : p(p), max(max), countp(countp) {}
  CK_OBJECT_HANDLE_PTR& p;
  CK_ULONG& max;
  CK_ULONG_PTR& countp;
  CK_ULONG count = 0;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

template <typename P>
struct Struct : Codec {
  Struct(P& p, const Layout& (*layout)()) : p(p), layout(layout()) {}
  P& p;
  const Layout& layout;
  Load load(const Arg& a) {
    p = a.null() ? nullptr : static_cast<P>(ctx->storage.block(layout.size));
    return {};
  }
  void store(Arg& a, CK_RV rv) {
    uint64_t unlimited = ~0ULL;
    if (p != nullptr && rv == CKR_OK) (void)encode(layout, p, a.mutable_fields(), unlimited);
  }
};

struct Label : Codec {
  explicit Label(CK_UTF8CHAR_PTR& p) : p(p) {}
  CK_UTF8CHAR_PTR& p;
  Load load(const Arg& a);
  void store(Arg&, CK_RV) {}
};

template <typename P>
struct Ignore : Codec {
  explicit Ignore(P& p) : p(p) {}
  P& p;
  Load load(const Arg&) { p = nullptr; return {}; }
  void store(Arg&, CK_RV) {}
};

struct Tmpl : Codec {
  Tmpl(CK_ATTRIBUTE_PTR& p, CK_ULONG& count) : p(p), count(count) {}
  CK_ATTRIBUTE_PTR& p;
  CK_ULONG& count;
  Load load(const Arg& a);
  void store(Arg&, CK_RV) {}
};

struct Query : Codec {
  Query(CK_ATTRIBUTE_PTR& p, CK_ULONG& count) : p(p), count(count) {}
  CK_ATTRIBUTE_PTR& p;
  CK_ULONG& count;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

struct Mech : Codec {
  explicit Mech(CK_MECHANISM_PTR& p) : p(p) {}
  CK_MECHANISM_PTR& p;
  const Layout* outputs = nullptr;  // the parameter's layout when the callee may write into it
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

struct MsgInit : Mech {
  MsgInit(CK_SESSION_HANDLE&, MsgKind, CK_MECHANISM_PTR& p) : Mech(p) {}
};

struct MsgParam : Codec {
  MsgParam(CK_SESSION_HANDLE& h, MsgKind k, CK_VOID_PTR& p, CK_ULONG& len) : h(h), k(k), p(p), len(len) {}
  CK_SESSION_HANDLE& h;
  MsgKind k;
  CK_VOID_PTR& p;
  CK_ULONG& len;
  const Layout* outputs = nullptr;
  Load load(const Arg& a);
  void store(Arg& a, CK_RV rv);
};

template <typename T> U(T&) -> U<T>;
template <typename P> In(P&, CK_ULONG&) -> In<P>;
template <typename P> In(P&, CK_ULONG&, CK_RV) -> In<P>;
template <typename P> Out(P&, CK_ULONG_PTR&) -> Out<P>;
template <typename P> OutFixed(P&, CK_ULONG&) -> OutFixed<P>;
template <typename P> OutU(P&) -> OutU<P>;
template <typename P> Ulongs(P&, CK_ULONG_PTR&) -> Ulongs<P>;
template <typename P> Struct(P&, const Layout& (*)()) -> Struct<P>;
template <typename P> Ignore(P&) -> Ignore<P>;

// An empty input that is not NULL.
inline uint8_t* empty_buffer() {
  static uint8_t e[1];
  return e;
}

template <typename P>
Load In<P>::load(const Arg& a) {
  len = static_cast<CK_ULONG>(a.len());
  if (a.null()) {
    p = nullptr;
    return {};
  }
  if (a.data().size() != a.len()) return Load::malformed("an input whose length disagrees with its data");
  // The request outlives the call, and a callee never writes into its input.
  p = a.data().empty() ? reinterpret_cast<P>(empty_buffer())
                       : reinterpret_cast<P>(const_cast<char*>(a.data().data()));
  return {};
}

template <typename P>
Load Out<P>::load(const Arg& a) {
  // A capacity beyond what a Return can carry is cut to that: the output could not come back.
  len = sent = static_cast<CK_ULONG>(std::min<uint64_t>(a.len(), ctx->budget));
  lenp = a.raw() ? nullptr : &len;
  p = a.null() ? nullptr : reinterpret_cast<P>(ctx->storage.block(len));
  return {};
}

template <typename P>
void Out<P>::store(Arg& a, CK_RV rv) {
  a.set_len(len);
  a.set_u(len != sent ? 1 : 0);
  if (p != nullptr && rv == CKR_OK && len <= sent) a.set_data(p, len);
}

template <typename P>
Load OutFixed<P>::load(const Arg& a) {
  if (a.len() > ctx->budget) return Load::answer(CKR_DATA_LEN_RANGE);
  len = static_cast<CK_ULONG>(a.len());
  p = a.null() ? nullptr : reinterpret_cast<P>(ctx->storage.block(len));
  return {};
}

template <typename P>
Load Ulongs<P>::load(const Arg& a) {
  count = static_cast<CK_ULONG>(std::min<uint64_t>(a.len(), ctx->budget / 8));
  countp = a.raw() ? nullptr : &count;
  p = a.null() ? nullptr : static_cast<P>(ctx->storage.block(sizeof(CK_ULONG) * count));
  return {};
}

template <typename P>
void Ulongs<P>::store(Arg& a, CK_RV rv) {
  a.set_len(count);
  if (p != nullptr && rv == CKR_OK)
    for (CK_ULONG i = 0; i < count; ++i) a.add_ulongs(p[i]);
}

// Runs `fn(args...)` with value-initialised arguments: the server's call bodies are
// lambdas with the C function's own parameter list, whose codecs bind to those parameters.
template <typename F>
struct Params : Params<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct Params<R (C::*)(A...) const> {
  template <typename F>
  static R call(F& f) { return f(A{}...); }
};
template <typename F>
CK_RV call_with_fresh_arguments(F& f) { return Params<F>::call(f); }

}  // namespace server

}  // namespace ferrohsm::wire
