#include "processes.h"

#include "child.h"
#include "harness.h"
#include "ops.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <sstream>

namespace p11bench {
namespace {

// The child's ends of the two pipes: "ready" (it writes a byte once set up and warm),
// "go" (end of file when the parent starts everyone).
constexpr int kReadyFd = 100;
constexpr int kGoFd = 101;
constexpr int kMaxProcesses = 64;
constexpr long kMaxOpsPerChild = 50'000'000;

std::string op_row(const OpSpec& op) { return "processes: " + op.name; }

bool wanted(const ProcessArgs& a, const OpSpec& op) {
  if (!a.only.empty()) return op.name.find(a.only) != std::string::npos;
  return op.kind == Kind::kNull || (op.alg == Alg::kEcdsaP256 && op.kind == Kind::kSign);
}

// `n` children of operation `index`, started together; their operations per second.
Rate run_group(const ProcessArgs& a, int index, int n) {
  int ready[2], go[2], out[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
    return {false, 0, "pipe failed"};
  std::vector<std::string> args = {"proc-child", "--module", a.o.module, "--label", a.o.label, "--op",
                                   std::to_string(index)};
  if (!a.o.pin_file.empty()) args.insert(args.end(), {"--pin-file", a.o.pin_file});
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    // Spread over several servers: the children take the configurations in turn.
    if (!a.confs.empty()) ::setenv("FERROHSM_CONF", a.confs[static_cast<size_t>(i) % a.confs.size()].c_str(), 1);
    pid_t pid = spawn_self(a.o.self, args, {{ready[1], kReadyFd}, {go[0], kGoFd}, {out[1], 1}});
    if (pid > 0) pids.push_back(pid);
  }
  close(ready[1]);
  close(go[0]);
  close(out[1]);
  // Every child writes one byte when ready; one that dies closes its end. Each child
  // ends itself by alarm(), so this wait is bounded too.
  int got = 0;
  char c;
  while (got < static_cast<int>(pids.size()) && read(ready[0], &c, 1) == 1) ++got;
  close(go[1]);  // go
  std::string text;
  char buf[512];
  for (ssize_t r; (r = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(r));
  close(out[0]);
  close(ready[0]);
  bool all_ok = static_cast<int>(pids.size()) == n;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) all_ok = false;
  }
  long ops = 0, lines = 0;
  double first = 1e300, last = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    long o = 0;
    double s = 0, e = 0;
    if (std::sscanf(line.c_str(), "%ld %lf %lf", &o, &s, &e) != 3) continue;
    ops += o, ++lines;
    first = std::min(first, s), last = std::max(last, e);
  }
  if (!all_ok || lines != n || last <= first) return {false, 0, "a child process failed"};
  return {true, static_cast<double>(ops) / (last - first), {}};
}

}  // namespace

int run_processes(const ProcessArgs& a) {
  Module m = load_module(a.o.module);
  long slot = find_slot(m, a.o.label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench: no token labelled %s\n", a.o.label.c_str());
    return 2;
  }
  CK_SESSION_HANDLE s = open_session(m, static_cast<CK_SLOT_ID>(slot));
  login_user(m, s, read_pin(a.o.pin_file, false));
  const auto& ops = crypto_ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!wanted(a, ops[i])) continue;
    for (int n : a.counts) {
      if (n < 1 || n > kMaxProcesses) continue;
      emit_rate(a.o.peer, op_row(ops[i]), n, run_group(a, static_cast<int>(i), n));
    }
  }
  unload_module(m);
  return 0;
}

int process_child(const ProcessArgs& a, double seconds) {
  alarm(static_cast<unsigned>(seconds) + 120);  // a server that stops answering ends this child
  const auto& ops = crypto_ops();
  if (a.op < 0 || static_cast<size_t>(a.op) >= ops.size()) return 2;
  Module m = load_module(a.o.module);
  long slot = find_slot(m, a.o.label);
  if (slot < 0) return 2;
  std::vector<CK_SESSION_HANDLE> sessions = {open_session(m, static_cast<CK_SLOT_ID>(slot))};
  login_user(m, sessions[0], read_pin(a.o.pin_file, false));
  const TokenKeys keys = find_token_keys(m, sessions[0]);
  std::string why;
  std::optional<OpFn> fn = p11_factory(m, sessions, keys, ops[static_cast<size_t>(a.op)])(0, why);
  if (!fn) {
    std::fprintf(stderr, "p11bench: %s: %s\n", ops[static_cast<size_t>(a.op)].name.c_str(), why.c_str());
    return 1;
  }
  for (double t0 = now_s(); now_s() - t0 < seconds * 0.15;)
    if (!(*fn)()) return 1;
  if (write(kReadyFd, "r", 1) != 1) return 1;
  close(kReadyFd);
  char c;
  while (read(kGoFd, &c, 1) > 0) {
  }
  long n = 0;
  const double start = now_s();
  double t = start;
  while (n < kMaxOpsPerChild && t - start < seconds) {
    if (!(*fn)()) return 1;
    ++n;
    t = now_s();
  }
  std::printf("%ld %.9f %.9f\n", n, start, t);
  std::fflush(stdout);
  _exit(0);  // no C_Finalize: the figure is taken
}

}  // namespace p11bench
