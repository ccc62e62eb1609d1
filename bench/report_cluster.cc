// The PostgreSQL part of `p11bench report` (issue 16, bench/run.sh with BENCH_PG=1): the
// embedded library on a PostgreSQL store (peer "postgres") beside the same on SQLite
// (peer "ferrohsm") for durable creation and find by label, ECDSA P-256 signing by
// client processes through one ferrohsm-server and through two on the same database
// (peers "pg-1-server" and "pg-2-servers"), and the goals with what was measured.
#include "report_table.h"

#include <cstdio>
#include <string>

namespace p11bench {
namespace {

const char* const kSqlite = "ferrohsm";
const char* const kPg = "postgres";
const char* const kOne = "pg-1-server";
const char* const kTwo = "pg-2-servers";
const char* const kSignRow = "processes: sign ECDSA P-256 32B digest";

std::string cell(const Row& r, const char* peer) {
  const Cell* c = r.get(peer);
  if (c == nullptr) return "—";
  if (c->values.empty()) return "n/a (" + c->na + ")";
  std::string v = fmt_value(median(c->values), c->unit);
  // A find is a few µs: say it per call as well.
  if (c->unit == "ops/s" && r.op.starts_with("find")) v += " (" + num("%.1f µs", 1e6 / median(c->values)) + ")";
  return v + (busy(*c) ? " *" : "");
}

void goal(const std::string& what, bool measured, const std::string& value, bool met) {
  std::printf("| %s | %s | %s |\n", what.c_str(), measured ? value.c_str() : "not measured",
              !measured ? "—" : met ? "met" : "**missed**");
}

}  // namespace

void print_cluster(const std::vector<Row>& rows) {
  bool any = false;
  for (const Row& r : rows) any = any || r.get(kPg) != nullptr || r.get(kOne) != nullptr;
  if (!any) return;
  std::printf("\nPostgreSQL store (docs/CLUSTER.md): the embedded library on PostgreSQL beside SQLite, durable\n"
              "(PostgreSQL: fsync = on, synchronous_commit = on)\n\n");
  std::printf("| operation | thr | SQLite | PostgreSQL | PostgreSQL/SQLite |\n|---|---|---|---|---|\n");
  double create8 = -1, find_us = -1;
  std::string find_op;
  for (const Row& r : rows) {
    if (r.get(kPg) == nullptr) continue;
    std::printf("| %s | %d | %s | %s | %s |\n", r.op.c_str(), r.threads, cell(r, kSqlite).c_str(), cell(r, kPg).c_str(),
                fmt_ratio(r.get(kPg), r.get(kSqlite)).c_str());
    double v;
    if (r.op == "create token object (durable)" && r.threads == 8 && r.value(kPg, v)) create8 = v;
    if (r.op.starts_with("find by label among") && r.value(kPg, v) && v > 0) find_us = 1e6 / v, find_op = r.op;
  }
  double one = -1, two = -1;
  for (const Row& r : rows) {
    if (r.op != kSignRow || (r.get(kOne) == nullptr && r.get(kTwo) == nullptr)) continue;
    std::printf("\nECDSA P-256 signing by %d client processes (sidecar, unix:), through one ferrohsm-server and through\n"
                "two on the same PostgreSQL database (half the processes each), on %u cores shared with the clients,\n"
                "the servers and PostgreSQL\n\n",
                r.threads, cores());
    std::printf("| operation | processes | one server | two servers | two/one |\n|---|---|---|---|---|\n");
    std::printf("| %s | %d | %s | %s | %s |\n", r.op.c_str(), r.threads, cell(r, kOne).c_str(), cell(r, kTwo).c_str(),
                fmt_ratio(r.get(kTwo), r.get(kOne)).c_str());
    r.value(kOne, one);
    r.value(kTwo, two);
  }
  std::printf("\n| goal (issue 16) | measured | |\n|---|---|---|\n");
  goal("durable token-object creation ≥ 1,000 objects/s with 8 callers, PostgreSQL", create8 >= 0,
       fmt_value(create8, "ops/s") + " objects/s", create8 >= 1000);
  goal("find by label ≤ 100 µs among the largest stage, PostgreSQL", find_us >= 0,
       num("%.1f µs", find_us) + " (" + find_op + ")", find_us <= 100);
  goal("ECDSA P-256 signing through two servers ≥ 1.6 × one", one > 0 && two > 0,
       num("%.2f ×", two / (one > 0 ? one : 1)) + " (" + std::to_string(cores()) + " cores for everything)",
       two >= 1.6 * one);
}

}  // namespace p11bench
