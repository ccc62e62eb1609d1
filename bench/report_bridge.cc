// The bridge part of `p11bench report`: SoftHSMv2 called directly beside the same
// SoftHSMv2 token served through FerroHSM's bridge ([[bridge]], peer "bridge"), measured
// in the same run — what the bridge adds per operation, and the goal of issue 12
// (item 6): no more than 2 µs per call for ECDSA P-256 sign and SHA-256 64 B digest.
// Two measurements: the crypto rows of both peers (separate processes, alternating
// rounds), and `p11bench bridge-pair` (both paths in one process, alternating batches,
// the median of the paired differences), which the goal takes when the run has it: a
// difference of 2 µs in an operation of 100 µs is below the noise of the first on a
// shared machine.
#include "bridge_pair.h"
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

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

const Row* find(const std::vector<Row>& rows, const std::string& op) {
  for (const Row& r : rows)
    if (r.op == op && r.threads == 1) return &r;
  return nullptr;
}

// Microseconds the bridge adds to one operation of a crypto row (medians of both cells).
bool added_us(const Row& r, double& us) {
  double direct = 0, bridged = 0;
  if (!r.value(kDirect, direct) || !r.value(kBridge, bridged) || r.get(kDirect)->unit != "ops/s") return false;
  us = 1e6 / bridged - 1e6 / direct;
  return true;
}

std::string cell(const Row& r, const char* peer, std::vector<std::string>& notes) {
  const Cell* c = r.get(peer);
  if (c == nullptr) return "—";
  if (c->values.empty()) {
    notes.push_back(std::string(peer) + ", " + r.op + " (" + std::to_string(r.threads) + " thr): " + c->na);
    return "n/a[b" + std::to_string(notes.size()) + "]";
  }
  return fmt_value(median(c->values), c->unit);
}

void print_rows(const std::vector<Row>& rows, std::vector<std::string>& notes) {
  std::printf("| operation | thr | SoftHSMv2 directly | through the bridge | bridge/direct | +µs per operation | "
              "+µs per call |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    if (r.get(kBridge) == nullptr || starts_with(r.op, kBridgePairPrefix) || starts_with(r.op, kBridgePairAddedPrefix))
      continue;
    double us = 0;
    const bool have = r.threads == 1 && added_us(r, us);  // with 2 threads the µs are not one call's
    const int calls = calls_per_op(r.op);
    std::printf("| %s | %d | %s | %s | %s | %s | %s |\n", r.op.c_str(), r.threads, cell(r, kDirect, notes).c_str(),
                cell(r, kBridge, notes).c_str(), fmt_ratio(r.get(kBridge), r.get(kDirect)).c_str(),
                have ? num("%+.2f", us).c_str() : "", have && calls > 0 ? num("%+.2f", us / calls).c_str() : "");
  }
}

// The paired rows; true when there were any.
bool print_pairs(const std::vector<Row>& rows, std::vector<std::string>& notes) {
  bool any = false;
  for (const OpSpec& op : crypto_ops()) {
    const Row* r = find(rows, kBridgePairPrefix + op.name);
    if (r == nullptr) continue;
    if (!any) {
      std::printf("\nPaired, in one process (`p11bench bridge-pair`):\n\n");
      std::printf("| operation | SoftHSMv2 directly | through the bridge | +µs per operation | +µs per call |\n");
      std::printf("|---|---|---|---|---|\n");
      any = true;
    }
    const Row* a = find(rows, kBridgePairAddedPrefix + op.name);
    double us = 0;
    const bool have = a != nullptr && a->value(kBridge, us);
    const int calls = calls_per_op(op.name);
    std::printf("| %s | %s | %s | %s | %s |\n", op.name.c_str(), cell(*r, kDirect, notes).c_str(),
                cell(*r, kBridge, notes).c_str(), have ? num("%+.2f", us).c_str() : "—",
                have && calls > 0 ? num("%+.2f", us / calls).c_str() : "—");
  }
  return any;
}

}  // namespace

void print_bridge(const std::vector<Row>& rows) {
  if (std::none_of(rows.begin(), rows.end(), [](const Row& r) { return r.get(kBridge) != nullptr; })) return;
  std::vector<std::string> notes;
  std::printf("\n## SoftHSMv2 through FerroHSM's bridge\n\n");
  print_rows(rows, notes);
  const bool paired = print_pairs(rows, notes);
  if (!notes.empty()) {
    std::printf("\n");
    for (size_t i = 0; i < notes.size(); ++i) std::printf("n/a[b%zu] %s\n", i + 1, notes[i].c_str());
  }
  std::printf("\nBoth columns are the same SoftHSMv2 token. An operation is the *Init call and the one-shot\n"
              "call (the null call: C_GetSessionInfo alone); +µs per call divides by the PKCS#11 calls of the\n"
              "operation. The first table: separate processes, rounds alternating (bridge/direct > 1: the\n"
              "bridge faster); the paired one: both paths in one process, %s.\n",
              "40 alternating batches of each, the median of the batch-by-batch differences");

  std::printf("\n### Goal of issue 12, item 6\n\n| goal | measured | met? |\n|---|---|---|\n");
  for (const std::string& op : {std::string("sign ECDSA P-256 32B digest"), std::string("digest SHA-256 64B"),
                                std::string(kNullCallOp)}) {
    double us = 0;
    bool have = false;
    std::string how;
    if (const Row* a = find(rows, kBridgePairAddedPrefix + op); paired && a != nullptr && a->value(kBridge, us)) {
      have = true;
      how = "paired";
    } else if (const Row* r = find(rows, op); r != nullptr && added_us(*r, us)) {
      have = true;
      how = "crypto rows";
    }
    const double per_call = have ? us / calls_per_op(op) : 0;  // 1 or 2 for these rows
    std::printf("| the bridge adds ≤ %.0f µs per call: %s | %s | %s |\n", kGoalUs, op.c_str(),
                have ? (num("%+.2f µs per call", per_call) + num(" (%+.2f µs per operation, ", us) + how + ")").c_str()
                     : "—",
                !have ? "not measured" : per_call <= kGoalUs ? "met" : "**missed**");
  }
}

}  // namespace p11bench
