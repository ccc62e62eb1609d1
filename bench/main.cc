// p11bench: benchmarks any PKCS#11 library (loaded by path) and OpenSSL EVP as the
// physical limit. bench/run.sh drives it for `make bench`; see docs/PERFORMANCE.md.
//
//   p11bench setup   --module M --label L            init the token (BENCH_SO_PIN, BENCH_PIN) and its keys
//   p11bench crypto  --peer P (--module M --label L | --openssl) [--threads 1,2]
//   p11bench create  --peer P --module M --label L   durable object creation / destruction
//   p11bench objects --peer P --module M --label L --stage N [--max-objects N]
//   p11bench fsync-limit DIR                         the disk's durable-write limit (4 KiB + fdatasync)
//   p11bench processes  --peer P --module M --label L [--procs 1,8] [--only TEXT] [--confs A,B]
//                                                    client processes at once (null call, ECDSA P-256 sign);
//                                                    --confs: child i runs with FERROHSM_CONF = the (i mod n)th
//   p11bench round-trips --peer P --module M --label L   messages on the wire per call (TCP only)
//   p11bench bridge-pair --module SOFTHSM --bridged FERRO --label L
//                                                    what FerroHSM's bridge adds (FERROHSM_CONF has the
//                                                    [[bridge]]), SoftHSMv2 and the bridge in one process
//   p11bench rest-pair --module M --label L --url https://H:P --cert F --key F --ca F [--threads 1,8]
//                                                    the REST API beside the embedded library (issue 15)
//   p11bench report  FILE                            the table (medians over rounds)
//
// The user PIN comes from --pin-file or env BENCH_PIN; it is never printed.
#include "bridge_pair.h"
#include "harness.h"
#include "objects.h"
#include "ops.h"
#include "processes.h"
#include "report.h"
#include "rest_pair.h"
#include "round_trips.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace p11bench {
namespace {

// A child process of the login, memory and process suites ends itself after this long.
constexpr unsigned kChildSeconds = 600;

struct Args {
  std::string cmd;
  ObjectArgs o;
  std::vector<int> procs = {1, 8};
  int op = -1;
  bool openssl = false;
  std::vector<int> threads = {1, 2};
  bool threads_given = false;  // rest-pair's default is 1,8
  std::string only;  // substring filter on operation names
  std::string file;
  std::string bridged;  // bridge-pair: FerroHSM's library
  std::string url, cert, key, ca;  // rest-pair
  std::vector<std::string> confs;  // processes: FERROHSM_CONF of the children, in turn
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: p11bench setup|crypto|create|objects|report [--module PATH] [--label L] [--peer NAME]\n"
               "       [--openssl] [--threads 1,2] [--only TEXT] [--stage N] [--max-objects N] [--pin-file F]\n"
               "       p11bench processes|round-trips [--procs 1,8] [--confs A,B] --peer NAME --module PATH --label L\n"
               "       p11bench bridge-pair --module SOFTHSM --bridged FERROHSM --label L\n"
               "       p11bench rest-pair --module PATH --label L --url https://H:P --cert F --key F --ca F\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  if (argc < 2) usage();
  Args a;
  a.cmd = argv[1];
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  a.o.self = n > 0 ? std::string(self, static_cast<size_t>(n)) : argv[0];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (k == "--module") a.o.module = val();
    else if (k == "--label") a.o.label = val();
    else if (k == "--peer") a.o.peer = val();
    else if (k == "--pin-file") a.o.pin_file = val();
    else if (k == "--stage") a.o.stage = std::atol(val().c_str());
    else if (k == "--max-objects") a.o.max_objects = std::atol(val().c_str());
    else if (k == "--populate-seconds") a.o.populate_budget_s = std::atof(val().c_str());
    else if (k == "--login-runs") a.o.login_runs = std::atoi(val().c_str());
    else if (k == "--op") a.op = std::atoi(val().c_str());
    else if (k == "--openssl") a.openssl = true;
    else if (k == "--only") a.only = val();
    else if (k == "--confs") {
      std::stringstream ss(val());
      for (std::string c; std::getline(ss, c, ',');) a.confs.push_back(c);
    }
    else if (k == "--bridged") a.bridged = val();
    else if (k == "--url") a.url = val();
    else if (k == "--cert") a.cert = val();
    else if (k == "--key") a.key = val();
    else if (k == "--ca") a.ca = val();
    else if (k == "--threads" || k == "--procs") {
      std::vector<int>& list = k == "--threads" ? a.threads : a.procs;
      a.threads_given = a.threads_given || k == "--threads";
      list.clear();
      std::stringstream ss(val());
      for (std::string t; std::getline(ss, t, ',');) list.push_back(std::max(1, std::atoi(t.c_str())));
    } else if ((a.cmd == "report" || a.cmd == "fsync-limit") && a.file.empty()) a.file = k;
    else usage();
  }
  if (a.o.peer.empty()) a.o.peer = a.openssl || a.cmd == "fsync-limit" ? "openssl" : "module";
  if (a.cmd != "report" && a.cmd != "fsync-limit" && !a.openssl && (a.o.module.empty() || a.o.label.empty())) usage();
  return a;
}

