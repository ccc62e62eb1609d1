#include "common/module.h"

#include "common/fixed_keys.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace ferrohsm::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr char kSoPin[] = "fuzz-so-pin";
const std::vector<uint8_t> kP256Params = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const std::vector<uint8_t> kEd25519Params = {0x06, 0x03, 0x2b, 0x65, 0x70};
const std::vector<uint8_t> kX25519Params = {0x06, 0x03, 0x2b, 0x65, 0x6e};
constexpr char kUserPin[] = "fuzz-user-pin";

CK_UTF8CHAR_PTR u8(const char* s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s)); }

void ok(CK_RV rv, const char* what) {
  if (rv != CKR_OK) fail(what, rv);
}

constexpr char kDirPrefix[] = "ferrohsm-fuzz-";

// The store directories of earlier runs whose process is gone: a crash (a finding)
// or a kill skips the exit handler that removes them.
void remove_stale_dirs(const std::string& base) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + sizeof kDirPrefix - 1, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

// /dev/shm when there is one: token objects are written with fsync, which costs
// nothing there. Named after the process; removed at exit.
std::string make_store_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : (tmp != nullptr && *tmp ? tmp : "/tmp");
  remove_stale_dirs(base);
  std::string templ = base + "/" + kDirPrefix + std::to_string(getpid()) + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) fail("mkdtemp", CKR_GENERAL_ERROR);
  return templ;
}

std::string g_store_dir;

void remove_store() {
  // C_Finalize first: it closes the database before its directory goes.
  CK_INTERFACE_PTR iface = nullptr;
  if (C_GetInterface(nullptr, nullptr, &iface, 0) == CKR_OK)
    static_cast<CK_FUNCTION_LIST_PTR>(iface->pFunctionList)->C_Finalize(nullptr);
  std::error_code ec;
  if (!g_store_dir.empty()) fs::remove_all(g_store_dir, ec);
}

CK_FUNCTION_LIST_3_0* interface_30() {
  CK_VERSION v{3, 0};
  CK_INTERFACE_PTR iface = nullptr;
  ok(C_GetInterface(u8("PKCS 11"), &v, &iface, 0), "C_GetInterface");
  return static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
}

struct Attr {
  CK_ATTRIBUTE_TYPE type;
  std::vector<uint8_t> v;
};
Attr b(CK_ATTRIBUTE_TYPE t, bool v) { return {t, {static_cast<uint8_t>(v)}}; }
Attr ul(CK_ATTRIBUTE_TYPE t, CK_ULONG v) {
  std::vector<uint8_t> out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return {t, out};
}
std::vector<CK_ATTRIBUTE> ck(std::vector<Attr>& a) {
  std::vector<CK_ATTRIBUTE> out;
  for (Attr& x : a) out.push_back({x.type, x.v.data(), static_cast<CK_ULONG>(x.v.size())});
  return out;
}
std::vector<uint8_t> counting(size_t n, uint8_t from) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(from + i);
  return v;
}

// Every usage a key of that class may have, extractable and not sensitive, so that
// a mechanism is refused for its parameters rather than for the key's flags.
std::vector<Attr> usage_secret() {
  return {b(CKA_TOKEN, false), b(CKA_SENSITIVE, false), b(CKA_EXTRACTABLE, true), b(CKA_ENCRYPT, true),
          b(CKA_DECRYPT, true), b(CKA_SIGN, true),       b(CKA_VERIFY, true),      b(CKA_WRAP, true),
          b(CKA_UNWRAP, true),  b(CKA_DERIVE, true)};
}

}  // namespace

void fail(const char* what, CK_RV rv) {
  std::fprintf(stderr, "fuzz harness: %s failed: CK_RV 0x%lx\n", what, static_cast<unsigned long>(rv));
  std::fflush(stderr);
  std::abort();
}

Module& Module::get() {
  static Module* m = new Module();  // lives until exit; remove_store() finalises
  return *m;
}

