// The result lines of a run, grouped into rows (operation, threads) with one cell per
// peer; shared by the main table (report.cc) and the sidecar table (report_sidecar.cc).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace p11bench {

struct Cell {
  std::vector<double> values;  // one per round
  std::string unit;
  std::string na;  // a reason, when no round produced a value
  double max_load = -1;  // the highest 1-minute load average among its rounds (-1: not recorded)
};

// The machine's cores, and whether a cell was measured while the load exceeded them
// (the main table marks such cells with "*").
unsigned cores();
bool busy(const Cell& c);

struct Row {
  std::string op;
  int threads = 1;
  std::map<std::string, Cell> cells;  // by peer

  const Cell* get(const std::string& peer) const;
  // The median over the rounds; nullptr-safe: false when the peer has no value.
  bool value(const std::string& peer, double& out) const;
};

double median(std::vector<double> v);
std::string fmt_value(double v, const std::string& unit);
// a against b, oriented so that > 1 means a is better (faster; smaller for ms / MiB). "—" when either is missing.
std::string fmt_ratio(const Cell* a, const Cell* b);

// v printed with the printf format f ("%.2f").
std::string num(const char* f, double v);

// Prints the table of the sidecar peers and the goals of issue 13, when the run has them.
void print_sidecar(const std::vector<Row>& rows);
// Prints SoftHSMv2 directly beside SoftHSMv2 through FerroHSM's bridge and the goal of
// issue 12, when the run has the bridge peer.
void print_bridge(const std::vector<Row>& rows);
// The audit trail's cost: the rows of peers audit-off and audit-on (report_audit.cc).
void print_audit(const std::vector<Row>& rows);
// The REST API beside embedded PKCS#11 and the goals of issue 15 (report_rest.cc).
void print_rest(const std::vector<Row>& rows);
// The PostgreSQL store beside SQLite, signing through one and two servers on one
// database, and the goals of issue 16 (report_cluster.cc).
void print_cluster(const std::vector<Row>& rows);

}  // namespace p11bench
