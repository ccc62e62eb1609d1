// Login bearers of the REST API. POST …/login opens a PKCS#11 application on the core
// for the caller (core::App, with the caller's identity and grant), logs its user in,
// and hands back a random bearer; later requests that present it (and the same client
// certificate) act as that logged-in application. A bearer ends at logout, after its
// lifetime, or when the server stops; its application's login ends with it.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "core/app.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferrohsm::server::rest {

// The object handles of the keys a login has named (key id → handle). A key id is the
// key's CKA_UNIQUE_ID, which the store does not index: finding by it reads every object
// of the token, so each id is found once per login and its handle checked on reuse.
struct KeyHandles {
  static constexpr size_t kMax = 4096;  // then it starts over
  std::mutex mu;
  std::unordered_map<std::string, CK_OBJECT_HANDLE> by_id;
};

struct Login {
  std::unique_ptr<App> app;
  std::shared_ptr<KeyHandles> handles = std::make_shared<KeyHandles>();
  CK_SLOT_ID slot = 0;
  std::string token;        // the token's label
  std::string identity;     // who logged in
  Bytes cert_fingerprint;   // SHA-256 of the client certificate it came with
  std::chrono::steady_clock::time_point expires;
};

class Sessions {
 public:
  explicit Sessions(std::chrono::seconds ttl) : ttl_(ttl) {}
  ~Sessions();

  // Keeps `login` under a new bearer (43 characters of base64url, 256 random bits).
  Result<std::string> add(Login login);
  // The login a bearer stands for, if it is current and was issued to this certificate
  // for this token. CKR_SESSION_HANDLE_INVALID otherwise (one message for every case:
  // a guesser learns nothing).
  Result<std::shared_ptr<Login>> find(const std::string& bearer, ByteView cert_fingerprint, const std::string& token);
  // Ends a bearer (logout); CKR_SESSION_HANDLE_INVALID when it is not current.
  Status remove(const std::string& bearer, ByteView cert_fingerprint);
  size_t size();  // the current bearers (the expired ones end first)
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  void expire_locked(std::chrono::steady_clock::time_point now);

  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Login>> by_bearer_;  // keyed by SHA-256 of the bearer
};

}  // namespace ferrohsm::server::rest
