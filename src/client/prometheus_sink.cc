// PrometheusSink: counters and latency histograms, rendered in the text format.
#include <ferrohsm/client/telemetry.h>

#include <algorithm>
#include <sstream>

namespace ferrohsm::client {
namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

template <typename V>
V& slot_for(std::vector<std::pair<std::string, V>>& table, const std::string& key) {
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& p) { return p.first == key; });
  if (it != table.end()) return it->second;
  table.emplace_back(key, V{});
  return table.back().second;
}

}  // namespace

const std::vector<double>& PrometheusSink::buckets() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return b;
}

void PrometheusSink::handle(const Event& e) {
  std::string counter_labels = "event=\"" + escape(e.name) + "\",slot_ref=\"" + escape(e.slot_ref) +
                               "\",worker=\"" + std::to_string(e.worker_index) + "\",mechanism=\"" +
                               escape(e.mechanism) + "\",result=\"" + escape(e.result) + "\"";
  if (!e.step.empty()) counter_labels += ",step=\"" + escape(e.step) + "\"";
  std::string histogram_labels = "event=\"" + escape(e.name) + "\",slot_ref=\"" + escape(e.slot_ref) + "\"";
  double seconds = std::chrono::duration<double>(e.duration).count();

  std::lock_guard lock(mu_);
  ++slot_for(counters_, counter_labels);
  Histogram& h = slot_for(histograms_, histogram_labels);
  if (h.counts.empty()) h.counts.assign(buckets().size(), 0);
  for (std::size_t i = 0; i < buckets().size(); ++i) {
    if (seconds <= buckets()[i]) {
      ++h.counts[i];
      break;
    }
  }
  h.sum += seconds;
  ++h.count;
}

std::string PrometheusSink::render() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP ferrohsm_client_events_total Slot server calls by event and result.\n"
      << "# TYPE ferrohsm_client_events_total counter\n";
  for (const auto& [labels, n] : counters_) out << "ferrohsm_client_events_total{" << labels << "} " << n << "\n";
  out << "# HELP ferrohsm_client_duration_seconds Slot server call latency.\n"
      << "# TYPE ferrohsm_client_duration_seconds histogram\n";
  for (const auto& [labels, h] : histograms_) {
    unsigned long long cumulative = 0;
    for (std::size_t i = 0; i < buckets().size(); ++i) {
      cumulative += h.counts[i];
      out << "ferrohsm_client_duration_seconds_bucket{" << labels << ",le=\"" << buckets()[i] << "\"} " << cumulative
          << "\n";
    }
    out << "ferrohsm_client_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
    out << "ferrohsm_client_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    out << "ferrohsm_client_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  return out.str();
}

}  // namespace ferrohsm::client
