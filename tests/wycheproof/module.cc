#include "module.h"

#include "base/pkcs11_library.h"

#include <dlfcn.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace wycheproof {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSoPin = "wycheproof-so-1";
constexpr const char* kUserPin = "wycheproof-user-1";

CK_UTF8CHAR_PTR u8(const char* s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s)); }

struct Loaded {
  void* dl = nullptr;
  std::string dir;
  Session s;
  std::string error;
  CK_FUNCTION_LIST_3_0* initialized = nullptr;
  pid_t server = -1;

  Loaded() {
    char tmpl[] = "/tmp/ferrohsm-wycheproof-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = tmpl;
    const std::string conf = dir + "/ferrohsm.toml";
    const std::string store = "[store]\npath = \"" + dir + "/ferrohsm.db\"\n\n[log]\nlevel = \"error\"\n\n"
                              "[pin]\nkdf_iterations = 1000\n\n[dev]\nallow_weak_kdf = true\n\n"
                              // Test-vector keys are imported once for every purpose (import_secret):
                              // the hardening rules (docs/HARDENING.md) are hardening_test.cc's subject.
                              "[hardening]\nwrap_xor_decrypt = false\nconflicting_usages = false\n";
    const char* flavor = std::getenv("FERROHSM_TEST_FLAVOR");
    if (flavor != nullptr && std::strcmp(flavor, "sidecar") == 0) {
      // Sidecar mode: a ferrohsm-server serves the store; the module only names it.
      const std::string socket = dir + "/ferrohsm.sock";
      std::ofstream(dir + "/server.toml") << "[server]\nlisten = [\"unix:" << socket << "\"]\n\n[[access]]\npeer = \"uid:"
                                          << ::getuid() << "\"\ntokens = [\"*\"]\nadmin = true\n\n"
                                          << store;
      std::ofstream(conf) << "mode = \"sidecar\"\n[sidecar]\nendpoints = [\"unix:" << socket << "\"]\n";
      if (!start_server(dir + "/server.toml", socket)) return;
    } else {
      std::ofstream(conf) << store;
    }
    setenv("FERROHSM_CONF", conf.c_str(), 1);
    auto lib = ferrohsm::load_pkcs11_library(FERROHSM_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!lib.ok() || lib->functions_3_0 == nullptr) {
      error = lib.ok() ? "the module offers no PKCS#11 3.0 interface" : lib.error().message;
      return;
    }
    dl = lib->handle;
    auto* f = lib->functions_3_0;
    if (step(f->C_Initialize(nullptr), "C_Initialize")) return;
    initialized = f;
    CK_ULONG n = 0;
    if (step(f->C_GetSlotList(CK_FALSE, nullptr, &n), "C_GetSlotList") || n == 0) return;
    std::vector<CK_SLOT_ID> slots(n);
    if (step(f->C_GetSlotList(CK_FALSE, slots.data(), &n), "C_GetSlotList")) return;
    CK_UTF8CHAR label[32];
    std::memset(label, ' ', sizeof label);
    std::memcpy(label, "wycheproof", 10);
    if (step(f->C_InitToken(slots[0], u8(kSoPin), std::strlen(kSoPin), label), "C_InitToken")) return;
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    if (step(f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h), "C_OpenSession") ||
        step(f->C_Login(h, CKU_SO, u8(kSoPin), std::strlen(kSoPin)), "SO login") ||
        step(f->C_InitPIN(h, u8(kUserPin), std::strlen(kUserPin)), "C_InitPIN") ||
        step(f->C_Logout(h), "C_Logout") ||
        step(f->C_Login(h, CKU_USER, u8(kUserPin), std::strlen(kUserPin)), "user login"))
      return;
    s.f = f;
    s.h = h;
  }

  bool start_server(const std::string& config, const std::string& socket) {
    std::string path = FERROHSM_SERVER_PATH;
    std::string flag = "--config";
    char* argv[] = {path.data(), flag.data(), const_cast<char*>(config.c_str()), nullptr};
    if (posix_spawn(&server, path.c_str(), nullptr, nullptr, argv, environ) != 0) {
      server = -1;
      error = "cannot start " + path;
      return false;
    }
    for (int i = 0; i < 1000; ++i) {  // bounded: 10 s
      if (fs::exists(socket)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    error = "ferrohsm-server did not listen within 10 s";
    return false;
  }

  ~Loaded() {
    if (initialized != nullptr) initialized->C_Finalize(nullptr);
    if (server > 0) {
      ::kill(server, SIGTERM);
      int status = 0;
      ::waitpid(server, &status, 0);
    }
    // The module stays mapped: threads or atexit handlers of it may still run.
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }

  bool step(CK_RV rv, const char* what) {
    if (rv == CKR_OK) return false;
    error = std::string(what) + " returned " + rv_name(rv);
    return true;
  }
};

}  // namespace

const Session& module_session(std::string& error) {
  static Loaded loaded;
  error = loaded.error;
  return loaded.s;
}

}  // namespace wycheproof
