// The Idempotency-Key header on POST /v1/tokens/{token}/keys (draft-ietf-httpapi-
// idempotency-key-header): a retried generate with the same key and the same body from
// the same identity, for the same token, answers what the first one answered instead of
// making a second key. Per the draft:
//   - the same key with another body: 422, nothing done;
//   - the same key while the first request still runs: 409, nothing done (retry later);
//   - a first request that failed is not kept: a retry runs afresh.
// Entries are keyed by a hash of (identity, token, key), so one caller never meets
// another's; they live 24 hours and at most 10,000 are kept (past that the oldest
// finished ones go first).
#pragma once

#include "base/result.h"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace ferrohsm::server::rest {

// The header's value: a structured-field string ("…", RFC 8941) or the same characters
// bare; 1 to 255 printable ASCII characters. CKR_ARGUMENTS_BAD otherwise.
Result<std::string> idempotency_key(const std::string& header);

class IdempotencyCache {
 public:
  explicit IdempotencyCache(std::chrono::seconds ttl = std::chrono::hours(24), size_t capacity = 10000)
      : ttl_(ttl), capacity_(capacity) {}

  struct Answer {
    int status = 0;
    std::string body, content_type;
  };
  enum class Verdict { kRun, kReplay, kInFlight, kMismatch };

  // Called before the work. kRun: the caller runs it, then calls finish(). kReplay:
  // `replay` is the first answer. kInFlight / kMismatch: answer 409 / 422.
  Verdict begin(const std::string& identity, const std::string& token, const std::string& key,
                const std::string& body, Answer& replay);
  // After a kRun: keeps `answer` when it is a success (2xx), else forgets the key.
  void finish(const std::string& identity, const std::string& token, const std::string& key, const Answer& answer);

  size_t size();

 private:
  struct Entry {
    std::string body_digest;
    bool done = false;
    Answer answer;
    std::chrono::steady_clock::time_point created;
  };
  static std::string scope(const std::string& identity, const std::string& token, const std::string& key);
  void evict_locked(std::chrono::steady_clock::time_point now);

  std::chrono::seconds ttl_;
  size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by scope()
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_;  // oldest first
};

}  // namespace ferrohsm::server::rest
