// The PKCS#11 side of the benchmark: a module loaded by path with dlopen and reached
// only through C_GetFunctionList, plus the few helpers every suite needs (find a
// token by label, open a logged-in session, build attribute templates). Works with
// any PKCS#11 2.40/3.0 library; nothing here knows FerroHSM.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <string>
#include <vector>

namespace p11bench {

struct Module {
  void* dl = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
};

// dlopen + C_GetFunctionList; then C_Initialize (OS locking). Exit with a message on failure.
Module open_library(const std::string& path);
void initialize(const Module& m);
inline Module load_module(const std::string& path) {
  Module m = open_library(path);
  initialize(m);
  return m;
}
void unload_module(Module& m);

// "CKR_… (0x…)" for the few codes worth naming, hex otherwise.
std::string rv_name(CK_RV rv);
// Exits the process with `what` and the code when rv != CKR_OK.
void check(CK_RV rv, const char* what);

// The slot whose token carries `label` (blank-padded comparison); -1 when none.
long find_slot(const Module& m, const std::string& label);
// A slot whose token is not initialised yet; -1 when none.
long free_slot(const Module& m);

// The user PIN (or SO PIN with so=true): from the file named by --pin-file, else from
// env BENCH_PIN / BENCH_SO_PIN. Never printed.
std::string read_pin(const std::string& pin_file, bool so);

CK_SESSION_HANDLE open_session(const Module& m, CK_SLOT_ID slot);
void login_user(const Module& m, CK_SESSION_HANDLE s, const std::string& pin);

// An attribute template whose values live inside the object.
class Template {
 public:
  Template& add(CK_ATTRIBUTE_TYPE t, const void* p, size_t n);
  Template& flag(CK_ATTRIBUTE_TYPE t, bool v);
  Template& ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v);
  Template& bytes(CK_ATTRIBUTE_TYPE t, const std::string& v) { return add(t, v.data(), v.size()); }
  CK_ATTRIBUTE* data();
  CK_ULONG size() const { return static_cast<CK_ULONG>(types_.size()); }

 private:
  std::vector<CK_ATTRIBUTE_TYPE> types_;
  std::vector<std::vector<uint8_t>> values_;
  std::vector<CK_ATTRIBUTE> attrs_;
};

// The first object matching `t` (CK_INVALID_HANDLE when none).
CK_OBJECT_HANDLE find_one(const Module& m, CK_SESSION_HANDLE s, Template& t);
// Every object matching `t`, at most `limit`.
std::vector<CK_OBJECT_HANDLE> find_all(const Module& m, CK_SESSION_HANDLE s, Template& t, size_t limit);

// DER OIDs of the curves the benchmark uses (CKA_EC_PARAMS).
extern const std::string kP256Oid;
extern const std::string kP384Oid;
extern const std::string kEd25519Oid;

}  // namespace p11bench
