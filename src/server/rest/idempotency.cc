#include "server/rest/idempotency.h"

#include "server/rest/digest.h"

namespace ferrohsm::server::rest {

Result<std::string> idempotency_key(const std::string& header) {
  std::string v = header;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  bool ok = !v.empty() && v.size() <= 255;
  for (char c : v) ok = ok && c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
  if (!ok)
    return make_error(CKR_ARGUMENTS_BAD, "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is "
                                         "good), optionally in double quotes");
  return v;
}

std::string IdempotencyCache::scope(const std::string& identity, const std::string& token, const std::string& key) {
  return sha256_of(identity + '\0' + token + '\0' + key);
}

IdempotencyCache::Verdict IdempotencyCache::begin(const std::string& identity, const std::string& token,
                                                  const std::string& key, const std::string& body, Answer& replay) {
  const std::string s = scope(identity, token, key), digest = sha256_of(body);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  evict_locked(now);
  auto it = entries_.find(s);
  if (it != entries_.end()) {
    if (it->second.body_digest != digest) return Verdict::kMismatch;
    if (!it->second.done) return Verdict::kInFlight;
    replay = it->second.answer;
    return Verdict::kReplay;
  }
  entries_[s] = Entry{digest, false, {}, now};
  order_.emplace_back(now, s);
  return Verdict::kRun;
}

void IdempotencyCache::finish(const std::string& identity, const std::string& token, const std::string& key,
                              const Answer& answer) {
  const std::string s = scope(identity, token, key);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(s);
  if (it == entries_.end()) return;
  if (answer.status >= 200 && answer.status < 300) {
    it->second.done = true;
    it->second.answer = answer;
  } else {
    entries_.erase(it);  // its place in order_ goes when it reaches the front
  }
}

size_t IdempotencyCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  evict_locked(std::chrono::steady_clock::now());
  return entries_.size();
}

void IdempotencyCache::evict_locked(std::chrono::steady_clock::time_point now) {
  // Expired entries, and past the capacity the oldest finished ones; a request still
  // running keeps its entry (it goes to the back once, so the loop ends).
  for (size_t turns = order_.size(); !order_.empty() && turns > 0; --turns) {
    auto [created, s] = order_.front();
    auto it = entries_.find(s);
    const bool stale = it == entries_.end() || it->second.created != created;  // forgotten, or a newer entry
    if (stale) {
      order_.pop_front();
      continue;
    }
    const bool expired = created + ttl_ <= now;
    if (!expired && entries_.size() < capacity_) break;
    order_.pop_front();
    if (!it->second.done && !expired) {
      order_.emplace_back(created, s);
      continue;
    }
    entries_.erase(it);
  }
}

}  // namespace ferrohsm::server::rest
