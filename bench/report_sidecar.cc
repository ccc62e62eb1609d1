// The sidecar part of `p11bench report`: FerroHSM embedded beside the same library in
// sidecar mode over the unix socket and over TCP + mTLS, and p11-kit's RPC (`p11-kit
// server`, one `p11-kit remote` per client, in front of the embedded library) — then
// the goals of issue 13, item 9, each with its measured value and whether it is met.
#include "ops.h"
#include "report_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace p11bench {
namespace {

const char* const kEmbedded = "ferrohsm";
const char* const kUnix = "sidecar-unix";
const char* const kTls = "sidecar-tls";
const char* const kP11kit = "p11kit";

const Row* find(const std::vector<Row>& rows, const std::string& op, int threads) {
  for (const Row& r : rows)
    if (r.op == op && r.threads == threads) return &r;
  return nullptr;
}

// One goal: what was measured and whether every measured part meets it.
struct Goal {
  std::string what, measured;
  int met = 0, missed = 0;
  void part(const std::string& text, bool ok) {
    measured += (measured.empty() ? "" : "; ") + text;
    ++(ok ? met : missed);
  }
  const char* verdict() const {
    if (met + missed == 0) return "not measured";
    return missed == 0 ? "met" : met == 0 ? "**missed**" : "**partly** (see measured)";
  }
};

const char* transport(const char* peer) { return peer == kUnix ? "unix" : peer == kTls ? "tcp+mTLS" : "p11-kit"; }

void null_call(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  const Row* r = find(rows, kNullCallOp, 1);
  for (auto [peer, limit] : {std::pair{kUnix, 12.0}, std::pair{kTls, 40.0}}) {
    Goal g{"null call (C_GetSessionInfo) round trip ≤ " + num("%.0f", limit) + " µs, " + transport(peer), {}};
    double v;
    if (r != nullptr && r->value(peer, v)) g.part(num("%.1f µs", 1e6 / v), 1e6 / v <= limit);
    goals.push_back(g);
  }
  double v;
  if (r != nullptr && r->value(kP11kit, v))
    goals.push_back(Goal{"(reference) p11-kit remote null call, ~25 µs expected", num("%.1f µs", 1e6 / v), 0, 0});
}

void sign_ratios(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  const Row* r = find(rows, "sign ECDSA P-256 32B digest", 1);
  Goal emb{"ECDSA P-256 sign (C_SignInit + C_Sign), sidecar ≥ 0.75 × embedded", {}};
  Goal p11{"ECDSA P-256 sign, sidecar ≥ 4 × p11-kit remote", {}};
  double e = 0, p = 0, v;
  bool have_e = r != nullptr && r->value(kEmbedded, e), have_p = r != nullptr && r->value(kP11kit, p);
  for (const char* peer : {kUnix, kTls}) {
    if (r == nullptr || !r->value(peer, v)) continue;
    if (have_e) emb.part(std::string(transport(peer)) + " " + num("%.2f ×", v / e), v / e >= 0.75);
    if (have_p) p11.part(std::string(transport(peer)) + " " + num("%.2f ×", v / p), v / p >= 4);
  }
  goals.push_back(emb);
  goals.push_back(p11);
}

void mechanisms(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  Goal g{"every mechanism works through the sidecar (crypto rows the embedded library runs)", {}};
  for (const char* peer : {kUnix, kTls}) {
    int total = 0, ok = 0;
    std::string failed;
    for (const OpSpec& op : crypto_ops())
      for (const Row& r : rows) {
        double v;
        if (r.op != op.name || !r.value(kEmbedded, v) || r.get(peer) == nullptr) continue;
        ++total;
        if (r.value(peer, v)) ++ok;
        else failed += (failed.empty() ? ": failed " : ", ") + r.op + " (" + r.get(peer)->na + ")";
      }
    if (total > 0) g.part(std::string(transport(peer)) + " " + std::to_string(ok) + "/" + std::to_string(total) + failed,
                          ok == total);
  }
  goals.push_back(g);
}

void round_trip(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  Goal g{"a sign with a right-sized buffer is one round trip (wire messages per C_Sign, counted by the kernel)", {}};
  const std::string row = "C_Sign, right-sized buffer (ECDSA P-256)";
  const Row* out = find(rows, "wire: messages sent per " + row, 1);
  const Row* in = find(rows, "wire: messages received per " + row, 1);
  double o, i;
  if (out != nullptr && in != nullptr && out->value(kTls, o) && in->value(kTls, i))
    g.part("tcp+mTLS: " + num("%.2f", o) + " sent, " + num("%.2f", i) + " received", o <= 1.0 && i <= 1.0);
  goals.push_back(g);
}

void login(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  // The largest stage the sidecar peers reached.
  const Row* best = nullptr;
  long best_n = -1;
  for (const Row& r : rows) {
    if (r.op.rfind("init+open+login, ", 0) != 0 || (r.get(kUnix) == nullptr && r.get(kTls) == nullptr)) continue;
    long n = std::atol(r.op.c_str() + 17) * (r.op.find("k objects") != std::string::npos ? 1000 : 1);
    if (n > best_n) best = &r, best_n = n;
  }
  Goal g{"C_Initialize + C_OpenSession + C_Login of a second application ≤ 5 ms, 100,000 objects", {}};
  if (best != nullptr) {
    if (best_n < 100000) g.what += " (this run's largest stage: " + std::to_string(best_n) + ")";
    double v;
    for (const char* peer : {kUnix, kTls})
      if (best->value(peer, v)) g.part(std::string(transport(peer)) + " " + num("%.2f ms", v), v <= 5);
  }
  goals.push_back(g);
}

// Met per transport when either operation (null call or ECDSA P-256 sign) reaches 1.6 ×.
void processes(const std::vector<Row>& rows, std::vector<Goal>& goals) {
  Goal g{"8 client processes together ≥ 1.6 × the throughput of one (null call or ECDSA P-256 sign)", {}};
  for (const char* peer : {kUnix, kTls}) {
    std::string text;
    bool any = false, ok = false;
    for (const OpSpec& op : crypto_ops()) {
      const Row* one = find(rows, "processes: " + op.name, 1);
      const Row* eight = find(rows, "processes: " + op.name, 8);
      double a, b;
      if (one == nullptr || eight == nullptr || !one->value(peer, a) || !eight->value(peer, b)) continue;
      text += std::string(text.empty() ? "" : ", ") + (op.kind == Kind::kNull ? "null call " : "ECDSA P-256 sign ") +
              num("%.2f ×", b / a);
      any = true;
      ok = ok || b / a >= 1.6;
    }
    if (any) g.part(std::string(transport(peer)) + " " + text, ok);
  }
  goals.push_back(g);
}

}  // namespace

