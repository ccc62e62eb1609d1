#include "base/pkcs11_library.h"

#include "base/names.h"

namespace ferrohsm {
namespace {

CK_INTERFACE* interface_of(CK_C_GetInterface get_interface, CK_VERSION* version) {
  static CK_UTF8CHAR kName[] = "PKCS 11";
  CK_INTERFACE* iface = nullptr;
  if (get_interface(kName, version, &iface, 0) != CKR_OK || iface == nullptr || iface->pFunctionList == nullptr)
    return nullptr;
  return iface;
}

}  // namespace

Result<Pkcs11Library> load_pkcs11_library(const std::string& path, int dlopen_flags) {
  Pkcs11Library lib;
  lib.path = path;
  lib.handle = dlopen(path.c_str(), dlopen_flags);
  if (lib.handle == nullptr) {
    const char* why = dlerror();
    return make_error(CKR_GENERAL_ERROR, "cannot load PKCS#11 library " + path + ": " + (why ? why : "unknown error"));
  }
  if (auto get_interface = reinterpret_cast<CK_C_GetInterface>(dlsym(lib.handle, "C_GetInterface"))) {
    CK_INTERFACE* iface = interface_of(get_interface, nullptr);  // the library's default interface
    CK_VERSION v30{3, 0};
    if (iface != nullptr && static_cast<CK_VERSION*>(iface->pFunctionList)->major < 3) {
      if (CK_INTERFACE* v3 = interface_of(get_interface, &v30)) iface = v3;  // prefer 3.0 when offered too
    }
    if (iface != nullptr) {
      lib.via_interface = true;
      lib.functions = static_cast<CK_FUNCTION_LIST*>(iface->pFunctionList);
      lib.version = lib.functions->version;
      if (lib.version.major >= 3) lib.functions_3_0 = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
      return lib;
    }
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(lib.handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    dlclose(lib.handle);
    return make_error(CKR_GENERAL_ERROR,
                      "PKCS#11 library " + path + " exports neither C_GetInterface nor C_GetFunctionList");
  }
  CK_RV rv = get_list(&lib.functions);
  if (rv != CKR_OK || lib.functions == nullptr) {
    dlclose(lib.handle);
    return make_error(rv == CKR_OK ? CKR_GENERAL_ERROR : rv,
                      "C_GetFunctionList of " + path + " failed: " + rv_name(rv));
  }
  lib.version = lib.functions->version;
  if (lib.version.major >= 3) lib.version = CK_VERSION{2, 40};  // a 2.40 layout, whatever it claims
  return lib;
}

}  // namespace ferrohsm
