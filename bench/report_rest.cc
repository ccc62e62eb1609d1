// The REST part of `p11bench report`: the same operations through the embedded PKCS#11
// library and through ferrohsm-server's REST API over HTTPS (peers rest-p11 and rest,
// measured alternately by `p11bench rest-pair`), and the goals of issue 15, item 6.
#include "report_table.h"

#include <cstdio>

namespace p11bench {

void print_rest(const std::vector<Row>& rows) {
  const std::string prefix = "rest: ";
  bool any = false;
  double sign8 = -1, latency = -1;
  for (const Row& r : rows) {
    if (r.op.rfind(prefix, 0) != 0) continue;
    if (!any) {
      std::printf("\n## REST API (HTTPS, TLS 1.3 + client certificate, keep-alive; one connection per client)\n\n");
      std::printf("| operation | clients | PKCS#11 embedded | REST | REST/PKCS#11 |\n|---|---|---|---|---|\n");
      any = true;
    }
    const Cell* p11 = r.get("rest-p11");
    const Cell* rest = r.get("rest");
    auto cell = [](const Cell* c) {
      if (c == nullptr) return std::string("—");
      return c->values.empty() ? "n/a (" + c->na + ")" : fmt_value(median(c->values), c->unit);
    };
    std::printf("| %s | %d | %s | %s | %s |\n", r.op.c_str() + prefix.size(), r.threads, cell(p11).c_str(),
                cell(rest).c_str(), p11 != nullptr ? fmt_ratio(rest, p11).c_str() : "—");
    double a, b;
    if (r.op == "rest: sign ECDSA P-256 32B digest" && r.threads == 8 && r.value("rest", a) && r.value("rest-p11", b))
      sign8 = a / b;
    if (r.op == "rest: sign ECDSA P-256 p50 latency") r.value("rest", latency);
  }
  if (!any) return;
  std::printf("\nPKCS#11 rows: C_*Init + the one-shot call on one session per client thread, in the same process\n"
              "as the REST clients, alternating with them. REST rows: one POST per operation.\n");
  std::printf("\n### Goals of issue 15, item 6\n\n| goal | measured | met? |\n|---|---|---|\n");
  auto verdict = [](bool have, bool ok) { return !have ? "not measured" : ok ? "met" : "**missed**"; };
  std::printf("| REST ECDSA P-256 sign ≥ 0.5 × embedded PKCS#11 sign, 8 clients | %s | %s |\n",
              sign8 < 0 ? "—" : num("%.2f ×", sign8).c_str(), verdict(sign8 >= 0, sign8 >= 0.5));
  std::printf("| p50 latency of a REST sign ≤ 200 µs on loopback | %s | %s |\n",
              latency < 0 ? "—" : num("%.0f µs", latency).c_str(), verdict(latency >= 0, latency <= 200));
}

}  // namespace p11bench
