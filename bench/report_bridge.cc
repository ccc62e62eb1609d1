// The bridge part of `p11bench report`: SoftHSMv2 called directly beside the same
// SoftHSMv2 token served through FerroHSM's bridge ([[bridge]], peer "bridge"), measured
// in the same run — what the bridge adds per operation, and the goal of issue 12
// (item 6): no more than 2 µs per call for ECDSA P-256 sign and SHA-256 64 B digest.
#include "ops.h"
#include "report_table.h"

#include <algorithm>
#include <cstdio>

namespace p11bench {
namespace {

const char* const kDirect = "softhsm";
const char* const kBridge = "bridge";
constexpr double kGoalUs = 2.0;

// PKCS#11 calls per measured operation: the null call is one, a sign, verify, cipher or
// digest row its *Init call and the one-shot call; 0 for key generation (a generation and
// the destruction of what it made: no per-call figure).
int calls_per_op(const std::string& op) {
  for (const OpSpec& o : crypto_ops())
    if (o.name == op) return o.kind == Kind::kNull ? 1 : o.kind == Kind::kGenerate ? 0 : 2;
  return 0;
}

std::string num(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Microseconds the bridge adds to one operation (medians of both cells), when both have one.
bool added_us(const Row& r, double& us) {
  double direct = 0, bridged = 0;
  if (!r.value(kDirect, direct) || !r.value(kBridge, bridged) || r.get(kDirect)->unit != "ops/s") return false;
  us = 1e6 / bridged - 1e6 / direct;
  return true;
}

}  // namespace

void print_bridge(const std::vector<Row>& rows) {
  auto bridge_row = [](const Row& r) { return r.get(kBridge) != nullptr; };
  if (std::none_of(rows.begin(), rows.end(), bridge_row)) return;
  std::vector<std::string> notes;
  std::printf("\n## SoftHSMv2 through FerroHSM's bridge\n\n");
  std::printf("| operation | thr | SoftHSMv2 directly | through the bridge | bridge/direct | +µs per operation | "
              "+µs per call |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    if (!bridge_row(r)) continue;
    std::printf("| %s | %d ", r.op.c_str(), r.threads);
    for (const char* p : {kDirect, kBridge}) {
      const Cell* c = r.get(p);
      if (c == nullptr) {
        std::printf("| — ");
      } else if (c->values.empty()) {
        notes.push_back(std::string(p) + ", " + r.op + " (" + std::to_string(r.threads) + " thr): " + c->na);
        std::printf("| n/a[b%zu] ", notes.size());
      } else {
        std::printf("| %s ", fmt_value(median(c->values), c->unit).c_str());
      }
    }
    double us = 0;
    const bool have = r.threads == 1 && added_us(r, us);  // with 2 threads the µs are not one call's
    const int calls = calls_per_op(r.op);
    std::printf("| %s | %s | %s |\n", fmt_ratio(r.get(kBridge), r.get(kDirect)).c_str(),
                have ? num("%+.2f", us).c_str() : "", have && calls > 0 ? num("%+.2f", us / calls).c_str() : "");
  }
  if (!notes.empty()) {
    std::printf("\n");
    for (size_t i = 0; i < notes.size(); ++i) std::printf("n/a[b%zu] %s\n", i + 1, notes[i].c_str());
  }
  std::printf("\nBoth columns are the same SoftHSMv2 token (one run, rounds alternating). An operation is the\n"
              "*Init call and the one-shot call (the null call: C_GetSessionInfo alone); +µs per call divides\n"
              "by the PKCS#11 calls of the operation. bridge/direct > 1: the bridge faster.\n");

  std::printf("\n### Goal of issue 12, item 6\n\n| goal | measured | met? |\n|---|---|---|\n");
  for (const std::string& op : {std::string("sign ECDSA P-256 32B digest"), std::string("digest SHA-256 64B"),
                                std::string(kNullCallOp)}) {
    const Row* r = nullptr;
    for (const Row& x : rows)
      if (x.op == op && x.threads == 1) r = &x;
    double us = 0;
    const bool have = r != nullptr && added_us(*r, us);
    const double per_call = have ? us / calls_per_op(op) : 0;  // 1 or 2 for these rows
    std::printf("| the bridge adds ≤ %.0f µs per call: %s | %s | %s |\n", kGoalUs, op.c_str(),
                have ? (num("%+.2f µs per call", per_call) + num(" (%+.2f µs per operation)", us)).c_str() : "—",
                !have ? "not measured" : per_call <= kGoalUs ? "met" : "**missed**");
  }
}

}  // namespace p11bench
