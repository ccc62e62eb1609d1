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
    FH_TRY(h->session_slot(hSession));
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
    FH_TRY(h->session_slot(hSession));
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

CK_RV fh_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                             CK_ULONG ulCount) {
  return guard("C_GetAttributeValue", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pTemplate);
    return h->get_attributes(hSession, hObject, std::span<CK_ATTRIBUTE>(pTemplate, ulCount));
  });
}

CK_RV fh_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                             CK_ULONG ulCount) {
  return guard("C_SetAttributeValue", [&]() -> Status {
    FH_HSM(h);
    FH_NOT_NULL(pTemplate);
    FH_TRY(h->session_slot(hSession));
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, parse_template(pTemplate, ulCount));
    return h->set_attributes(hSession, hObject, tmpl);
  });
}

CK_RV fh_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount) {
  return guard("C_FindObjectsInit", [&]() -> Status {
    FH_HSM(h);
    if (pTemplate == nullptr && ulCount != 0) return make_error(CKR_ARGUMENTS_BAD, "pTemplate is NULL");
    FH_TRY(h->session_slot(hSession));
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
