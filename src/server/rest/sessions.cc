#include "server/rest/sessions.h"

#include "base/base64.h"
#include "core/seal.h"
#include "server/rest/digest.h"

#include <openssl/crypto.h>

namespace ferrohsm::server::rest {
namespace {

// Bearers are kept by their hash: a memory dump does not hand out live bearers.
std::string bearer_key(const std::string& bearer) { return sha256_of(bearer); }

Error invalid_bearer() {
  return make_error(CKR_SESSION_HANDLE_INVALID, "no current login for this bearer, certificate and token: log in again");
}

bool same(ByteView a, ByteView b) { return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

}  // namespace

Sessions::~Sessions() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, l] : by_bearer_) l->app->close();
}

Result<std::string> Sessions::add(Login login) {
  FH_ASSIGN_OR_RETURN(SecureBytes raw, random_bytes(32));
  std::string bearer = to_base64url(raw);
  login.expires = std::chrono::steady_clock::now() + ttl_;
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(std::chrono::steady_clock::now());
  by_bearer_[bearer_key(bearer)] = std::make_shared<Login>(std::move(login));
  return bearer;
}

Result<std::shared_ptr<Login>> Sessions::find(const std::string& bearer, ByteView cert_fingerprint,
                                              const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(std::chrono::steady_clock::now());
  auto it = by_bearer_.find(bearer_key(bearer));
  if (it == by_bearer_.end() || !same(it->second->cert_fingerprint, cert_fingerprint) || it->second->token != token)
    return invalid_bearer();
  return it->second;
}

Status Sessions::remove(const std::string& bearer, ByteView cert_fingerprint) {
  std::shared_ptr<Login> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_bearer_.find(bearer_key(bearer));
    if (it == by_bearer_.end() || !same(it->second->cert_fingerprint, cert_fingerprint)) return invalid_bearer();
    gone = std::move(it->second);
    by_bearer_.erase(it);
  }
  gone->app->close();  // its login and sessions end; requests still running hold their own reference
  return {};
}

size_t Sessions::size() {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(std::chrono::steady_clock::now());
  return by_bearer_.size();
}

void Sessions::expire_locked(std::chrono::steady_clock::time_point now) {
  for (auto it = by_bearer_.begin(); it != by_bearer_.end();) {
    if (it->second->expires <= now) {
      it->second->app->close();
      it = by_bearer_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ferrohsm::server::rest
