// Objects: create, copy, destroy, size, attributes and find.
#include "base/names.h"
#include "core/object_policy.h"
#include "pkcs11/args.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"

#include <cstring>

using namespace ferrohsm;
using p11::guard;

CK_RV fh_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                        CK_OBJECT_HANDLE_PTR phObject) {
  return guard("C_CreateObject", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pTemplate);
    FH_NOT_NULL(phObject);
    FH_TRY(h->session(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulCount));
    FH_ASSIGN_OR_RETURN(*phObject, h->create_object(hSession, tmpl));
    return {};
  });
}

CK_RV fh_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                      CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject) {
  return guard("C_CopyObject", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(phNewObject);
    if (pTemplate == nullptr && ulCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulCount));
    FH_ASSIGN_OR_RETURN(*phNewObject, h->copy_object(hSession, hObject, tmpl));
    return {};
  });
}

CK_RV fh_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject) {
  return guard("C_DestroyObject", [&]() -> Status {
    FH_HSM(h);
    return h->destroy_object(hSession, hObject);
  });
}

CK_RV fh_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize) {
  return guard("C_GetObjectSize", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pulSize);
    FH_ASSIGN_OR_RETURN(*pulSize, h->object_size(hSession, hObject));
    return {};
  });
}

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

CK_RV fh_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                             CK_ULONG ulCount) {
  return guard("C_GetAttributeValue", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pTemplate);
    FH_ASSIGN_OR_RETURN(ObjectPtr obj, h->object(hSession, hObject));
    const AttrMap& attrs = obj->attrs();
    bool sensitive = false, invalid = false, small = false;
    for (CK_ULONG i = 0; i < ulCount; ++i) {
      CK_ATTRIBUTE& a = pTemplate[i];
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
  });
}

CK_RV fh_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                             CK_ULONG ulCount) {
  return guard("C_SetAttributeValue", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pTemplate);
    FH_TRY(h->session(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulCount));
    return h->set_attributes(hSession, hObject, tmpl);
  });
}

CK_RV fh_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount) {
  return guard("C_FindObjectsInit", [&]() -> Status {
    FH_HSM(h);
    if (pTemplate == nullptr && ulCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session(hSession));
    auto tmpl = parse_template(pTemplate, ulCount);
    if (!tmpl.ok()) {
      // An attribute FerroHSM does not know matches no object.
      if (tmpl.rv() != CKR_ATTRIBUTE_TYPE_INVALID && tmpl.rv() != CKR_ATTRIBUTE_VALUE_INVALID) return tmpl.error();
      AttrMap none;
      none.set_ulong(CKA_CLASS, CK_UNAVAILABLE_INFORMATION);
      return h->find_init(hSession, none);
    }
    return h->find_init(hSession, *tmpl);
  });
}

CK_RV fh_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                       CK_ULONG_PTR pulObjectCount) {
  return guard("C_FindObjects", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(phObject);
    FH_NOT_NULL(pulObjectCount);
    FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, h->find_next(hSession, ulMaxObjectCount));
    std::copy(found.begin(), found.end(), phObject);
    *pulObjectCount = found.size();
    return {};
  });
}

CK_RV fh_C_FindObjectsFinal(CK_SESSION_HANDLE hSession) {
  return guard("C_FindObjectsFinal", [&]() -> Status {
    FH_HSM(h);
    return h->find_final(hSession);
  });
}
