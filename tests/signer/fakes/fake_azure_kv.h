// A loopback Azure Key Vault (GET /keys/{name}/{version}?api-version=…) and its Entra ID
// token endpoint (client-credentials grant: client id, secret and the vault scope are
// checked). Key Vault's key types only: RSA and EC — as the real service, no Ed25519.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "fakes/fake_server.h"

namespace ferrohsm::signer::testing {

class FakeAzureKv : public FakeServer {
 public:
  static constexpr const char* kTenant = "00000000-1111-2222-3333-444444444444";
  static constexpr const char* kClientId = "55555555-6666-7777-8888-999999999999";
  static constexpr const char* kSecret = "client~secret.value_0123456789";

  FakeAzureKv();
  ~FakeAzureKv() override { stop(); }
  // The key identifiers (kid) of an EC P-256 and an RSA-2048 key it holds.
  std::string ec_key() const { return url() + "/keys/ec-key/0123456789abcdef0123456789abcdef"; }
  std::string rsa_key() const { return url() + "/keys/rsa-key/fedcba9876543210fedcba9876543210"; }
  int tokens_issued() const;
  int key_reads() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string> tokens_;
  int key_reads_ = 0;
};

}  // namespace ferrohsm::signer::testing
