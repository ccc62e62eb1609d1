#include <ferrohsm/client/telemetry.h>
#include <gtest/gtest.h>

#include <memory>

namespace fc = ferrohsm::client;
using namespace std::chrono_literals;

namespace {
struct Recorder : fc::Sink {
  std::vector<fc::Event> events;
  void handle(const fc::Event& e) override { events.push_back(e); }
};
fc::Event ev(const char* name, std::chrono::nanoseconds d, const char* result) {
  return fc::Event{name, "hsm1", 2, "CKM_ECDSA", d, result, ""};
}
}  // namespace

TEST(Telemetry, DeliversToEverySink) {
  fc::Telemetry t;
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  t.add_sink(a);
  t.add_sink(b);
  t.add_sink(std::make_shared<fc::LogSink>());
  t.emit(ev("slot.sign", 1ms, "ok"));
  ASSERT_EQ(a->events.size(), 1u);
  ASSERT_EQ(b->events.size(), 1u);
  EXPECT_EQ(a->events[0].slot_ref, "hsm1");
  EXPECT_EQ(a->events[0].worker_index, 2);
}

TEST(Telemetry, PrometheusCountsAndBuckets) {
  fc::PrometheusSink p;
  p.handle(ev("slot.sign", 300us, "ok"));
  p.handle(ev("slot.sign", 3ms, "ok"));
  p.handle(ev("slot.sign", 3ms, "CKR_PIN_INCORRECT"));
  std::string text = p.render();
  EXPECT_NE(text.find("# TYPE ferrohsm_client_events_total counter"), std::string::npos);
  EXPECT_NE(text.find("ferrohsm_client_events_total{event=\"slot.sign\",slot_ref=\"hsm1\",worker=\"2\","
                      "mechanism=\"CKM_ECDSA\",result=\"ok\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("result=\"CKR_PIN_INCORRECT\"} 1"), std::string::npos) << text;
  // 300µs falls in le=0.0005; both 3ms in le=0.005 (cumulative 3).
  EXPECT_NE(text.find("ferrohsm_client_duration_seconds_bucket{event=\"slot.sign\",slot_ref=\"hsm1\",le=\"0.0005\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"0.005\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("ferrohsm_client_duration_seconds_count{event=\"slot.sign\",slot_ref=\"hsm1\"} 3"),
            std::string::npos);
}
