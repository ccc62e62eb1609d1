// The audit part of `p11bench report`: ECDSA P-256 signing on the same store and token
// with the audit trail off and on (peers audit-off and audit-on, alternating runs in the
// same rounds), and the goal of issue 14 (item 3): with audit on, at least 0.90× the
// throughput with audit off. Each measured sign is a C_SignInit (which writes a record)
// and a C_Sign.
#include "report_table.h"

#include <cstdio>

namespace p11bench {

void print_audit(const std::vector<Row>& rows) {
  bool any = false;
  for (const Row& r : rows) {
    double off = 0, on = 0;
    if (!r.value("audit-off", off) || !r.value("audit-on", on)) continue;
    if (!any) {
      std::printf("\nAudit trail ([audit] file, signed checkpoints; docs/AUDIT.md): the same token, audit off and on\n\n");
      std::printf("| operation | thr | audit off | audit on | on/off | goal ≥ 0.90 |\n|---|---|---|---|---|---|\n");
      any = true;
    }
    const double ratio = off > 0 ? on / off : 0;
    std::printf("| %s | %d | %s | %s | %s | %s |\n", r.op.c_str(), r.threads,
                fmt_value(off, r.get("audit-off")->unit).c_str(), fmt_value(on, r.get("audit-on")->unit).c_str(),
                num("%.2f", ratio).c_str(), ratio >= 0.90 ? "met" : "NOT met");
  }
}

}  // namespace p11bench
