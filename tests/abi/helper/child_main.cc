// abi_child_helper: a second process on the same store, for the multi-process tests.
//
//   abi_child_helper <module.so> create <token-label> <label>
//       logs in as user, creates one public token data object labelled <label>.
//   abi_child_helper <module.so> churn <token-label> <label> <millis>
//       for <millis> ms (at most 5000 rounds) creates and destroys token data objects,
//       checking each step; prints the number of rounds.
//   abi_child_helper <module.so> guess <token-label> <count> <start-ms>
//       opens an R/O session and, from wall-clock time <start-ms> (ms since the epoch, so
//       that several processes start together), tries <count> wrong user PINs; prints
//       "<incorrect> <locked> <other>": how many answered CKR_PIN_INCORRECT,
//       CKR_PIN_LOCKED, and anything else.
//   abi_child_helper <module.so> init-token <token-label> -
//       initialises the free slot's token with that label (SO PIN from env
//       FERROHSM_TEST_SO_PIN): a token created by another process.
//
// The token is named by its label (slot ids are the module's business; SoftHSMv2
// renumbers them per process). The module finds its config through the inherited environment (FERROHSM_CONF or
// SOFTHSM2_CONF); the user PIN comes in env FERROHSM_TEST_USER_PIN (never printed).
// Exit status: 0 success, 2 usage, 3 load failure, 4 a PKCS#11 call failed.
#include "base/pkcs11_library.h"
#include <ferrohsm/cryptoki.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

CK_FUNCTION_LIST_PTR g_f = nullptr;

bool Check(CK_RV rv, const char* what) {
  if (rv == CKR_OK) return true;
  std::fprintf(stderr, "abi_child_helper: %s returned 0x%lx\n", what,
               static_cast<unsigned long>(rv));
  return false;
}

bool CreateOne(CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE* out) {
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  const char value[] = "written by abi_child_helper";
  CK_ATTRIBUTE t[] = {
      {CKA_CLASS, &cls, sizeof cls},
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &no, sizeof no},
      {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
      {CKA_VALUE, const_cast<char*>(value), sizeof value - 1},
  };
  return Check(g_f->C_CreateObject(s, t, 5, out), "C_CreateObject");
}

// The slot whose token label (blank-padded to 32) equals `token_label`.
bool FindSlot(const std::string& token_label, CK_SLOT_ID* out) {
  CK_SLOT_ID slots[64];
  CK_ULONG n = 64;
  if (!Check(g_f->C_GetSlotList(CK_TRUE, slots, &n), "C_GetSlotList")) return false;
  std::string padded = token_label.substr(0, 32);
  padded.resize(32, ' ');
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO info{};
    if (g_f->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    if (std::memcmp(info.label, padded.data(), 32) == 0) {
      *out = slots[i];
      return true;
    }
  }
  std::fprintf(stderr, "abi_child_helper: no token with the given label\n");
  return false;
}

// Wrong user PINs from the time given; counts the answers (see the header).
int Guess(CK_SLOT_ID slot, int count, long long start_ms) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (!Check(g_f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s), "C_OpenSession")) return 4;
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(start_ms)));
  int incorrect = 0, locked = 0, other = 0;
  for (int i = 0; i < count && i < 1000; ++i) {
    std::string wrong = "wrong-pin-" + std::to_string(i);
    CK_RV rv = g_f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(wrong.data()), wrong.size());
    if (rv == CKR_PIN_INCORRECT) ++incorrect;
    else if (rv == CKR_PIN_LOCKED) ++locked;
    else ++other;
  }
  std::printf("%d %d %d\n", incorrect, locked, other);
  return 0;
}

// Initialises the first slot whose token is not initialised yet.
int InitToken(const std::string& token_label) {
  const char* so_pin = std::getenv("FERROHSM_TEST_SO_PIN");
  if (so_pin == nullptr) return 2;
  if (!Check(g_f->C_Initialize(nullptr), "C_Initialize")) return 4;
  CK_SLOT_ID slots[64];
  CK_ULONG n = 64;
  bool ok = Check(g_f->C_GetSlotList(CK_TRUE, slots, &n), "C_GetSlotList");
  bool done = false;
  for (CK_ULONG i = 0; ok && !done && i < n; ++i) {
    CK_TOKEN_INFO info{};
    if (g_f->C_GetTokenInfo(slots[i], &info) != CKR_OK || (info.flags & CKF_TOKEN_INITIALIZED)) continue;
    std::string padded = token_label.substr(0, 32);
    padded.resize(32, ' ');
    ok = Check(g_f->C_InitToken(slots[i], reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(so_pin)),
                                std::strlen(so_pin), reinterpret_cast<CK_UTF8CHAR_PTR>(padded.data())),
               "C_InitToken");
    done = true;
  }
  if (!done) std::fprintf(stderr, "abi_child_helper: no free slot\n");
  Check(g_f->C_Finalize(nullptr), "C_Finalize");
  return ok && done ? 0 : 4;
}

int Run(int argc, char** argv) {
  std::string mode = argv[2];
  if (mode == "guess") {
    if (argc < 6) return 2;
    if (!Check(g_f->C_Initialize(nullptr), "C_Initialize")) return 4;
    CK_SLOT_ID slot = 0;
    int rc = FindSlot(argv[3], &slot) ? Guess(slot, std::atoi(argv[4]), std::atoll(argv[5])) : 4;
    Check(g_f->C_Finalize(nullptr), "C_Finalize");
    return rc;
  }
  if (mode == "init-token") return InitToken(argv[3]);
  std::string label = argv[4];
  const char* pin = std::getenv("FERROHSM_TEST_USER_PIN");
  if (pin == nullptr) return 2;
  if (!Check(g_f->C_Initialize(nullptr), "C_Initialize")) return 4;
  CK_SLOT_ID slot = 0;
  if (!FindSlot(argv[3], &slot)) {
    g_f->C_Finalize(nullptr);
    return 4;
  }
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  bool ok = Check(g_f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                      nullptr, &s),
                  "C_OpenSession") &&
            Check(g_f->C_Login(s, CKU_USER,
                               reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin)),
                               std::strlen(pin)),
                  "C_Login");
  if (ok && mode == "create") {
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ok = CreateOne(s, label, &h);
  } else if (ok && mode == "churn" && argc >= 6) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atoi(argv[5]));
    int rounds = 0;
    while (ok && rounds < 5000 && std::chrono::steady_clock::now() < until) {
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      ok = CreateOne(s, label, &h) && Check(g_f->C_DestroyObject(s, h), "C_DestroyObject");
      ++rounds;
    }
    std::printf("%d\n", rounds);
  } else if (ok) {
    ok = false;
  }
  Check(g_f->C_Finalize(nullptr), "C_Finalize");
  return ok ? 0 : 4;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: abi_child_helper <module> create|churn|guess|init-token <token-label> <label>|<count> [ms]\n");
    return 2;
  }
  auto lib = ferrohsm::load_pkcs11_library(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib.ok()) return 3;
  g_f = lib->functions;
  return Run(argc, argv);
}
