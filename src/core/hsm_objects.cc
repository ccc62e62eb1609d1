// Hsm: objects — create, copy, destroy, attributes, find.
#include "core/hsm.h"
#include "core/hardening.h"

#include "base/names.h"
#include "core/object_policy.h"

#include <cstring>

#include <algorithm>
#include <mutex>

namespace ferrohsm {

// Every attribute is processed; each failing one gets CK_UNAVAILABLE_INFORMATION,
// and the call returns the most telling of the failures.
namespace {

// One value by §5.7's rules: NULL asks for the length; a short buffer gets
// CK_UNAVAILABLE_INFORMATION and makes the call CKR_BUFFER_TOO_SMALL.
void copy_value(CK_ATTRIBUTE& a, const SecureBytes& v, bool& small) {
  if (a.pValue == nullptr) {
    a.ulValueLen = v.size();
  } else if (a.ulValueLen >= v.size()) {
    if (!v.empty()) std::memcpy(a.pValue, v.data(), v.size());
    a.ulValueLen = v.size();
  } else {
    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
    small = true;
  }
}

// An attribute array (§5.7): its length is count × sizeof(CK_ATTRIBUTE); with a buffer,
// each element gets its type and, by the usual rules, its value or length.
Status copy_attr_array(CK_ATTRIBUTE& a, const SecureBytes& stored, bool& small) {
  FH_ASSIGN_OR_RETURN(AttrMap inner, decode_attr_array(ByteView(stored.data(), stored.size())));
  const CK_ULONG need = static_cast<CK_ULONG>(inner.size() * sizeof(CK_ATTRIBUTE));
  if (a.pValue == nullptr) {
    a.ulValueLen = need;
    return {};
  }
  if (a.ulValueLen < need) {
    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
    small = true;
    return {};
  }
  auto* out = static_cast<CK_ATTRIBUTE*>(a.pValue);
  size_t i = 0;
  for (const auto& [t, v] : inner) {
    CK_ATTRIBUTE& e = out[i++];
    e.type = t;
    copy_value(e, v, small);
  }
  a.ulValueLen = need;
  return {};
}

}  // namespace

Status Hsm::check_writable(const Session& s, bool token_object) const {
  if (token_object && !s.rw()) return make_error(CKR_SESSION_READ_ONLY, "token objects need an R/W session");
  return {};
}

Status Hsm::check_private_access(const Session& s, bool private_object) const {
  if (private_object && s.token()->role() != Role::User)
    return make_error(CKR_USER_NOT_LOGGED_IN, "private objects need the user logged in");
  return {};
}

Result<ObjectPtr> Hsm::object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  return s->token()->object(o);
}

Status Hsm::get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) {
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, object(h, o));
  const AttrMap& attrs = obj->attrs();
  bool sensitive = false, invalid = false, small = false;
  for (CK_ATTRIBUTE& a : tmpl) {
    Reveal r = can_reveal(attrs, a.type);
    if (r == Reveal::Invalid && !obj->complete()) r = Reveal::Sensitive;  // sealed until login
    if (r != Reveal::Ok) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      (r == Reveal::Sensitive ? sensitive : invalid) = true;
      continue;
    }
    const SecureBytes& v = *attrs.get(a.type);
    if (attribute_kind(a.type) == AttrKind::AttrArray) {
      FH_TRY(copy_attr_array(a, v, small));
      continue;
    }
    copy_value(a, v, small);
  }
  if (sensitive) return make_error(CKR_ATTRIBUTE_SENSITIVE, "an attribute is sensitive");
  if (invalid) return make_error(CKR_ATTRIBUTE_TYPE_INVALID, "an attribute is not valid for this object");
  if (small) return make_error(CKR_BUFFER_TOO_SMALL, "an attribute buffer is too small");
  return {};
}

Result<CK_OBJECT_HANDLE> Hsm::create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const bool so = s->token()->role() == Role::SO;
  const AttrMap hardened =
      harden_defaults(cfg_.hardening, tmpl.get_ulong(CKA_CLASS).value_or(CK_UNAVAILABLE_INFORMATION), tmpl);
  FH_ASSIGN_OR_RETURN(AttrMap attrs, complete_created(hardened, so));
  FH_TRY(check_new_object(cfg_.hardening, attrs, KeyOrigin::Created));
  FH_TRY(check_writable(*s, attrs.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, attrs.get_bool_or(CKA_PRIVATE, false)));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->create_object(std::move(attrs), h));
  return obj->handle();
}

Result<CK_OBJECT_HANDLE> Hsm::copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  FH_ASSIGN_OR_RETURN(ObjectPtr src, s->token()->object(o));
  if (!src->complete()) return make_error(CKR_USER_NOT_LOGGED_IN, "the object's sealed values need a login");
  const bool so = s->token()->role() == Role::SO;
  FH_ASSIGN_OR_RETURN(AttrMap attrs, apply_copy(src->attrs(), tmpl, so));
  FH_TRY(check_changed_object(cfg_.hardening, src->attrs(), attrs, true));
  FH_TRY(check_writable(*s, attrs.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, attrs.get_bool_or(CKA_PRIVATE, false)));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->create_object(std::move(attrs), h));
  return obj->handle();
}

Status Hsm::destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->object(o));
  FH_TRY(check_writable(*s, obj->is_token()));
  if (!obj->attrs().get_bool_or(CKA_DESTROYABLE, true))
    return make_error(CKR_ACTION_PROHIBITED, "the object is not destroyable (CKA_DESTROYABLE is false)");
  FH_TRY(s->token()->destroy_object(obj));
  drop_spares_of(*s, obj.get());
  return {};
}

Result<CK_ULONG> Hsm::object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, object(h, o));
  CK_ULONG size = 0;
  for (const auto& [t, v] : obj->attrs()) size += sizeof(CK_ATTRIBUTE_TYPE) + sizeof(CK_ULONG) + v.size();
  return size;
}

Status Hsm::set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->object(o));
  FH_TRY(check_writable(*s, obj->is_token()));
  if (!obj->complete()) return make_error(CKR_USER_NOT_LOGGED_IN, "the object's sealed values need a login");
  const bool so = s->token()->role() == Role::SO;
  FH_ASSIGN_OR_RETURN(AttrMap attrs, apply_set(obj->attrs(), tmpl, so));
  FH_TRY(check_changed_object(cfg_.hardening, obj->attrs(), attrs, false));
  FH_TRY(s->token()->replace_object(obj, std::move(attrs)));
  drop_spares_of(*s, obj.get());
  return {};
}

Status Hsm::find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->find) return make_error(CKR_OPERATION_ACTIVE, "a find is already active");
  }
  FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, s->token()->find(tmpl));
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->find) return make_error(CKR_OPERATION_ACTIVE, "a find is already active");
  s->started(OpKind::Find);
  s->find = FindState{std::move(found), 0};
  return {};
}

Result<std::vector<CK_OBJECT_HANDLE>> Hsm::find_next(CK_SESSION_HANDLE h, CK_ULONG max) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->find) return s->not_active(OpKind::Find, "C_FindObjectsInit was not called");
  FindState& f = *s->find;
  size_t n = std::min<size_t>(max, f.handles.size() - f.pos);
  std::vector<CK_OBJECT_HANDLE> out(f.handles.begin() + static_cast<long>(f.pos),
                                    f.handles.begin() + static_cast<long>(f.pos + n));
  f.pos += n;
  return out;
}

Status Hsm::find_final(CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->find) return s->not_active(OpKind::Find, "C_FindObjectsInit was not called");
  s->find.reset();
  return {};
}

}  // namespace ferrohsm
