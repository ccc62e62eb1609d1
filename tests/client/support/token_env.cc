// The per-process test store and token helpers.
#include "token_env.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "../fault_module/fault_control.h"

namespace fhc_test {
namespace fs = std::filesystem;
using namespace ferrohsm::client;

const char* module_kind() { return FHC_TEST_MODULE_KIND; }
std::string module_path() { return FHC_TEST_MODULE_PATH; }
std::string fault_module_path() { return FHC_FAULT_MODULE_PATH; }

namespace {

class StoreCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    if (!store_dir().empty()) fs::remove_all(store_dir(), ec);
  }
};
[[maybe_unused]] auto* const g_cleanup = ::testing::AddGlobalTestEnvironment(new StoreCleanup);

std::string make_store() {
  std::string tmpl = (fs::temp_directory_path() / "fhc-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  fs::path dir(tmpl);
  fs::create_directories(dir / "tokens");
  {
    std::ofstream conf(dir / "softhsm2.conf");
    conf << "directories.tokendir = " << (dir / "tokens").string() << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  }
  {
    std::ofstream conf(dir / "ferrohsm.toml");
    conf << "[store]\npath = \"" << (dir / "ferrohsm.db").string()
         << "\"\n[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n";
  }
  setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1);
  setenv("FERROHSM_CONF", (dir / "ferrohsm.toml").c_str(), 1);
  setenv("FERROHSM_FAULT_TARGET", module_path().c_str(), 1);
  return dir.string();
}

std::shared_ptr<Module> must_load(const std::string& path) {
  auto m = Module::load(path);
  if (!m) throw std::runtime_error(m.error().message);
  return *m;
}

template <typename R>
void must(const R& r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.error().message);
}

Session user_session(const std::string& load_path, const std::string& token_label) {
  auto module = must_load(load_path);
  auto slot = module->find_token(token_label);
  must(slot, "find_token");
  auto session = module->open_session(*slot, true);
  must(session, "open_session");
  must(session->login(CKU_USER, Secret(kUserPin)), "login");
  return std::move(session).value();
}

}  // namespace

const std::string& store_dir() {
  static const std::string dir = make_store();
  return dir;
}

void init_token(const std::string& load_path, const std::string& label) {
  store_dir();
  auto module = must_load(load_path);
  auto slots = module->slots(true);
  must(slots, "slots");
  for (CK_SLOT_ID id : *slots) {
    auto info = module->token_info(id);
    if (info.ok() && !(info->flags & CKF_TOKEN_INITIALIZED)) {
      must(module->init_token(id, Secret(kSoPin), label, Secret(kUserPin)), "init_token");
      return;
    }
  }
  throw std::runtime_error("no free slot to initialise a token on in " + load_path);
}

void generate_key(const std::string& load_path, const std::string& token_label, const std::string& label,
                  KeyType type) {
  Session s = user_session(load_path, token_label);
  CK_BBOOL yes = CK_TRUE;
  CK_ULONG bits = 2048;
  CK_BYTE exponent[] = {0x01, 0x00, 0x01};
  // DER OID of prime256v1
  CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  std::vector<CK_ATTRIBUTE> pub = {
      {CKA_TOKEN, &yes, sizeof yes}, {CKA_VERIFY, &yes, sizeof yes},
      {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  std::vector<CK_ATTRIBUTE> priv = {
      {CKA_TOKEN, &yes, sizeof yes}, {CKA_SIGN, &yes, sizeof yes}, {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  Mechanism mech;
  if (type == KeyType::rsa) {
    mech.type = CKM_RSA_PKCS_KEY_PAIR_GEN;
    pub.push_back({CKA_MODULUS_BITS, &bits, sizeof bits});
    pub.push_back({CKA_PUBLIC_EXPONENT, exponent, sizeof exponent});
  } else {
    mech.type = CKM_EC_KEY_PAIR_GEN;
    pub.push_back({CKA_EC_PARAMS, p256, sizeof p256});
  }
  must(s.generate_key_pair(mech, pub, priv), "generate_key_pair");
  (void)s.logout();
}

bool verify_with_token(const std::string& load_path, const std::string& token_label, const std::string& label,
                       CK_MECHANISM_TYPE mechanism, const Bytes& data, const Bytes& sig) {
  auto module = must_load(load_path);
  auto slot = module->find_token(token_label);
  must(slot, "find_token");
  auto session = module->open_session(*slot, false);
  must(session, "open_session");
  CK_OBJECT_CLASS klass = CKO_PUBLIC_KEY;
  CK_ATTRIBUTE templ[] = {{CKA_CLASS, &klass, sizeof klass},
                          {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  auto found = session->find(templ, 2);
  must(found, "find");
  if (found->size() != 1) throw std::runtime_error("public key not found: " + label);
  auto ok = session->verify(Mechanism{mechanism, {}}, found->front(), data, sig);
  must(ok, "verify");
  return *ok;
}

namespace {
void* fault_symbol(const char* name) {
  void* h = dlopen(fault_module_path().c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) throw std::runtime_error("fault module not loaded");
  void* sym = dlsym(h, name);
  dlclose(h);
  if (sym == nullptr) throw std::runtime_error(std::string("fault module lacks ") + name);
  return sym;
}
}  // namespace

void fault_set(const char* knob, long value) {
  reinterpret_cast<ferrohsm_fault_set_fn>(fault_symbol("ferrohsm_fault_set"))(knob, value);
}
long fault_get(const char* counter) {
  return reinterpret_cast<ferrohsm_fault_get_fn>(fault_symbol("ferrohsm_fault_get"))(counter);
}
void fault_reset() { reinterpret_cast<ferrohsm_fault_reset_fn>(fault_symbol("ferrohsm_fault_reset"))(); }
void fault_close_all() { reinterpret_cast<ferrohsm_fault_close_all_fn>(fault_symbol("ferrohsm_fault_close_all"))(); }

}  // namespace fhc_test
