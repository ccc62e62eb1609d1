#include "support/test_double_provider.h"

#include <cstdlib>

namespace ferrohsm::signer::testing {

Status TestDoubleProvider::enter(Method method, const std::string& target, const Context& ctx) {
  std::lock_guard lock(mu_);
  calls_.push_back({method, target});
  if (auto it = failures_.find(method); it != failures_.end())
    return Error{it->second, "injected failure"};
  return ctx.check();
}

Result<GeneratedKey> TestDoubleProvider::generate(const Context& ctx, const Scope& scope, const KeyId& key_id) {
  std::string handle = std::string(kHandlePrefix) + scope.str() + "|" + key_id.str();
  if (auto s = enter(Method::kGenerate, scope.str() + "|" + key_id.str(), ctx); !s) return s.error();
  std::lock_guard lock(mu_);
  if (auto it = keys_.find(handle); it != keys_.end()) {
    if (it->second.retired) return Error::retired("key " + handle + " was retired");
    return GeneratedKey{handle, it->second.pub};
  }
  auto key = ed25519::generate();
  if (!key) return key.error();
  auto pub = ed25519::public_of(*key);
  if (!pub) return pub.error();
  keys_.emplace(handle, Entry{std::move(*key), *pub, false});
  return GeneratedKey{handle, *pub};
}

Result<GeneratedKey> TestDoubleProvider::import_key(const Scope& scope, const KeyId& key_id,
                                                    std::span<const std::uint8_t, 32> seed) {
  std::string handle = std::string(kHandlePrefix) + scope.str() + "|" + key_id.str();
  auto key = ed25519::from_private_seed(seed);
  if (!key) return key.error();
  auto pub = ed25519::public_of(*key);
  if (!pub) return pub.error();
  std::lock_guard lock(mu_);
  keys_.insert_or_assign(handle, Entry{std::move(*key), *pub, false});
  return GeneratedKey{handle, *pub};
}

Result<Signature> TestDoubleProvider::sign(const Context& ctx, const std::string& handle_id, const Digest& digest) {
  if (auto s = enter(Method::kSign, handle_id, ctx); !s) return s.error();
  std::lock_guard lock(mu_);
  auto it = keys_.find(handle_id);
  if (it == keys_.end()) return Error::key_not_found("no test-double key " + handle_id);
  if (it->second.retired) return Error::retired("key " + handle_id + " is retired");
  return ed25519::sign(it->second.key, digest);
}

Result<PublicKey> TestDoubleProvider::public_key(const Context& ctx, const std::string& handle_id) {
  if (auto s = enter(Method::kPublicKey, handle_id, ctx); !s) return s.error();
  std::lock_guard lock(mu_);
  auto it = keys_.find(handle_id);
  if (it == keys_.end()) return Error::key_not_found("no test-double key " + handle_id);
  return it->second.pub;
}

Status TestDoubleProvider::retire(const Context& ctx, const std::string& handle_id) {
  if (auto s = enter(Method::kRetire, handle_id, ctx); !s) return s;
  std::lock_guard lock(mu_);
  auto it = keys_.find(handle_id);
  if (it == keys_.end()) return Error::key_not_found("no test-double key " + handle_id);
  it->second.retired = true;
  return {};
}

void TestDoubleProvider::inject_failure(Method method, ErrorKind kind) {
  if (kind != ErrorKind::kProviderUnavailable && kind != ErrorKind::kRotationInProgress) std::abort();
  std::lock_guard lock(mu_);
  failures_[method] = kind;
}

void TestDoubleProvider::clear_failure(Method method) {
  std::lock_guard lock(mu_);
  failures_.erase(method);
}

std::vector<Call> TestDoubleProvider::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::size_t TestDoubleProvider::count(Method method) const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& c : calls_) n += c.method == method;
  return n;
}

void TestDoubleProvider::clear_calls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

}  // namespace ferrohsm::signer::testing
