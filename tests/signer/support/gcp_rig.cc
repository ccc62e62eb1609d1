// gcp-kms over FakeGcpKms, with a service-account key whose token endpoint is the fake.
#include <stdexcept>

#include "base/bytes.h"
#include "fakes/fake_gcp_kms.h"
#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "support/cloud_rig.h"

namespace ferrohsm::signer::testing {

namespace {
class GcpRig final : public CloudRig {
 public:
  GcpRig() {
    std::string sa = fake_.service_account_json();
    write_file(dir_.file("sa.json"), as_bytes(sa));
    GcpKmsSettings s;
    s.key_ring = FakeGcpKms::kKeyRing;
    s.endpoint = fake_.url();
    s.credentials_file = dir_.file("sa.json");
    s.http.attempt_timeout_ms = 400;
    s.http.backoff_base_ms = 5;
    s.http.backoff_max_ms = 40;
    s.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    auto p = make_gcp_kms_provider(s);
    if (!p) throw std::runtime_error(p.error().message);
    provider_ = std::move(*p);
  }
  std::string name() const override { return "gcp_kms"; }
  KeyProvider& provider() override { return *provider_; }
  FakeServer& fake() override { return fake_; }
  Fault throttle() const override {
    return {429, "application/json",
            R"({"error":{"code":429,"message":"Quota exceeded for quota metric 'Cryptographic requests'","status":"RESOURCE_EXHAUSTED"}})"};
  }
  Fault server_error() const override {
    return {503, "application/json", R"({"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}})"};
  }
  std::string sign_path() const override { return ":asymmetricSign"; }
  void delete_key(const std::string& handle) override { fake_.forget_key(handle); }
  void disable_key(const std::string& handle) override { fake_.set_version_state(handle, "DISABLED"); }
  void expire_credentials() override { fake_.expire_tokens(); }
  int credential_fetches() const override { return fake_.tokens_issued(); }
  std::vector<std::string> secrets() const override { return {"ya29.fake-", "PRIVATE KEY"}; }
  std::optional<GeneratedKey> import_key(const Scope& scope, const KeyId& key_id,
                                         std::span<const std::uint8_t, 32> seed) override {
    fake_.import_key(cloud::escape_name_part(scope.str()) + "__" + cloud::escape_name_part(key_id.str()), seed);
    auto found = provider_->generate(Context::background(), scope, key_id);
    if (!found) return std::nullopt;
    return *found;
  }
  FakeGcpKms& gcp() { return fake_; }

 private:
  TempDir dir_;
  FakeGcpKms fake_;
  std::unique_ptr<KeyProvider> provider_;
};
}  // namespace

std::unique_ptr<CloudRig> make_gcp_rig() { return std::make_unique<GcpRig>(); }

}  // namespace ferrohsm::signer::testing