Module::Module() : f((g_store_dir = make_store_dir(), interface_30())) {
  const std::string conf = g_store_dir + "/ferrohsm.toml";
  // Every call's message is formatted (debug level) and dropped, unless FERROHSM_FUZZ_LOG
  // names a file for it (to see what the module answered to the seeds).
  const char* log = std::getenv("FERROHSM_FUZZ_LOG");
  std::ofstream(conf) << "[store]\npath = \"" << g_store_dir << "/ferrohsm.db\"\n"
                      << "[log]\nlevel = \"debug\"\ndestination = \"" << (log != nullptr ? log : "/dev/null") << "\"\n"
                      << "[pin]\nkdf_iterations = 1\n[dev]\nallow_weak_kdf = true\n"
                      // The harnesses' keys do everything (wrap and decrypt, sign and
                      // derive); the hardening rules are tests/abi/hardening_test.cc's subject.
                      << "[hardening]\nwrap_xor_decrypt = false\nsticky_attributes = false\n"
                         "no_weaker_wrapping = false\nuntrusted_unwrapped = false\nconflicting_usages = false\n";
  setenv("FERROHSM_CONF", conf.c_str(), 1);
  ok(f->C_Initialize(nullptr), "C_Initialize");
  std::atexit(remove_store);

  CK_ULONG n = 1;
  ok(f->C_GetSlotList(CK_TRUE, &slot_, &n), "C_GetSlotList");
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof label);
  std::memcpy(label, "fuzz", 4);
  ok(f->C_InitToken(slot_, u8(kSoPin), std::strlen(kSoPin), label), "C_InitToken");
  ok(f->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &base_), "C_OpenSession");
  ok(f->C_Login(base_, CKU_SO, u8(kSoPin), std::strlen(kSoPin)), "C_Login(SO)");
  ok(f->C_InitPIN(base_, u8(kUserPin), std::strlen(kUserPin)), "C_InitPIN");
  ok(f->C_Logout(base_), "C_Logout");
  ok(f->C_Login(base_, CKU_USER, u8(kUserPin), std::strlen(kUserPin)), "C_Login(USER)");

  ok(f->C_GetMechanismList(slot_, nullptr, &n), "C_GetMechanismList");
  mechs_.resize(n);
  ok(f->C_GetMechanismList(slot_, mechs_.data(), &n), "C_GetMechanismList");
  mechs_.resize(n);
  for (CK_MECHANISM_TYPE t : mechs_) {
    CK_MECHANISM_INFO info{};
    ok(f->C_GetMechanismInfo(slot_, t, &info), "C_GetMechanismInfo");
    mech_flags_.push_back(info.flags);
  }
  make_keys();
  baseline_ = count_objects();
}