void print_sidecar(const std::vector<Row>& rows) {
  const char* const peers[] = {kEmbedded, kUnix, kTls, kP11kit};
  auto sidecar_row = [&](const Row& r) { return r.get(kUnix) || r.get(kTls) || r.get(kP11kit); };
  if (std::none_of(rows.begin(), rows.end(), sidecar_row)) return;
  std::vector<std::string> notes;
  std::printf("\n## Sidecar\n\n");
  std::printf("| operation | thr | embedded | sidecar unix | sidecar tcp+mTLS | p11-kit remote | unix/embedded | "
              "tls/embedded | unix/p11-kit | tls/p11-kit |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    if (!sidecar_row(r)) continue;
    std::printf("| %s | %d ", r.op.c_str(), r.threads);
    for (const char* p : peers) {
      const Cell* c = r.get(p);
      if (c == nullptr) {
        std::printf("| — ");
      } else if (c->values.empty()) {
        notes.push_back(std::string(p) + ", " + r.op + " (" + std::to_string(r.threads) + "): " + c->na);
        std::printf("| n/a[s%zu] ", notes.size());
      } else {
        std::printf("| %s ", fmt_value(median(c->values), c->unit).c_str());
      }
    }
    const bool ratios = r.get(kUnix) == nullptr || r.get(kUnix)->unit != "msgs";
    auto ratio = [&](const char* a, const char* b) { return ratios ? fmt_ratio(r.get(a), r.get(b)) : "—"; };
    std::printf("| %s | %s | %s | %s |\n", ratio(kUnix, kEmbedded).c_str(), ratio(kTls, kEmbedded).c_str(),
                ratio(kUnix, kP11kit).c_str(), ratio(kTls, kP11kit).c_str());
  }
  if (!notes.empty()) {
    std::printf("\n");
    for (size_t i = 0; i < notes.size(); ++i) std::printf("n/a[s%zu] %s\n", i + 1, notes[i].c_str());
  }
  std::printf("\nOne server (ferrohsm-server) and one store serve every sidecar column; p11-kit: `p11-kit server`\n"
              "spawning `p11-kit remote` with the embedded library per client, reached by p11-kit-client.so.\n"
              "Crypto rows: C_*Init + the one-shot call (two round trips through a sidecar). \"processes\":\n"
              "thr is the number of client processes. Resident memory in sidecar columns is the client's.\n"
              "Ratios > 1: the sidecar faster (ops/s) or smaller (ms, MiB).\n");

  std::vector<Goal> goals;
  null_call(rows, goals);
  sign_ratios(rows, goals);
  mechanisms(rows, goals);
  round_trip(rows, goals);
  login(rows, goals);
  processes(rows, goals);
  std::printf("\n### Goals of issue 13, item 9\n\n| goal | measured | met? |\n|---|---|---|\n");
  for (const Goal& g : goals)
    std::printf("| %s | %s | %s |\n", g.what.c_str(), g.measured.empty() ? "—" : g.measured.c_str(),
                g.met + g.missed == 0 && !g.measured.empty() ? "—" : g.verdict());
  std::printf("\nRound trips: 1 / (operations per second) of one thread, i.e. the mean, not a percentile.\n");
}

}  // namespace p11bench
