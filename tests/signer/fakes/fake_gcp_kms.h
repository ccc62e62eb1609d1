// A loopback Google Cloud KMS (REST v1: key rings, crypto keys, versions, getPublicKey,
// asymmetricSign, destroy), its OAuth token endpoint (JWT-bearer grant: the assertion's
// RS256 signature is checked with the service account's public key, and its claims) and
// the metadata server's token. Every KMS call needs a bearer token it issued and that has
// not expired; asymmetricSign checks dataCrc32c against the data and answers with
// verifiedDataCrc32c and signatureCrc32c, as Cloud KMS does. Its CRC32C is computed bit
// by bit here, apart from the signer's table.
#pragma once

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fakes/fake_server.h"
#include "ferrohsm/signer/ed25519.h"

namespace ferrohsm::signer::testing {

std::uint32_t crc32c_bitwise(std::string_view data);

class FakeGcpKms : public FakeServer {
 public:
  static constexpr const char* kKeyRing = "projects/signer-test/locations/europe-west1/keyRings/signer";
  static constexpr const char* kEmail = "signer@signer-test.iam.gserviceaccount.com";

  FakeGcpKms();
  ~FakeGcpKms() override { stop(); }

  // A service-account key file (RSA-2048, this fake's token endpoint as token_uri).
  std::string service_account_json() const;
  std::string token_url() const { return url() + "/token"; }
  void set_token_lifetime(std::chrono::seconds s);
  int tokens_issued() const;
  void expire_tokens();          // every issued token stops working now
  void revoke_service_account();  // the token endpoint refuses the account's assertions

  std::string import_key(const std::string& crypto_key_id, std::span<const std::uint8_t, 32> seed);
  void set_version_state(const std::string& version, const std::string& state);
  void forget_key(const std::string& version);
  std::string version_state(const std::string& version) const;
  bool key_ring_exists() const;
  // The next `n` sign answers carry a wrong signatureCrc32c / verifiedDataCrc32c=false.
  void corrupt_signature_crc(int n);
  void skip_data_crc_verification(int n);
  int sign_calls() const;

 private:
  struct Version {
    std::string state = "ENABLED";
    ed25519::Pkey key;
  };
  void handle(const httplib::Request& req, httplib::Response& res);
  void handle_token(const httplib::Request& req, httplib::Response& res);
  void handle_metadata(const httplib::Request& req, httplib::Response& res);
  std::string issue_token();  // mu_ held

  std::shared_ptr<EVP_PKEY> account_key_;
  mutable std::mutex mu_;
  bool ring_ = false, revoked_ = false;
  std::map<std::string, std::map<std::string, std::string>> keys_;  // crypto key name → its JSON fields
  std::map<std::string, Version> versions_;
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;
  std::chrono::seconds token_life_{3600};
  int issued_ = 0, corrupt_crc_ = 0, skip_verified_ = 0, sign_calls_ = 0;
};

}  // namespace ferrohsm::signer::testing
