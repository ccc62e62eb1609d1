#include "p11.h"

#include "base/names.h"
#include "base/pkcs11_library.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace p11bench {

const std::string kP256Oid("\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10);
const std::string kP384Oid("\x06\x05\x2b\x81\x04\x00\x22", 7);
const std::string kEd25519Oid("\x06\x03\x2b\x65\x70", 5);

Module open_library(const std::string& path) {
  auto lib = ferrohsm::load_pkcs11_library(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib.ok()) {
    std::fprintf(stderr, "p11bench: %s\n", lib.error().message.c_str());
    std::exit(2);
  }
  Module m;
  m.dl = lib->handle;
  m.f = lib->functions;
  return m;
}

void initialize(const Module& m) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  check(m.f->C_Initialize(&args), "C_Initialize");
}

void unload_module(Module& m) {
  if (m.f != nullptr) m.f->C_Finalize(nullptr);
  m.f = nullptr;
  // The library stays mapped: some modules register atexit handlers.
}

std::string rv_name(CK_RV rv) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s (0x%lx)", ferrohsm::rv_name(rv), static_cast<unsigned long>(rv));
  return buf;
}

void check(CK_RV rv, const char* what) {
  if (rv == CKR_OK) return;
  std::fprintf(stderr, "p11bench: %s failed: %s\n", what, rv_name(rv).c_str());
  std::exit(3);
}

static std::string padded(const std::string& label) {
  std::string p = label.substr(0, 32);
  p.resize(32, ' ');
  return p;
}

static std::vector<CK_SLOT_ID> slots(const Module& m) {
  CK_ULONG n = 0;
  check(m.f->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> ids(n);
  check(m.f->C_GetSlotList(CK_TRUE, ids.data(), &n), "C_GetSlotList");
  ids.resize(n);
  return ids;
}

long find_slot(const Module& m, const std::string& label) {
  const std::string want = padded(label);
  for (CK_SLOT_ID id : slots(m)) {
    CK_TOKEN_INFO ti{};
    if (m.f->C_GetTokenInfo(id, &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED)) continue;
    if (std::memcmp(ti.label, want.data(), 32) == 0) return static_cast<long>(id);
  }
  return -1;
}

long free_slot(const Module& m) {
  for (CK_SLOT_ID id : slots(m)) {
    CK_TOKEN_INFO ti{};
    if (m.f->C_GetTokenInfo(id, &ti) == CKR_OK && !(ti.flags & CKF_TOKEN_INITIALIZED)) return static_cast<long>(id);
  }
  return -1;
}

std::string read_pin(const std::string& pin_file, bool so) {
  std::string pin;
  if (!pin_file.empty() && !so) {
    std::ifstream in(pin_file);
    std::getline(in, pin);
  } else if (const char* e = std::getenv(so ? "BENCH_SO_PIN" : "BENCH_PIN")) {
    pin = e;
  }
  if (pin.empty()) {
    std::fprintf(stderr, "p11bench: no %s PIN (set %s or --pin-file)\n", so ? "SO" : "user",
                 so ? "BENCH_SO_PIN" : "BENCH_PIN");
    std::exit(2);
  }
  return pin;
}

CK_SESSION_HANDLE open_session(const Module& m, CK_SLOT_ID slot) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  check(m.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
  return s;
}

void login_user(const Module& m, CK_SESSION_HANDLE s, const std::string& pin) {
  CK_RV rv = m.f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())),
                          static_cast<CK_ULONG>(pin.size()));
  if (rv != CKR_USER_ALREADY_LOGGED_IN) check(rv, "C_Login");
}

Template& Template::add(CK_ATTRIBUTE_TYPE t, const void* p, size_t n) {
  types_.push_back(t);
  const auto* b = static_cast<const uint8_t*>(p);
  values_.emplace_back(b, b + n);
  return *this;
}

Template& Template::flag(CK_ATTRIBUTE_TYPE t, bool v) {
  CK_BBOOL b = v ? CK_TRUE : CK_FALSE;
  return add(t, &b, sizeof b);
}

Template& Template::ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) { return add(t, &v, sizeof v); }

CK_ATTRIBUTE* Template::data() {
  attrs_.clear();
  for (size_t i = 0; i < types_.size(); ++i)
    attrs_.push_back(CK_ATTRIBUTE{types_[i], values_[i].empty() ? nullptr : values_[i].data(),
                                  static_cast<CK_ULONG>(values_[i].size())});
  return attrs_.data();
}

std::vector<CK_OBJECT_HANDLE> find_all(const Module& m, CK_SESSION_HANDLE s, Template& t, size_t limit) {
  std::vector<CK_OBJECT_HANDLE> out;
  check(m.f->C_FindObjectsInit(s, t.data(), t.size()), "C_FindObjectsInit");
  CK_OBJECT_HANDLE buf[1024];
  while (out.size() < limit) {
    CK_ULONG n = 0;
    CK_ULONG want = static_cast<CK_ULONG>(std::min<size_t>(1024, limit - out.size()));
    check(m.f->C_FindObjects(s, buf, want, &n), "C_FindObjects");
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  check(m.f->C_FindObjectsFinal(s), "C_FindObjectsFinal");
  return out;
}

CK_OBJECT_HANDLE find_one(const Module& m, CK_SESSION_HANDLE s, Template& t) {
  auto v = find_all(m, s, t, 1);
  return v.empty() ? CK_INVALID_HANDLE : v[0];
}

}  // namespace p11bench
