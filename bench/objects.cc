#include "objects.h"

#include "child.h"
#include "harness.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

namespace p11bench {
namespace {

const std::string kApp = "p11bench";
const char* const kTokenPairOp = "generate token key pair P-256 (durable)";
constexpr int kPopulateThreads = 8;

std::string obj_label(long i) {
  char b[32];
  std::snprintf(b, sizeof b, "bench-obj-%07ld", i);
  return b;
}

CK_RV create_data(const Module& m, CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE* h) {
  static const uint8_t value[32] = {1, 2, 3};
  Template t;
  t.ulong(CKA_CLASS, CKO_DATA).flag(CKA_TOKEN, true).flag(CKA_PRIVATE, false).bytes(CKA_LABEL, label);
  t.bytes(CKA_APPLICATION, kApp).add(CKA_VALUE, value, sizeof value);
  return m.f->C_CreateObject(s, t.data(), t.size(), h);
}

// A P-256 key pair on the token (both halves durable), as a service that provisions a
// key per tenant or device makes it.
CK_RV generate_token_pair(const Module& m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE* pub, CK_OBJECT_HANDLE* priv) {
  Template pt, kt;
  pt.flag(CKA_TOKEN, true).flag(CKA_VERIFY, true).bytes(CKA_EC_PARAMS, kP256Oid).bytes(CKA_LABEL, "bench-tmp-pair");
  kt.flag(CKA_TOKEN, true).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_SIGN, true);
  kt.bytes(CKA_LABEL, "bench-tmp-pair");
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  return m.f->C_GenerateKeyPair(s, &mech, pt.data(), pt.size(), kt.data(), kt.size(), pub, priv);
}

std::string fmt_count(long n) {
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

// Runs this executable with `cmd`; returns its stdout's first number (or -1).
double run_child(const ObjectArgs& a, const char* cmd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::vector<std::string> args = {cmd, "--module", a.module, "--label", a.label};
  if (!a.pin_file.empty()) args.insert(args.end(), {"--pin-file", a.pin_file});
  pid_t pid = spawn_self(a.self, args, {{fds[1], 1}});
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) return -1;
  return std::atof(out.c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

struct Logged {
  Module m;
  CK_SLOT_ID slot = 0;
  CK_SESSION_HANDLE s = 0;
};

Logged open_logged(const ObjectArgs& a) {
  Logged l;
  l.m = load_module(a.module);
  long slot = find_slot(l.m, a.label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench: no token labelled %s\n", a.label.c_str());
    std::exit(2);
  }
  l.slot = static_cast<CK_SLOT_ID>(slot);
  l.s = open_session(l.m, l.slot);
  login_user(l.m, l.s, read_pin(a.pin_file, false));
  return l;
}

}  // namespace

int run_objects(const ObjectArgs& a) {
  const std::string n = fmt_count(a.stage);
  const std::string find_op = "find by label among " + n + " objects";
  const std::string login_op = "init+open+login, " + n + " objects (ms)";
  const std::string rss_op = "resident memory, " + n + " objects loaded (MiB)";
  auto skip_all = [&](const std::string& why) {
    for (const auto& op : {find_op, login_op, rss_op}) emit_na(a.peer, op, 1, why);
    return 0;
  };
  if (a.max_objects > 0 && a.stage > a.max_objects)
    return skip_all("skipped: populating " + n + " objects exceeds this peer's budget (--max-objects " +
                    std::to_string(a.max_objects) + ")");
  Logged l = open_logged(a);
  const Module& m = l.m;
  Template all;
  all.ulong(CKA_CLASS, CKO_DATA).bytes(CKA_APPLICATION, kApp);
  long have = static_cast<long>(find_all(m, l.s, all, static_cast<size_t>(a.stage) + 1).size());
  // Population: several sessions on their own threads (a module may commit them together).
  const double t0 = now_s();
  std::atomic<long> next{have}, made{have};
  std::vector<std::thread> ts;
  std::vector<CK_SESSION_HANDLE> ss;
  for (int t = 0; t < kPopulateThreads; ++t) ss.push_back(open_session(m, l.slot));
  for (int t = 0; t < kPopulateThreads; ++t)
    ts.emplace_back([&, t] {
      for (long i; (i = next.fetch_add(1)) < a.stage && now_s() - t0 < a.populate_budget_s;) {
        CK_OBJECT_HANDLE h = 0;
        check(create_data(m, ss[static_cast<size_t>(t)], obj_label(i), &h), "C_CreateObject");
        made.fetch_add(1);
      }
    });
  for (auto& t : ts) t.join();
  for (CK_SESSION_HANDLE s : ss) m.f->C_CloseSession(s);
  if (made < a.stage) {
    std::fprintf(stderr, "p11bench: %s: population stopped at %ld objects after %.0f s\n", a.peer.c_str(),
                 made.load(), now_s() - t0);
    unload_module(l.m);
    return skip_all("skipped: population stopped at " + std::to_string(made.load()) + " objects (time budget)");
  }
  if (a.stage > have)
    std::fprintf(stderr, "p11bench: %s: populated %ld objects in %.1f s (%d threads)\n", a.peer.c_str(),
                 a.stage - have, now_s() - t0, kPopulateThreads);
  // Find by label: each call looks for a different existing object.
  long k = 0;
  Factory f = [&](int, std::string&) -> std::optional<OpFn> {
    return OpFn([&] {
      Template t;
      t.bytes(CKA_LABEL, obj_label((k++ * 7919) % a.stage));
      CK_OBJECT_HANDLE h[2];
      CK_ULONG got = 0;
      bool ok = m.f->C_FindObjectsInit(l.s, t.data(), t.size()) == CKR_OK &&
                m.f->C_FindObjects(l.s, h, 2, &got) == CKR_OK && got == 1;
      return m.f->C_FindObjectsFinal(l.s) == CKR_OK && ok;
    });
  };
  emit_rate(a.peer, find_op, 1, measure(1, f, measure_seconds()));

  // The children are second applications: this one stays logged in meanwhile (with a
  // sidecar, the server then holds the unwrapped token key for them).
  std::vector<double> ms;
  for (int i = 0; i < a.login_runs; ++i) {
    double v = run_child(a, "login-child");
    if (v >= 0) ms.push_back(v);
  }
  if (ms.empty()) emit_na(a.peer, login_op, 1, "the login child failed");
  else emit(a.peer, login_op, 1, "ms", median(ms));
  double rss = run_child(a, "rss-child");
  if (rss < 0) emit_na(a.peer, rss_op, 1, "the memory child failed");
  else emit(a.peer, rss_op, 1, "MiB", rss);
  unload_module(l.m);
  return 0;
}

// A factory whose thread i makes objects on session i with `make`, which keeps their
// handles in made[i] (destroyed after the measurement).
using MakeFn = std::function<bool(CK_SESSION_HANDLE, std::vector<CK_OBJECT_HANDLE>&)>;
Factory keeping(const std::vector<CK_SESSION_HANDLE>& sessions, std::vector<std::vector<CK_OBJECT_HANDLE>>& made,
                MakeFn make) {
  return [&sessions, &made, make](int i, std::string&) -> std::optional<OpFn> {
    std::vector<CK_OBJECT_HANDLE>* mine = &made[static_cast<size_t>(i)];
    const CK_SESSION_HANDLE s = sessions[static_cast<size_t>(i)];
    return OpFn([make, mine, s] { return make(s, *mine); });
  };
}

int run_create(const ObjectArgs& a, double seconds) {
  Logged l = open_logged(a);
  const Module& m = l.m;
  std::vector<CK_SESSION_HANDLE> sessions = {l.s};
  for (int i = 1; i < 8; ++i) sessions.push_back(open_session(m, l.slot));
  for (int threads : {1, 2, 8}) {
    std::vector<std::vector<CK_OBJECT_HANDLE>> made(8);
    Factory f = keeping(sessions, made, [&m](CK_SESSION_HANDLE s, std::vector<CK_OBJECT_HANDLE>& mine) {
      CK_OBJECT_HANDLE h = 0;
      if (mine.size() >= 20000 || create_data(m, s, "bench-tmp", &h) != CKR_OK) return false;
      mine.push_back(h);
      return true;
    });
    emit_rate(a.peer, "create token object (durable)", threads, measure(threads, f, seconds));
    // Destroy everything just created, split over the same threads; timed as a whole.
    std::atomic<long> destroyed{0};
    std::atomic<bool> failed{false};
    const double t0 = now_s();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([&, i] {
        for (CK_OBJECT_HANDLE h : made[static_cast<size_t>(i)]) {
          if (m.f->C_DestroyObject(sessions[static_cast<size_t>(i)], h) != CKR_OK) failed = true;
          else destroyed.fetch_add(1);
        }
      });
    for (auto& t : ts) t.join();
    const double dt = now_s() - t0;
    if (failed || destroyed == 0) emit_na(a.peer, "destroy token object (durable)", threads, "destroy failed");
    else emit(a.peer, "destroy token object (durable)", threads, "ops/s", static_cast<double>(destroyed) / dt);
  }
  // Token key pairs: the limit column is the same one durable write (a pair in one
  // transaction can reach it; a pair in two cannot pass half of it).
  for (int threads : {1, 2, 8}) {
    std::vector<std::vector<CK_OBJECT_HANDLE>> made(8);
    Factory f = keeping(sessions, made, [&m](CK_SESSION_HANDLE s, std::vector<CK_OBJECT_HANDLE>& mine) {
      CK_OBJECT_HANDLE pub = 0, priv = 0;
      if (mine.size() >= 10000 || generate_token_pair(m, s, &pub, &priv) != CKR_OK) return false;
      mine.push_back(pub);
      mine.push_back(priv);
      return true;
    });
    emit_rate(a.peer, kTokenPairOp, threads, measure(threads, f, seconds));
    for (int i = 0; i < threads; ++i)
      for (CK_OBJECT_HANDLE h : made[static_cast<size_t>(i)]) (void)m.f->C_DestroyObject(sessions[static_cast<size_t>(i)], h);
  }
  unload_module(l.m);
  return 0;
}

int fsync_limit(const std::string& peer, const std::string& dir, double seconds) {
  const std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 1;
  char block[4096] = {};
  long n = 0;
  const double t0 = now_s();
  double t = t0;
  for (; n < 20000 && t - t0 < seconds; t = now_s()) {
    if (::pwrite(fd, block, sizeof block, (n % 64) * 4096) != static_cast<ssize_t>(sizeof block) || ::fdatasync(fd) != 0)
      break;
    ++n;
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (n == 0) return 1;
  const double per_s = static_cast<double>(n) / (t - t0);
  emit(peer, "create token object (durable)", 1, "ops/s", per_s);
  emit(peer, kTokenPairOp, 1, "ops/s", per_s);
  return 0;
}

int login_child(const ObjectArgs& a) {
  const std::string pin = read_pin(a.pin_file, false);
  // dlopen is not timed (its cost does not depend on the token); the rest is.
  Module m = open_library(a.module);
  const double t0 = now_s();
  initialize(m);
  long slot = find_slot(m, a.label);
  if (slot < 0) return 2;
  CK_SESSION_HANDLE s = open_session(m, static_cast<CK_SLOT_ID>(slot));
  login_user(m, s, pin);
  const double ms = (now_s() - t0) * 1e3;
  std::printf("%.3f\n", ms);
  std::fflush(stdout);
  _exit(0);  // no C_Finalize: the figure is taken, the process ends
}

int rss_child(const ObjectArgs& a) {
  Logged l = open_logged(a);
  Template all;
  auto hs = find_all(l.m, l.s, all, 200000);
  char buf[64];
  for (CK_OBJECT_HANDLE h : hs) {
    CK_ATTRIBUTE t{CKA_LABEL, buf, sizeof buf};
    l.m.f->C_GetAttributeValue(l.s, h, &t, 1);
  }
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmRSS:", 0) == 0) {
      std::printf("%.1f\n", std::atof(line.c_str() + 6) / 1024.0);
      std::fflush(stdout);
      _exit(0);
    }
  return 1;
}

}  // namespace p11bench
