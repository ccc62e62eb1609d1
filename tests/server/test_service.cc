#include "test_service.h"

#include <chrono>
#include <thread>

namespace ferrohsm::server::testing {
namespace {

class TestApplication final : public Application {
 public:
  TestApplication(TestCounters& c, Peer peer, Grant grant) : c_(c), peer_(std::move(peer)), grant_(std::move(grant)) {}
  void call(const wire::Call& in, wire::Return& out) override {
    c_.calls_started.fetch_add(1);
    out.set_rv(CKR_OK);
    switch (in.function()) {
      case kEcho:
        *out.mutable_args() = in.args();
        break;
      case kSleep:
      case kSlowSleep:
        if (in.args_size() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(in.args(0).u()));
        break;
      case kWhoAmI:
        out.add_args()->set_data(peer_.identity);
        out.add_args()->set_data(grant_.rule);
        out.add_args()->set_u(grant_.admin ? 1 : 0);
        break;
      default:
        out.set_rv(CKR_FUNCTION_NOT_SUPPORTED);
    }
    c_.calls_finished.fetch_add(1);
  }
  void closed() override { c_.closed.fetch_add(1); }

 private:
  TestCounters& c_;
  Peer peer_;
  Grant grant_;
};

}  // namespace

std::unique_ptr<Application> TestService::open(const Peer& peer, const Grant& grant) {
  counters_.opened.fetch_add(1);
  return std::make_unique<TestApplication>(counters_, peer, grant);
}

ServiceStatus TestService::status() const {
  ServiceStatus s;
  s.sessions = counters_.opened.load() - counters_.closed.load();  // one per live application
  s.logged_in_tokens = {"test-token"};
  return s;
}

Status TestService::reload(const ServerConfig&) {
  counters_.reloads.fetch_add(1);
  return {};
}

}  // namespace ferrohsm::server::testing
