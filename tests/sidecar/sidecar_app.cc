// sidecar-app: a PKCS#11 application for the sidecar tests, run as a child process. It
// dlopens the module, initialises it with the given configuration (pReserved
// "ferrohsm_conf=…") and reports on stdout, one line at a time, for the test to read:
//
//   sidecar-app MODULE CONF hold LABEL        log in, print "ready", wait (≤ 60 s)
//   sidecar-app MODULE CONF sign-loop LABEL   log in, print "ready", sign and verify
//                                             until killed (≤ 60 s, ≤ 10^6 signatures)
//   sidecar-app MODULE CONF together LABEL N  log in, print "ready", wait for a line (or
//                                             end of file) on stdin, then N rounds of
//                                             sign+verify and a digest checked against
//                                             OpenSSL, each on data of its own; "ok N"
//   sidecar-app MODULE CONF slots             print "slots <CKR_…> <count>" (C_GetSlotList)
//
// A failure prints "FAIL <step> <CKR_…>" and exits 2.
#include "base/names.h"
#include "p11_ops.h"

#include <openssl/sha.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace ferrohsm;
using namespace ferrohsm::sidecar_test;

namespace {

constexpr auto kLifetime = std::chrono::seconds(60);  // no helper outlives a lost test

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int fail(const char* step, CK_RV rv) {
  say(std::string("FAIL ") + step + " " + rv_name(rv));
  return 2;
}

// Waits for a line or end of file on stdin, at most `limit`.
void wait_for_go(std::chrono::milliseconds limit) {
  pollfd p{0, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(limit.count()));
}

int run(int argc, char** argv) {
  if (argc < 4) return 3;
  const std::string command = argv[3];
  CK_FUNCTION_LIST_3_0* f = load_module(argv[1]);
  CK_RV rv = initialize(f, argv[2]);
  if (rv != CKR_OK) return fail("C_Initialize", rv);
  if (command == "slots") {
    CK_ULONG n = 99;
    const CK_RV rv = f->C_GetSlotList(CK_FALSE, nullptr, &n);
    say(std::string("slots ") + rv_name(rv) + " " + std::to_string(n));
    return 0;
  }
  if (argc < 5) return 3;
  const std::string label = argv[4];
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if ((rv = open_and_login(f, label, s)) != CKR_OK) return fail("login", rv);
  say("ready");
  const auto end = std::chrono::steady_clock::now() + kLifetime;
  if (command == "hold") {
    while (std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
  }
  if (command == "sign-loop") {
    for (int i = 0; i < 1'000'000 && std::chrono::steady_clock::now() < end; ++i)
      if ((rv = sign_and_verify(f, s, "loop " + std::to_string(i))) != CKR_OK) return fail("sign", rv);
    return 0;
  }
  if (command == "together" && argc >= 6) {
    const int rounds = std::atoi(argv[5]);
    wait_for_go(std::chrono::duration_cast<std::chrono::milliseconds>(kLifetime));
    for (int i = 0; i < rounds; ++i) {
      const std::string data = "process " + std::to_string(::getpid()) + " round " + std::to_string(i);
      if ((rv = sign_and_verify(f, s, data)) != CKR_OK) return fail("sign", rv);
      std::vector<unsigned char> got;
      if ((rv = digest(f, s, data, got)) != CKR_OK) return fail("digest", rv);
      unsigned char want[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), want);
      if (got != std::vector<unsigned char>(want, want + sizeof want)) return fail("digest-compare", CKR_GENERAL_ERROR);
    }
    if ((rv = f->C_Finalize(nullptr)) != CKR_OK) return fail("C_Finalize", rv);
    say("ok " + std::to_string(rounds));
    return 0;
  }
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  int code = run(argc, argv);
  if (code == 3) std::fprintf(stderr, "usage: sidecar-app MODULE CONF hold|sign-loop|together|slots [LABEL [N]]\n");
  return code;
}
