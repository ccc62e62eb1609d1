#include "core/token_key_cache.h"

#include "core/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ferrohsm {

TokenKeyCache::TokenKeyCache(std::chrono::milliseconds grace) : grace_(grace) {
  auto k = random_bytes(32);
  if (k.ok()) mac_key_ = std::move(*k);
}

SecureBytes TokenKeyCache::verifier(ByteView wrap, std::string_view pin) const {
  SecureBytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  // HMAC(process key, len(wrap) || wrap || pin): bound to the exact wrap it unlocked.
  SecureBytes msg;
  uint64_t wl = wrap.size();
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<uint8_t>(wl >> (56 - 8 * i)));
  msg.insert(msg.end(), wrap.begin(), wrap.end());
  msg.insert(msg.end(), pin.begin(), pin.end());
  if (mac_key_.empty() ||
      HMAC(EVP_sha256(), mac_key_.data(), static_cast<int>(mac_key_.size()), msg.data(), msg.size(), out.data(), &n) == nullptr)
    return {};
  out.resize(n);
  return out;
}

std::optional<SecureBytes> TokenKeyCache::lookup(int64_t token_id, ByteView wrap, std::string_view pin) {
  const SecureBytes v = verifier(wrap, pin);
  std::lock_guard lock(mu_);
  expire_locked(Clock::now());
  auto it = entries_.find(token_id);
  if (v.empty() || it == entries_.end()) return std::nullopt;
  auto w = it->second.verifiers.find(Bytes(wrap.begin(), wrap.end()));
  if (w == it->second.verifiers.end() || w->second.size() != v.size() ||
      CRYPTO_memcmp(w->second.data(), v.data(), v.size()) != 0)
    return std::nullopt;
  return it->second.key;
}

void TokenKeyCache::remember(int64_t token_id, ByteView wrap, std::string_view pin, const SecureBytes& key) {
  SecureBytes v = verifier(wrap, pin);
  if (v.empty()) return;
  std::lock_guard lock(mu_);
  Entry& e = entries_[token_id];
  if (e.key != key) {  // another token key (re-initialised elsewhere): start afresh
    e.verifiers.clear();
    e.key = key;
  }
  e.verifiers[Bytes(wrap.begin(), wrap.end())] = std::move(v);
}

void TokenKeyCache::hold(int64_t token_id) {
  std::lock_guard lock(mu_);
  ++entries_[token_id].holders;
}

void TokenKeyCache::release(int64_t token_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token_id);
  if (it == entries_.end()) return;
  if (it->second.holders > 0 && --it->second.holders == 0) it->second.released = Clock::now();
  expire_locked(Clock::now());
}

void TokenKeyCache::forget(int64_t token_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token_id);
  if (it == entries_.end()) return;
  it->second.key.clear();  // SecureBytes wipes
  it->second.verifiers.clear();
  if (it->second.holders == 0) entries_.erase(it);
}

void TokenKeyCache::expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_locked(now);
}

void TokenKeyCache::expire_locked(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& e = it->second;
    if (e.holders == 0 && (e.key.empty() || now - e.released >= grace_))
      it = entries_.erase(it);
    else
      ++it;
  }
}

size_t TokenKeyCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace ferrohsm
