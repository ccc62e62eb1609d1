// `p11bench report FILE`: the tables of a `make bench` run. FILE holds the result
// lines of every round ("R peer op threads unit value"); each cell is the median over
// the rounds. The main table sets embedded FerroHSM against SoftHSMv2 and OpenSSL;
// ratios are oriented so that > 1 means FerroHSM is better (faster, or for ms / MiB
// rows smaller). The sidecar peers get their own table (report_sidecar.cc), and so does
// SoftHSMv2 through FerroHSM's bridge (report_bridge.cc).
#include "report.h"

#include "bridge_pair.h"
#include "report_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace p11bench {
namespace {

const char* const kPeers[] = {"ferrohsm", "softhsm", "openssl"};

// Extra time per call over OpenSSL, in µs (ops/s rows only).
std::string fmt_overhead(const Cell* f, const Cell* o) {
  if (f == nullptr || o == nullptr || f->values.empty() || o->values.empty() || f->unit != "ops/s") return "";
  if (median(f->values) < 1000 || median(o->values) < 1000) return "";  // only where a µs matters
  double us = 1e6 / median(f->values) - 1e6 / median(o->values);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", us);
  return buf;
}

}  // namespace

const Cell* Row::get(const std::string& peer) const {
  auto it = cells.find(peer);
  return it == cells.end() ? nullptr : &it->second;
}

bool Row::value(const std::string& peer, double& out) const {
  const Cell* c = get(peer);
  if (c == nullptr || c->values.empty()) return false;
  out = median(c->values);
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt_value(double v, const std::string& unit) {
  char b[48];
  if (unit == "ops/s") {
    if (v >= 1e6) std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
    else if (v >= 1e4) std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
    else if (v >= 1e3) std::snprintf(b, sizeof b, "%.2fk", v / 1e3);
    else std::snprintf(b, sizeof b, "%.1f", v);
  } else if (unit == "ms") {
    std::snprintf(b, sizeof b, v < 10 ? "%.2f ms" : "%.0f ms", v);
  } else if (unit == "msgs") {
    std::snprintf(b, sizeof b, "%.2f", v);
  } else {
    std::snprintf(b, sizeof b, "%.1f %s", v, unit.c_str());
  }
  return b;
}

std::string fmt_ratio(const Cell* f, const Cell* o) {
  if (f == nullptr || o == nullptr || f->values.empty() || o->values.empty()) return "—";
  double a = median(f->values), b = median(o->values);
  if (a <= 0 || b <= 0) return "—";
  double r = f->unit == "ops/s" ? a / b : b / a;
  char buf[32];
  std::snprintf(buf, sizeof buf, r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.2f", r);
  return buf;
}

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

bool busy(const Cell& c) { return c.max_load > static_cast<double>(cores()); }

std::string num(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

int report(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "p11bench report: cannot read %s\n", path.c_str());
    return 2;
  }
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
    if (f.size() < 6 || f[0] != "R") continue;
    const int threads = std::atoi(f[3].c_str());
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.op == f[2] && r.threads == threads; });
    if (it == rows.end()) {
      rows.push_back(Row{f[2], threads, {}});
      it = rows.end() - 1;
    }
    Cell& c = it->cells[f[1]];
    if (f[4] == "n/a") {
      c.na = f[5];
    } else {
      c.unit = f[4];
      c.values.push_back(std::atof(f[5].c_str()));
      if (f.size() > 6) c.max_load = std::max(c.max_load, std::atof(f[6].c_str()));
    }
  }
  std::vector<std::string> notes;
  std::printf("| operation | thr | FerroHSM | SoftHSMv2 | limit | Ferro/Soft | Ferro/limit | +µs/call vs limit |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    if (std::none_of(std::begin(kPeers), std::end(kPeers), [&](const char* p) { return r.get(p) != nullptr; }))
      continue;  // a row of the sidecar peers only
    if (r.op.rfind(kBridgePairPrefix, 0) == 0 || r.op.rfind(kBridgePairAddedPrefix, 0) == 0)
      continue;  // the bridge's paired rows (report_bridge.cc)
    std::printf("| %s | %d ", r.op.c_str(), r.threads);
    for (const char* p : kPeers) {
      auto it = r.cells.find(p);
      if (it == r.cells.end()) {
        std::printf("| — ");
      } else if (it->second.values.empty()) {
        notes.push_back(std::string(p) + ", " + r.op + " (" + std::to_string(r.threads) + " thr): " + it->second.na);
        std::printf("| n/a[%zu] ", notes.size());
      } else {
        std::printf("| %s%s ", fmt_value(median(it->second.values), it->second.unit).c_str(),
                    busy(it->second) ? " *" : "");
      }
    }
    std::printf("| %s | %s | %s |\n", fmt_ratio(r.get("ferrohsm"), r.get("softhsm")).c_str(),
                fmt_ratio(r.get("ferrohsm"), r.get("openssl")).c_str(),
                fmt_overhead(r.get("ferrohsm"), r.get("openssl")).c_str());
  }
  if (!notes.empty()) {
    std::printf("\n");
    for (size_t i = 0; i < notes.size(); ++i) std::printf("n/a[%zu] %s\n", i + 1, notes[i].c_str());
  }
  double lo = 1e9, hi = -1;
  for (const Row& r : rows)
    for (const auto& [peer, c] : r.cells)
      if (c.max_load >= 0) lo = std::min(lo, c.max_load), hi = std::max(hi, c.max_load);
  if (hi >= 0)
    std::printf("\nMachine load: the 1-minute load average was %.2f–%.2f while the figures were taken, on %u cores;\n"
                "cells marked * were measured while it exceeded the core count (other work shared the CPUs).\n",
                lo, hi, cores());
  std::printf("\nCells: medians over the rounds. limit: OpenSSL EVP directly (crypto rows); one 4 KiB write +\n"
              "fdatasync on the same disk (durable creation). Ratios > 1: FerroHSM faster (ops/s) or smaller (ms, MiB).\n");
  // OpenSSL with a context made, keyed and freed per message (BENCH_OSSL_FRESH): how a
  // program that calls OpenSSL itself does AES-GCM, beside the re-initialising limit.
  bool first_fresh = true;
  for (const Row& r : rows) {
    double fresh = 0, ferro = 0;
    if (!r.value("openssl-fresh", fresh) || !r.value("ferrohsm", ferro) || fresh <= 0) continue;
    std::printf("%s%s, %d thr: FerroHSM %s, OpenSSL with a fresh context per message %s: %.2f x\n",
                first_fresh ? "\n" : "", r.op.c_str(), r.threads, fmt_value(ferro, "ops/s").c_str(),
                fmt_value(fresh, "ops/s").c_str(), ferro / fresh);
    first_fresh = false;
  }
  print_sidecar(rows);
  print_bridge(rows);
  print_audit(rows);
  print_rest(rows);
  print_cluster(rows);
  return 0;
}

}  // namespace p11bench
