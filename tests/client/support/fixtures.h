// Shared fixture pieces: a token with an RSA and an EC key, and slot configs over it.
#pragma once

#include <ferrohsm/client/registry.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <string>

#include "token_env.h"

namespace fhc_test {

namespace fc = ferrohsm::client;

inline const fc::Bytes kData = {'h', 'e', 'l', 'l', 'o', ' ', 'f', 'e', 'r', 'r', 'o'};
// SHA-256 of kData: CKM_ECDSA signs a digest (SoftHSMv2 2.6 has no CKM_ECDSA_SHA256).
inline const fc::Bytes kDigest = [] {
  fc::Bytes d(SHA256_DIGEST_LENGTH);
  SHA256(kData.data(), kData.size(), d.data());
  return d;
}();

// Initialises token `label` on `load_path` with keys "rsa-key" and "ec-key" (once per process per label).
inline void prepare_token(const std::string& load_path, const std::string& label = "client-test") {
  init_token(load_path, label);
  generate_key(load_path, label, "rsa-key", KeyType::rsa);
  generate_key(load_path, label, "ec-key", KeyType::ec);
}

inline fc::SlotConfig slot_config(const std::string& slot_ref, const std::string& load_path,
                                  const std::string& token = "client-test") {
  fc::SlotConfig c;
  c.slot_ref = slot_ref;
  c.module_path = load_path;
  c.token_label = token;
  c.keys = {{"signer", "rsa-key"}, {"ec", "ec-key"}};
  c.backoff = fc::Backoff{4, std::chrono::milliseconds(5), std::chrono::milliseconds(40)};
  return c;
}

// A pin_callback that counts its calls and gives the user PIN.
struct CountingPin {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  fc::PinCallback callback() const {
    auto c = calls;
    return [c](const fc::PinRequest&) {
      ++*c;
      return std::optional<fc::Secret>(fc::Secret(kUserPin));
    };
  }
};

// Records telemetry events.
struct Recorder : fc::Sink {
  std::mutex mu;
  std::vector<fc::Event> events;
  void handle(const fc::Event& e) override {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
  int count(const std::string& name, const std::string& result = "", const std::string& step = "") {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& e : events) {
      if (e.name == name && (result.empty() || e.result == result) && (step.empty() || e.step == step)) ++n;
    }
    return n;
  }
};

inline fc::Mechanism mech(CK_MECHANISM_TYPE t) { return fc::Mechanism{t, {}}; }

}  // namespace fhc_test