int setup(const Args& a) {
  Module m = load_module(a.o.module);
  long slot = find_slot(m, a.o.label);
  if (slot < 0) {
    slot = free_slot(m);
    if (slot < 0) {
      std::fprintf(stderr, "p11bench: no uninitialised token to set up\n");
      return 2;
    }
    const std::string so = read_pin("", true), user = read_pin(a.o.pin_file, false);
    std::string label = a.o.label;
    label.resize(32, ' ');
    auto pin = [](const std::string& p) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(p.data())); };
    check(m.f->C_InitToken(static_cast<CK_SLOT_ID>(slot), pin(so), static_cast<CK_ULONG>(so.size()),
                           reinterpret_cast<CK_UTF8CHAR_PTR>(label.data())),
          "C_InitToken");
    // Some modules (SoftHSMv2) move the new token to another slot id: look it up again.
    slot = find_slot(m, a.o.label);
    CK_SESSION_HANDLE s = open_session(m, static_cast<CK_SLOT_ID>(slot));
    check(m.f->C_Login(s, CKU_SO, pin(so), static_cast<CK_ULONG>(so.size())), "C_Login(SO)");
    check(m.f->C_InitPIN(s, pin(user), static_cast<CK_ULONG>(user.size())), "C_InitPIN");
    check(m.f->C_Logout(s), "C_Logout");
    m.f->C_CloseSession(s);
  }
  CK_SESSION_HANDLE s = open_session(m, static_cast<CK_SLOT_ID>(slot));
  login_user(m, s, read_pin(a.o.pin_file, false));
  create_token_keys(m, s);
  unload_module(m);
  return 0;
}

bool selected(const Args& a, const std::string& name) {
  return a.only.empty() || name.find(a.only) != std::string::npos;
}

int crypto(const Args& a) {
  const double secs = measure_seconds();
  if (a.openssl) {
    for (const OpSpec& op : crypto_ops()) {
      if (!selected(a, op.name) || op.kind == Kind::kNull) continue;  // no OpenSSL equivalent
      for (int t : a.threads) emit_rate(a.o.peer, op.name, t, measure(t, ossl_factory(op), secs));
    }
    if (selected(a, "PIN KDF")) emit(a.o.peer, "PIN KDF: PBKDF2-SHA256 600k iterations (ms)", 1, "ms", ossl_pbkdf2_ms());
    return 0;
  }
  Module m = load_module(a.o.module);
  long slot = find_slot(m, a.o.label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench: no token labelled %s (run setup first)\n", a.o.label.c_str());
    return 2;
  }
  std::vector<CK_SESSION_HANDLE> sessions;
  int most = 1;
  for (int t : a.threads) most = std::max(most, t);
  for (int i = 0; i < most; ++i) sessions.push_back(open_session(m, static_cast<CK_SLOT_ID>(slot)));
  login_user(m, sessions[0], read_pin(a.o.pin_file, false));
  const TokenKeys keys = find_token_keys(m, sessions[0]);
  for (const OpSpec& op : crypto_ops()) {
    if (!selected(a, op.name)) continue;
    for (int t : a.threads) emit_rate(a.o.peer, op.name, t, measure(t, p11_factory(m, sessions, keys, op), secs));
  }
  unload_module(m);
  return 0;
}

}  // namespace
}  // namespace p11bench

int main(int argc, char** argv) {
  using namespace p11bench;
  Args a = parse(argc, argv);
  if (a.cmd == "setup") return setup(a);
  if (a.cmd == "crypto") return crypto(a);
  if (a.cmd == "create") return run_create(a.o, measure_seconds());
  if (a.cmd == "objects") return run_objects(a.o);
  if (a.cmd == "fsync-limit") return fsync_limit(a.o.peer.empty() ? "openssl" : a.o.peer, a.file, measure_seconds());
  if (a.cmd == "round-trips") return run_round_trips(a.o);
  if (a.cmd == "bridge-pair") {
    if (a.bridged.empty()) usage();
    return run_bridge_pair(a.o, a.bridged);
  }
  if (a.cmd == "processes" || a.cmd == "proc-child") {
    ProcessArgs p{a.o, a.procs, a.only, a.op, a.confs};
    return a.cmd == "processes" ? run_processes(p) : process_child(p, measure_seconds());
  }
  if (a.cmd == "login-child" || a.cmd == "rss-child") {
    alarm(kChildSeconds);  // bounded even when the module hangs
    return a.cmd == "login-child" ? login_child(a.o) : rss_child(a.o);
  }
  if (a.cmd == "rest-pair") {
    if (a.url.empty() || a.cert.empty() || a.key.empty() || a.ca.empty()) usage();
    return run_rest_pair(RestArgs{a.o, a.url, a.cert, a.key, a.ca, a.threads_given ? a.threads : std::vector<int>{1, 8}});
  }
  if (a.cmd == "report") return report(a.file);
  usage();
}
