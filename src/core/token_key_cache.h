// Token keys an application of this process unwrapped, kept in memory while any
// application is logged in to the token (and for a grace period after the last one logs
// out), each with a verifier of the PIN that unwrapped it. Another application's C_Login
// with the same PIN then takes the key without repeating the PIN key derivation: in
// ferrohsm-server, the second client's login costs microseconds, not a PBKDF2.
//
// What does not change: the verifier is HMAC-SHA256 under a random key that never leaves
// this process's memory, compared in constant time, so a stolen database is no easier to
// attack; an entry is bound to the stored wrap of the token key, so a PIN changed by any
// process (or server) no longer matches; a wrong PIN never takes this path — it goes
// through the full derivation and counts towards the lockout in the store.
#pragma once

#include "base/bytes.h"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

namespace ferrohsm {

class TokenKeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TokenKeyCache(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  // The token key, when one is held for `token_id` that `pin` unwrapped from exactly `wrap`.
  std::optional<SecureBytes> lookup(int64_t token_id, ByteView wrap, std::string_view pin);
  // After a full check: `pin` unwrapped `key` from `wrap`.
  void remember(int64_t token_id, ByteView wrap, std::string_view pin, const SecureBytes& key);
  // An application logged in to the token / logged out (or went away).
  void hold(int64_t token_id);
  void release(int64_t token_id);
  // Drops what is kept for the token at once (PIN change, re-initialisation, deletion).
  void forget(int64_t token_id);
  // Drops entries nobody holds whose grace period has passed (also done by every call).
  void expire(Clock::time_point now = Clock::now());
  size_t size() const;

 private:
  struct Entry {
    SecureBytes key;
    std::map<Bytes, SecureBytes> verifiers;  // by the wrap it unlocks (SO and user each have theirs)
    int holders = 0;
    Clock::time_point released{};
  };
  SecureBytes verifier(ByteView wrap, std::string_view pin) const;
  void expire_locked(Clock::time_point now);

  const std::chrono::milliseconds grace_;
  SecureBytes mac_key_;  // random, per process
  mutable std::mutex mu_;
  std::map<int64_t, Entry> entries_;
};

}  // namespace ferrohsm
