// cluster-app: a PKCS#11 application of the cluster tests, run as a child process with
// the module in sidecar mode and an endpoint list. One line per event on stdout:
//
//   cluster-app MODULE CONF load TOKEN NAME ROUNDS SECONDS
//       log in, print "ready", wait for a line (or end of file) on stdin, then at most
//       ROUNDS rounds within SECONDS: create a token data object labelled NAME-<i>
//       ("created NAME-<i>" when C_CreateObject answered CKR_OK, "unknown NAME-<i>" when
//       the connection was lost during it), find it by label (exactly one), sign and
//       verify with the token's key, and in even rounds destroy it ("destroyed NAME-<i>",
//       or "destroy-unknown NAME-<i>"). CKR_DEVICE_ERROR (the server lost PostgreSQL; a
//       creation or destruction it cut off has an unknown outcome) prints "store-error
//       <step>" and goes on with the next round on the same session. A lost server
//       (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID) prints "lost <CKR_…>"; the
//       application then opens a new session and logs in (the library connects to the
//       next endpoint), printing "reopened". At the end: "done <rounds>".
//   cluster-app MODULE CONF create-each TOKEN NAME N
//       log in, then N times, 100 ms apart: create NAME-<i> and print "created NAME-<i> <ns>",
//       <ns> the steady clock (CLOCK_MONOTONIC, the same in every process) at the return.
//
// Anything else failing prints "FAIL <step> <CKR_…>" and exits 2.
#include "base/names.h"
#include "p11_ops.h"

#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

using namespace ferrohsm;
using namespace ferrohsm::sidecar_test;

namespace {

constexpr auto kLifetime = std::chrono::seconds(90);  // no helper outlives a lost test
constexpr char kApplication[] = "cluster-load";

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int fail(const std::string& step, CK_RV rv) {
  say("FAIL " + step + " " + rv_name(rv));
  return 2;
}

bool is_lost(CK_RV rv) { return rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID; }

// A read-write session on `token`, logged in as the user.
CK_RV open_rw(CK_FUNCTION_LIST_3_0* f, const std::string& token, CK_SESSION_HANDLE& s) {
  CK_SLOT_ID slot = 0;
  CK_RV rv = find_slot(f, token, slot);
  if (rv != CKR_OK) return rv;
  if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s)) != CKR_OK) return rv;
  rv = f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(kUserPin)), std::strlen(kUserPin));
  return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

// Again, until a server answers (the library tries the next endpoint at most every 200 ms).
CK_RV reopen(CK_FUNCTION_LIST_3_0* f, const std::string& token, CK_SESSION_HANDLE& s) {
  CK_RV rv = CKR_GENERAL_ERROR;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < end) {
    if ((rv = open_rw(f, token, s)) == CKR_OK) return rv;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return rv;
}

CK_RV create(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE& h) {
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  const unsigned char value[16] = {'c', 'l', 'u', 's', 't', 'e', 'r'};
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                      {CKA_TOKEN, &yes, sizeof yes},
                      {CKA_PRIVATE, &no, sizeof no},
                      {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
                      {CKA_APPLICATION, const_cast<char*>(kApplication), std::strlen(kApplication)},
                      {CKA_VALUE, const_cast<unsigned char*>(value), sizeof value}};
  return f->C_CreateObject(s, t, 6, &h);
}

CK_RV find_one(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& label, CK_ULONG& found) {
  CK_ATTRIBUTE t[] = {{CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_RV rv = f->C_FindObjectsInit(s, t, 1);
  if (rv != CKR_OK) return rv;
  CK_OBJECT_HANDLE h[2];
  found = 0;
  rv = f->C_FindObjects(s, h, 2, &found);
  CK_RV fin = f->C_FindObjectsFinal(s);
  return rv != CKR_OK ? rv : fin;
}

int load(CK_FUNCTION_LIST_3_0* f, const std::string& token, const std::string& name, int rounds, int seconds) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = open_rw(f, token, s);
  if (rv != CKR_OK) return fail("login", rv);
  say("ready");
  pollfd p{0, POLLIN, 0};
  ::poll(&p, 1, 60'000);
  const auto end = std::chrono::steady_clock::now() + std::min(kLifetime, std::chrono::seconds(seconds));
  int i = 0;
  for (; i < rounds && std::chrono::steady_clock::now() < end; ++i) {
    const std::string label = name + "-" + std::to_string(i);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    std::string step = "create";
    rv = create(f, s, label, h);
    if (rv == CKR_OK) say("created " + label);
    else if (is_lost(rv) || rv == CKR_DEVICE_ERROR) say("unknown " + label);
    if (rv == CKR_OK) {
      step = "find";
      rv = find_one(f, s, label, found);
      if (rv == CKR_OK && found != 1) return fail("find-count-" + std::to_string(found), CKR_GENERAL_ERROR);
    }
    if (rv == CKR_OK) {
      step = "sign";
      rv = sign_and_verify(f, s, "round " + std::to_string(i) + " of " + name);
    }
    if (rv == CKR_OK && i % 2 == 0) {
      step = "destroy";
      rv = f->C_DestroyObject(s, h);
      if (rv == CKR_OK) say("destroyed " + label);
      else if (is_lost(rv) || rv == CKR_DEVICE_ERROR) say("destroy-unknown " + label);
    }
    if (rv == CKR_OK) continue;
    if (rv == CKR_DEVICE_ERROR) {  // the server lost PostgreSQL: the session lives on
      say("store-error " + step);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (!is_lost(rv)) return fail(step, rv);
    say(std::string("lost ") + rv_name(rv));
    if ((rv = reopen(f, token, s)) != CKR_OK) return fail("reopen", rv);
    say("reopened");
  }
  say("done " + std::to_string(i));
  return 0;
}

int create_each(CK_FUNCTION_LIST_3_0* f, const std::string& token, const std::string& name, int n) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = open_rw(f, token, s);
  if (rv != CKR_OK) return fail("login", rv);
  for (int i = 0; i < n && i < 1000; ++i) {
    const std::string label = name + "-" + std::to_string(i);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if ((rv = create(f, s, label, h)) != CKR_OK) return fail("create", rv);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch()).count();
    say("created " + label + " " + std::to_string(ns));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 7) return 3;
  const std::string command = argv[3];
  CK_FUNCTION_LIST_3_0* f = load_module(argv[1]);
  CK_RV rv = initialize(f, argv[2]);
  if (rv != CKR_OK) return fail("C_Initialize", rv);
  int code = 3;
  if (command == "load" && argc >= 8) code = load(f, argv[4], argv[5], std::atoi(argv[6]), std::atoi(argv[7]));
  if (command == "create-each") code = create_each(f, argv[4], argv[5], std::atoi(argv[6]));
  if (code == 0 && (rv = f->C_Finalize(nullptr)) != CKR_OK) return fail("C_Finalize", rv);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  const int code = run(argc, argv);
  if (code == 3)
    std::fprintf(stderr, "usage: cluster-app MODULE CONF load TOKEN NAME ROUNDS SECONDS | create-each TOKEN NAME N\n");
  return code;
}
