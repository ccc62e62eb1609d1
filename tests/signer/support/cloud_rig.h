// A cloud adapter wired to its loopback fake, for the contract and resilience suites:
// the fake, the provider over it (fast retries, short attempt timeouts), and what each
// service's faults look like on the wire.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_server.h"
#include "ferrohsm/signer/key_provider.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {

class CloudRig {
 public:
  virtual ~CloudRig() = default;
  virtual std::string name() const = 0;
  virtual KeyProvider& provider() = 0;
  virtual FakeServer& fake() = 0;
  // The service's answer to "slow down" and to an internal failure, as it sends them.
  virtual Fault throttle() const = 0;
  virtual Fault server_error() const = 0;
  // Part of the path of sign requests (faults aimed at them), "" when every call shares a path.
  virtual std::string sign_path() const = 0;
  // Behind the adapter's back: the key is gone, disabled, or the credentials expired early.
  virtual void delete_key(const std::string& handle) = 0;
  virtual void disable_key(const std::string& handle) = 0;
  virtual void expire_credentials() = 0;
  // How often the adapter fetched credentials (STS exchange, token request) so far.
  virtual int credential_fetches() const = 0;
  // The secrets a log must never show (keys, tokens).
  virtual std::vector<std::string> secrets() const = 0;
  // A known key for (scope, key_id) in the fake, found through the adapter: its handle and public key.
  virtual std::optional<GeneratedKey> import_key(const Scope& scope, const KeyId& key_id,
                                                 std::span<const std::uint8_t, 32> seed) = 0;
};

std::unique_ptr<CloudRig> make_aws_rig();
std::unique_ptr<CloudRig> make_gcp_rig();

// A provider that owns its rig, so the contract suite's factories can hand out one object.
class RigProvider final : public KeyProvider {
 public:
  explicit RigProvider(std::unique_ptr<CloudRig> rig) : rig_(std::move(rig)) {}
  CloudRig& rig() { return *rig_; }
  std::string_view name() const override { return rig_->provider().name(); }
  Result<GeneratedKey> generate(const Context& c, const Scope& s, const KeyId& k) override {
    return rig_->provider().generate(c, s, k);
  }
  Result<Signature> sign(const Context& c, const std::string& h, const Digest& d) override {
    return rig_->provider().sign(c, h, d);
  }
  Result<PublicKey> public_key(const Context& c, const std::string& h) override { return rig_->provider().public_key(c, h); }
  Status retire(const Context& c, const std::string& h) override { return rig_->provider().retire(c, h); }

 private:
  std::unique_ptr<CloudRig> rig_;
};

// Captures what the signer logs (spdlog) while it lives.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrohsm::signer::testing
