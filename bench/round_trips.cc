#include "round_trips.h"

#include "harness.h"
#include "ops.h"

#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace p11bench {
namespace {

constexpr int kCalls = 1000;

struct Counts {
  double out = 0, in = 0;
};

// The descriptors of this process that are TCP sockets.
std::vector<int> tcp_sockets() {
  std::vector<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  const int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    int fd = std::atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == own) continue;
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && len >= sizeof ti) fds.push_back(fd);
  }
  closedir(d);
  return fds;
}

Counts snapshot(const std::vector<int>& fds) {
  Counts c;
  for (int fd : fds) {
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) continue;
    c.out += ti.tcpi_data_segs_out;
    c.in += ti.tcpi_data_segs_in;
  }
  return c;
}

}  // namespace

int run_round_trips(const ObjectArgs& a) {
  static const char* const kRows[] = {"C_GetSessionInfo", "C_SignInit (ECDSA P-256)",
                                      "C_Sign, right-sized buffer (ECDSA P-256)",
                                      "C_Sign, length query then C_Sign (ECDSA P-256)"};
  auto emit_all_na = [&](const std::string& why) {
    for (const char* r : kRows) {
      emit_na(a.peer, std::string("wire: messages sent per ") + r, 1, why);
      emit_na(a.peer, std::string("wire: messages received per ") + r, 1, why);
    }
    return 0;
  };
  Module m = load_module(a.module);
  long slot = find_slot(m, a.label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench: no token labelled %s\n", a.label.c_str());
    return 2;
  }
  CK_SESSION_HANDLE s = open_session(m, static_cast<CK_SLOT_ID>(slot));
  login_user(m, s, read_pin(a.pin_file, false));
  const TokenKeys keys = find_token_keys(m, s);
  const std::vector<int> fds = tcp_sockets();
  if (fds.empty()) {
    unload_module(m);
    return emit_all_na("counted only for a module connected over TCP (TCP_INFO)");
  }
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  uint8_t digest[32] = {0x5a};
  uint8_t sig[64];
  bool ok = keys.p256_priv != CK_INVALID_HANDLE;
  using Fn = std::function<CK_RV()>;
  // kCalls times: `before` (not counted), `call` (counted), `after` (not counted).
  auto count = [&](const char* row, const Fn& before, const Fn& call, const Fn& after) {
    Counts sum;
    for (int i = 0; i < kCalls && ok; ++i) {
      if (before && before() != CKR_OK) ok = false;
      Counts c0 = snapshot(fds);
      if (call() != CKR_OK) ok = false;
      Counts c1 = snapshot(fds);
      if (after && after() != CKR_OK) ok = false;
      sum.out += c1.out - c0.out;
      sum.in += c1.in - c0.in;
    }
    if (!ok) {
      emit_na(a.peer, std::string("wire: messages sent per ") + row, 1, "the call failed");
      emit_na(a.peer, std::string("wire: messages received per ") + row, 1, "the call failed");
      return;
    }
    emit(a.peer, std::string("wire: messages sent per ") + row, 1, "msgs", sum.out / kCalls);
    emit(a.peer, std::string("wire: messages received per ") + row, 1, "msgs", sum.in / kCalls);
  };
  auto sign_init = [&] { return m.f->C_SignInit(s, &mech, keys.p256_priv); };
  auto sign = [&] {
    CK_ULONG n = sizeof sig;
    return m.f->C_Sign(s, digest, sizeof digest, sig, &n);
  };
  count(kRows[0], nullptr, [&] {
    CK_SESSION_INFO info{};
    return m.f->C_GetSessionInfo(s, &info);
  }, nullptr);
  count(kRows[1], nullptr, sign_init, sign);
  count(kRows[2], sign_init, sign, nullptr);
  count(kRows[3], sign_init, [&] {
    CK_ULONG n = 0;
    CK_RV rv = m.f->C_Sign(s, digest, sizeof digest, nullptr, &n);
    if (rv != CKR_OK) return rv;
    return n <= sizeof sig ? m.f->C_Sign(s, digest, sizeof digest, sig, &n) : CKR_BUFFER_TOO_SMALL;
  }, nullptr);
  unload_module(m);
  return 0;
}

}  // namespace p11bench
