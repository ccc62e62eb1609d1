// A loopback AWS KMS (JSON 1.1: CreateKey, CreateAlias, DescribeKey, GetPublicKey, Sign,
// ScheduleKeyDeletion) and STS (AssumeRoleWithWebIdentity), checking what AWS checks:
// the SigV4 signature (fakes/sigv4_check.h) with the caller's secret, the request time,
// the session token of temporary credentials and its expiry, the key's spec, usage and
// state, the alias rules. Keys are Ed25519 in OpenSSL. Errors come as AWS sends them
// (x-amzn-ErrorType and {"__type","message"}).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "fakes/fake_server.h"
#include "ferrohsm/signer/ed25519.h"

namespace ferrohsm::signer::testing {

class FakeAwsKms : public FakeServer {
 public:
  static constexpr const char* kRegion = "eu-west-1";
  static constexpr const char* kAccount = "111122223333";

  FakeAwsKms();
  ~FakeAwsKms() override { stop(); }

  // Long-term keys (no session token) or temporary ones (token, expiry).
  void add_credentials(const std::string& access_key_id, const std::string& secret, const std::string& token = "",
                       std::optional<std::chrono::system_clock::time_point> expires = std::nullopt);
  // STS accepts this web identity token for this role; its credentials live `lifetime`.
  void allow_web_identity(const std::string& token, const std::string& role_arn, std::chrono::seconds lifetime);
  int sts_exchanges() const;
  // Every temporary credential expires now (as if its lifetime ran out early).
  void expire_temporary_credentials();

  // A key with a known Ed25519 seed under an alias (for the RFC 8032 vector); its ARN.
  std::string import_key(const std::string& alias, std::span<const std::uint8_t, 32> seed);
  // A key of another spec (RSA_2048 …) under an alias; it cannot sign Ed25519.
  std::string add_foreign_key(const std::string& alias, const std::string& key_spec);
  void set_state(const std::string& arn, const std::string& state);  // Enabled, Disabled, PendingDeletion
  void forget_key(const std::string& arn);                             // gone for good (NotFound)
  std::string state_of(const std::string& arn) const;
  std::optional<std::string> alias_target(const std::string& alias) const;
  int calls(const std::string& operation) const;
  int key_count() const;

 private:
  struct Key {
    std::string id, arn, spec, state = "Enabled";
    ed25519::Pkey pkey;  // null for foreign specs
    int pending_days = 0;
  };
  struct Creds {
    std::string secret, token;
    std::optional<std::chrono::system_clock::time_point> expires;
  };
  void handle_kms(const httplib::Request& req, httplib::Response& res);
  void handle_sts(const httplib::Request& req, httplib::Response& res);
  Key* find(const std::string& key_id);  // id, ARN or alias name; mu_ held

  mutable std::mutex mu_;
  std::map<std::string, Key> keys_;  // by id
  std::map<std::string, std::string> aliases_;
  std::map<std::string, Creds> creds_;
  std::map<std::string, std::pair<std::string, std::chrono::seconds>> web_identities_;
  std::map<std::string, int> calls_;
  int sts_exchanges_ = 0;
  int next_key_ = 0;
};

}  // namespace ferrohsm::signer::testing
