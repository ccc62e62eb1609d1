// Shared by the pkcs11 provider tests: settings over the test token, an operator's own
// logged-in session, a telemetry recorder, and a fixture that fails without a token
// (a module that does not load is a failure, never a reason to skip).
#pragma once

#include <ferrohsm/client/module.h>
#include <ferrohsm/client/session.h>
#include <ferrohsm/client/telemetry.h>
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferrohsm/signer/provider_registry.h"
#include "support/test_token.h"

namespace ferrohsm::signer::testing {

inline Pkcs11Settings settings_for(const std::string& label, int sessions = 4) {
  const auto& token = test_token();
  Pkcs11Settings s;
  s.module = token.module_path;
  s.slot = token.slot;
  s.pin_file = token.pin_file;
  s.label = label;
  s.sessions = sessions;
  return s;
}

// A session of the test's own (not the provider's), logged in as the user.
inline std::optional<client::Session> user_session() {
  const auto& token = test_token();
  auto session = token.module->open_session(token.slot, true);
  if (!session) {
    ADD_FAILURE() << session.error().message;
    return std::nullopt;
  }
  if (auto s = session->login(CKU_USER, client::Secret(kTokenUserPin)); !s) {
    ADD_FAILURE() << s.error().message;
    return std::nullopt;
  }
  return std::move(*session);
}

// Records the slot servers' telemetry events.
struct EventRecorder : client::Sink {
  std::mutex mu;
  std::vector<client::Event> events;
  void handle(const client::Event& e) override {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
  int count(const std::string& name, const std::string& result = "", const std::string& step = "") {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& e : events)
      if (e.name == name && (result.empty() || e.result == result) && (step.empty() || e.step == step)) ++n;
    return n;
  }
};

class Pkcs11Fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_token().error.empty()) FAIL() << test_token().error;
  }
};

}  // namespace ferrohsm::signer::testing
