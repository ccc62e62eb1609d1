// All open sessions of the process, sharded so that threads working on their own
// sessions do not contend: a lookup takes one shard's shared lock. Handles count up
// from 1 and are never reused.
#pragma once

#include "core/session.h"

#include <array>
#include <atomic>
#include <functional>
#include <shared_mutex>
#include <unordered_map>

namespace ferrohsm {

class SessionTable {
 public:
  CK_SESSION_HANDLE next_handle() { return next_.fetch_add(1); }
  void add(SessionPtr s);
  SessionPtr get(CK_SESSION_HANDLE h) const;
  SessionPtr remove(CK_SESSION_HANDLE h);
  // Every session (optionally only those on `slot`), copied out of the locks.
  std::vector<SessionPtr> all() const;
  std::vector<SessionPtr> on_slot(CK_SLOT_ID slot) const;

 private:
  static constexpr size_t kShards = 32;
  struct alignas(64) Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<CK_SESSION_HANDLE, SessionPtr> map;
  };
  Shard& shard(CK_SESSION_HANDLE h) const { return shards_[h % kShards]; }

  mutable std::array<Shard, kShards> shards_;
  std::atomic<CK_SESSION_HANDLE> next_{1};
};

}  // namespace ferrohsm
