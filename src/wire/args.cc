#include "wire/args.h"

namespace ferrohsm::wire {

// --- client --------------------------------------------------------------------------

namespace client {

void Context::started(CK_SESSION_HANDLE h, MsgKind k, CK_MECHANISM_TYPE m) {
  std::lock_guard lock(mu_);
  message_mechanisms_[{h, k}] = m;
}

std::optional<CK_MECHANISM_TYPE> Context::message_mechanism(CK_SESSION_HANDLE h, MsgKind k) const {
  std::lock_guard lock(mu_);
  auto it = message_mechanisms_.find({h, k});
  if (it == message_mechanisms_.end()) return std::nullopt;
  return it->second;
}

void Context::forget(CK_SESSION_HANDLE h) {
  std::lock_guard lock(mu_);
  for (int k = kEncrypt; k <= kVerify; ++k) message_mechanisms_.erase({h, k});
}

Status Sess::put(Arg& a, uint64_t&) const {
  const uint64_t g = static_cast<uint64_t>(h) >> 32, current = ctx->generation();
  if (g == current) {
    a.set_u(h & 0xffffffffu);
    return {};
  }
  if (g >= 1 && g < current) return make_error(CKR_DEVICE_REMOVED, "the session was on a connection that was lost");
  a.set_u(CK_INVALID_HANDLE);  // no session of ours: the server answers CKR_SESSION_HANDLE_INVALID
  return {};
}

void Found::take(const Arg& a, CK_RV rv) const {
  if (rv != CKR_OK || countp == nullptr) return;
  CK_ULONG n = std::min<CK_ULONG>(max, static_cast<CK_ULONG>(a.ulongs_size()));
  if (p != nullptr)
    for (CK_ULONG i = 0; i < n; ++i) p[i] = static_cast<CK_OBJECT_HANDLE>(a.ulongs(static_cast<int>(i)));
  *countp = n;
}

Status Query::put(Arg& a, uint64_t& budget) const {
  a.set_null(p == nullptr);
  a.set_len(count);
  if (p == nullptr) return {};
  if (count > budget / 16) return make_error(CKR_ARGUMENTS_BAD, "a template is larger than a message may be");
  encode_query(p, count, a.mutable_attrs());
  return {};
}

namespace {

// A parameter by its spec: the structure's fields when it is one and its length fits,
// else its bytes (`raw`) — a length that fits no structure is refused by the callee as
// it would be locally, and bytes never carry a pointer across.
Status put_param(const ParamSpec& spec, CK_VOID_PTR param, CK_ULONG len, Arg& a, uint64_t& budget) {
  a.set_len(len);
  if (param == nullptr) {
    a.set_u(1);  // pParameter was NULL
    return {};
  }
  if (spec.kind == ParamKind::Struct && len == spec.layout->size) return encode(*spec.layout, param, a.mutable_fields(), budget);
  if (len > budget) return make_error(CKR_MECHANISM_PARAM_INVALID, "a mechanism parameter larger than a message may be");
  budget -= len;
  a.set_raw(true);
  a.set_data(param, len);
  return {};
}

void take_param(const ParamSpec& spec, CK_VOID_PTR param, CK_ULONG len, const Arg& a) {
  if (spec.kind == ParamKind::Struct && param != nullptr && len == spec.layout->size && a.fields_size() > 0)
    write_back(*spec.layout, a.fields(), param);
}

}  // namespace

Status Mech::put(Arg& a, uint64_t& budget) const {
  a.set_null(p == nullptr);
  if (p == nullptr) return {};
  a.set_type(p->mechanism);
  return put_param(mechanism_param(p->mechanism), p->pParameter, p->ulParameterLen, a, budget);
}

void Mech::take(const Arg& a, CK_RV) const {
  if (p != nullptr) take_param(mechanism_param(p->mechanism), p->pParameter, p->ulParameterLen, a);
}

Status MsgParam::put(Arg& a, uint64_t& budget) const {
  auto m = ctx->message_mechanism(h, k);
  a.set_type(m.value_or(CK_UNAVAILABLE_INFORMATION));
  return put_param(m ? message_param(*m) : ParamSpec{}, p, len, a, budget);
}

void MsgParam::take(const Arg& a, CK_RV) const {
  if (auto m = ctx->message_mechanism(h, k)) take_param(message_param(*m), p, len, a);
}

}  // namespace client

// --- server --------------------------------------------------------------------------

namespace server {

Load Found::load(const Arg& a) {
  max = static_cast<CK_ULONG>(std::min<uint64_t>(a.len(), ctx->budget / 8));
  countp = a.raw() ? nullptr : &count;
  p = a.null() ? nullptr : static_cast<CK_OBJECT_HANDLE_PTR>(ctx->storage.block(sizeof(CK_OBJECT_HANDLE) * max));
  return {};
}

void Found::store(Arg& a, CK_RV rv) {
  if (p == nullptr || rv != CKR_OK) return;
  for (CK_ULONG i = 0; i < count && i < max; ++i) a.add_ulongs(p[i]);
}

Load Label::load(const Arg& a) {
  if (a.null()) {
    p = nullptr;
    return {};
  }
  if (a.data().size() != 32) return Load::malformed("a token label that is not 32 bytes");
  p = reinterpret_cast<CK_UTF8CHAR_PTR>(ctx->storage.bytes(a.data(), 32));
  return {};
}

Load Tmpl::load(const Arg& a) {
  count = static_cast<CK_ULONG>(a.len());
  if (a.null()) {
    p = nullptr;
    return {};
  }
  std::string why;
  p = rebuild_template(a.attrs(), a.len(), ctx->storage, why);
  if (p == nullptr) return Load::malformed(why);
  return {};
}

Load Query::load(const Arg& a) {
  count = static_cast<CK_ULONG>(a.len());
  if (a.null()) {
    p = nullptr;
    return {};
  }
  if (static_cast<uint64_t>(a.attrs_size()) != a.len()) return Load::malformed("a query whose count disagrees with its attributes");
  std::string why;
  p = rebuild_query(a.attrs(), ctx->storage, ctx->budget, why);
  if (p == nullptr) return Load::malformed(why);
  return {};
}

void Query::store(Arg& a, CK_RV rv) {
  // The lengths (and values) of every attribute are meaningful for these codes (§5.7).
  const bool answered = rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
                        rv == CKR_BUFFER_TOO_SMALL;
  if (p != nullptr && answered) encode_answer(p, count, true, a.mutable_attrs());
}

namespace {

// The parameter the server passes on, by the spec of the mechanism it belongs to.
Load load_param(const ParamSpec& spec, const Arg& a, Storage& storage, CK_VOID_PTR& param, CK_ULONG& len,
                const Layout*& outputs) {
  len = static_cast<CK_ULONG>(a.len());
  param = nullptr;
  if (a.u() == 1) return {};  // NULL stays NULL
  if (a.fields_size() > 0) {
    if (spec.kind != ParamKind::Struct) return Load::answer(CKR_MECHANISM_PARAM_INVALID);
    std::string why;
    param = rebuild(*spec.layout, a.fields(), storage, why);
    if (param == nullptr) return Load::malformed(why);
    len = static_cast<CK_ULONG>(spec.layout->size);
    if (has_outputs(*spec.layout)) outputs = spec.layout;
    return {};
  }
  if (a.data().size() != a.len()) return Load::malformed("a parameter whose length disagrees with its data");
  // Bytes pass only where the parameter is bytes, or is a structure whose length they do
  // not match (the callee refuses that length before it reads a pointer). A structure
  // never arrives as bytes.
  const bool plain = spec.kind == ParamKind::Bytes || (spec.kind == ParamKind::None && a.data().empty()) ||
                     (spec.kind == ParamKind::Struct && a.data().size() != spec.layout->size);
  if (!plain) return Load::answer(CKR_MECHANISM_PARAM_INVALID);
  param = storage.bytes(a.data(), a.data().size());
  return {};
}

void store_param(const Layout* outputs, CK_VOID_PTR param, Arg& a) {
  if (outputs != nullptr && param != nullptr) encode_outputs(*outputs, param, a.mutable_fields());
}

}  // namespace

Load Mech::load(const Arg& a) {
  if (a.null()) {
    p = nullptr;
    return {};
  }
  p = static_cast<CK_MECHANISM_PTR>(ctx->storage.block(sizeof(CK_MECHANISM)));
  p->mechanism = static_cast<CK_MECHANISM_TYPE>(a.type());
  return load_param(mechanism_param(p->mechanism), a, ctx->storage, p->pParameter, p->ulParameterLen, outputs);
}

void Mech::store(Arg& a, CK_RV) {
  if (p != nullptr) store_param(outputs, p->pParameter, a);
}

Load MsgParam::load(const Arg& a) {
  // The layout comes from the operation the server knows, never from the client's word.
  auto m = ctx->message_mechanism ? ctx->message_mechanism(h, k) : std::nullopt;
  if (!m) {  // no such operation: the callee answers for it without reading the parameter
    p = nullptr;
    len = static_cast<CK_ULONG>(a.len());
    return {};
  }
  return load_param(message_param(*m), a, ctx->storage, p, len, outputs);
}

void MsgParam::store(Arg& a, CK_RV) { store_param(outputs, p, a); }

}  // namespace server

}  // namespace ferrohsm::wire
