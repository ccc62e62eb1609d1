// aws-kms over FakeAwsKms, with web-identity credentials (STS), so "the credentials
// expired" is answered by a new STS exchange.
#include <stdexcept>

#include "base/bytes.h"
#include "fakes/fake_aws_kms.h"
#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/providers.h"
#include "support/cloud_rig.h"

namespace ferrohsm::signer::testing {

namespace {
EnvLookup env_of(std::map<std::string, std::string> env) {
  return [env = std::move(env)](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

class AwsRig final : public CloudRig {
 public:
  static constexpr const char* kRole = "arn:aws:iam::111122223333:role/signer";
  static constexpr const char* kIdentityToken = "eyJhbGciOiJSUzI1NiJ9.web-identity.signature";

  AwsRig() {
    write_file(dir_.file("token"), as_bytes(kIdentityToken));
    fake_.allow_web_identity(kIdentityToken, kRole, std::chrono::hours(1));
    AwsKmsSettings s;
    s.region = FakeAwsKms::kRegion;
    s.endpoint = fake_.url();
    s.sts_endpoint = fake_.url();
    s.http.attempt_timeout_ms = 400;
    s.http.backoff_base_ms = 5;
    s.http.backoff_max_ms = 40;
    s.env = env_of({{"AWS_WEB_IDENTITY_TOKEN_FILE", dir_.file("token")}, {"AWS_ROLE_ARN", kRole}});
    auto p = make_aws_kms_provider(s);
    if (!p) throw std::runtime_error(p.error().message);
    provider_ = std::move(*p);
  }
  std::string name() const override { return "aws_kms"; }
  KeyProvider& provider() override { return *provider_; }
  FakeServer& fake() override { return fake_; }
  FakeAwsKms& aws() { return fake_; }
  Fault throttle() const override {
    return {400, "application/x-amz-json-1.1", R"({"__type":"ThrottlingException","message":"Rate exceeded"})",
            {{"x-amzn-ErrorType", "ThrottlingException"}}};
  }
  Fault server_error() const override {
    return {500, "application/x-amz-json-1.1",
            R"({"__type":"KMSInternalException","message":"An internal error has occurred"})",
            {{"x-amzn-ErrorType", "KMSInternalException"}}};
  }
  std::string sign_path() const override { return ""; }
  void delete_key(const std::string& handle) override { fake_.forget_key(handle); }
  void disable_key(const std::string& handle) override { fake_.set_state(handle, "Disabled"); }
  void expire_credentials() override { fake_.expire_temporary_credentials(); }
  int credential_fetches() const override { return fake_.sts_exchanges(); }
  std::vector<std::string> secrets() const override { return {kIdentityToken}; }
  std::optional<GeneratedKey> import_key(const Scope& scope, const KeyId& key_id,
                                         std::span<const std::uint8_t, 32> seed) override {
    fake_.import_key("alias/ferrohsm/" + cloud::escape_name_part(scope.str()) + "/" +
                         cloud::escape_name_part(key_id.str()),
                     seed);
    auto found = provider_->generate(Context::background(), scope, key_id);  // finds it by its alias
    if (!found) return std::nullopt;
    return *found;
  }

 private:
  TempDir dir_;
  FakeAwsKms fake_;
  std::unique_ptr<KeyProvider> provider_;
};
}  // namespace

std::unique_ptr<CloudRig> make_aws_rig() { return std::make_unique<AwsRig>(); }

}  // namespace ferrohsm::signer::testing