void Module::make_keys() {
  struct Secret {
    KeyId id;
    CK_KEY_TYPE type;
    size_t len;
  };
  for (const Secret& s : {Secret{kAes128, CKK_AES, 16}, Secret{kAes256, CKK_AES, 32},
                          Secret{kGenericSecret, CKK_GENERIC_SECRET, 32}, Secret{kDes3, CKK_DES3, 24},
                          Secret{kChaCha20, CKK_CHACHA20, 32}}) {
    std::vector<Attr> a = usage_secret();
    a.push_back(ul(CKA_CLASS, CKO_SECRET_KEY));
    a.push_back(ul(CKA_KEY_TYPE, s.type));
    a.push_back({CKA_VALUE, counting(s.len, static_cast<uint8_t>(0x10 * s.id))});
    auto t = ck(a);
    ok(f->C_CreateObject(base_, t.data(), t.size(), &keys_[s.id]), "C_CreateObject(secret key)");
  }

  // The key pairs, imported from fixed_keys() (so that every run is the same).
  const FixedKeys& fk = fixed_keys();
  auto create = [&](std::vector<Attr> a, KeyId id) {
    a.push_back(b(CKA_TOKEN, false));
    auto t = ck(a);
    ok(f->C_CreateObject(base_, t.data(), t.size(), &keys_[id]), "C_CreateObject(key pair)");
  };
  const Attr pub = ul(CKA_CLASS, CKO_PUBLIC_KEY), priv = ul(CKA_CLASS, CKO_PRIVATE_KEY);
  const Attr sensitive = b(CKA_SENSITIVE, false), extractable = b(CKA_EXTRACTABLE, true);
  create({pub, ul(CKA_KEY_TYPE, CKK_RSA), {CKA_MODULUS, fk.n}, {CKA_PUBLIC_EXPONENT, fk.e}, b(CKA_VERIFY, true),
          b(CKA_ENCRYPT, true), b(CKA_WRAP, true), b(CKA_VERIFY_RECOVER, true)},
         kRsaPublic);
  create({priv, ul(CKA_KEY_TYPE, CKK_RSA), {CKA_MODULUS, fk.n}, {CKA_PUBLIC_EXPONENT, fk.e},
          {CKA_PRIVATE_EXPONENT, fk.d}, {CKA_PRIME_1, fk.p}, {CKA_PRIME_2, fk.q}, {CKA_EXPONENT_1, fk.dp},
          {CKA_EXPONENT_2, fk.dq}, {CKA_COEFFICIENT, fk.qinv}, b(CKA_SIGN, true), b(CKA_DECRYPT, true),
          b(CKA_UNWRAP, true), b(CKA_SIGN_RECOVER, true), sensitive, extractable},
         kRsaPrivate);
  struct Curve {
    KeyId pub;
    CK_KEY_TYPE type;
    std::vector<uint8_t> params, point, value;
  };
  for (const Curve& c : {Curve{kP256Public, CKK_EC, kP256Params, fk.p256_point, fk.p256_value},
                         Curve{kEd25519Public, CKK_EC_EDWARDS, kEd25519Params, fk.ed25519_point, fk.ed25519_value},
                         Curve{kX25519Public, CKK_EC_MONTGOMERY, kX25519Params, fk.x25519_point, fk.x25519_value}}) {
    const bool agree = c.type != CKK_EC_EDWARDS, signs = c.type != CKK_EC_MONTGOMERY;
    std::vector<Attr> pa = {pub, ul(CKA_KEY_TYPE, c.type), {CKA_EC_PARAMS, c.params}, {CKA_EC_POINT, c.point}};
    std::vector<Attr> sa = {priv, ul(CKA_KEY_TYPE, c.type), {CKA_EC_PARAMS, c.params}, {CKA_VALUE, c.value},
                            sensitive, extractable};
    if (signs) pa.push_back(b(CKA_VERIFY, true)), sa.push_back(b(CKA_SIGN, true));
    if (agree) sa.push_back(b(CKA_DERIVE, true));
    create(pa, c.pub);
    create(sa, static_cast<KeyId>(c.pub + 1));
  }

  std::vector<Attr> data = {ul(CKA_CLASS, CKO_DATA), b(CKA_TOKEN, false)};
  auto t = ck(data);
  ok(f->C_CreateObject(base_, t.data(), t.size(), &keys_[kDestroyedHandle]), "C_CreateObject(data)");
  ok(f->C_DestroyObject(base_, keys_[kDestroyedHandle]), "C_DestroyObject(data)");
  keys_[kInvalidHandle] = CK_INVALID_HANDLE;
}

CK_ULONG Module::count_objects() const {
  ok(f->C_FindObjectsInit(base_, nullptr, 0), "C_FindObjectsInit");
  CK_OBJECT_HANDLE found[256];
  CK_ULONG total = 0, n = 0;
  do {
    ok(f->C_FindObjects(base_, found, std::size(found), &n), "C_FindObjects");
    total += n;
  } while (n != 0);
  ok(f->C_FindObjectsFinal(base_), "C_FindObjectsFinal");
  return total;
}

CK_SESSION_HANDLE Module::open_session() {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ok(f->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
  return s;
}

void Module::end_iteration(CK_SESSION_HANDLE s, const std::vector<CK_OBJECT_HANDLE>& created) {
  for (CK_OBJECT_HANDLE h : created) {
    if (h == CK_INVALID_HANDLE) continue;
    // A session object with CKA_DESTROYABLE = false goes with its session (counted below).
    const CK_RV rv = f->C_DestroyObject(s, h);
    if (rv != CKR_OK && rv != CKR_ACTION_PROHIBITED) fail("C_DestroyObject of an object the iteration created", rv);
  }
  ok(f->C_CloseSession(s), "C_CloseSession");
  if (count_objects() != baseline_) fail("the object count after the iteration (an object outlived it)", CKR_OK);
}

CK_MECHANISM_TYPE Module::mechanism(uint64_t v, CK_FLAGS flags) const {
  for (CK_MECHANISM_TYPE t : mechs_)
    if (t == v) return t;  // any listed mechanism, even one that does not fit the call
  auto fits = [&](size_t i) { return flags == 0 || (mech_flags_[i] & flags) != 0; };
  size_t n = 0;
  for (size_t i = 0; i < mechs_.size(); ++i) n += fits(i);
  if (n == 0) return static_cast<CK_MECHANISM_TYPE>(v);
  size_t k = v % n;
  for (size_t i = 0; i < mechs_.size(); ++i)
    if (fits(i) && k-- == 0) return mechs_[i];
  return mechs_[0];
}

}  // namespace ferrohsm::fuzz
