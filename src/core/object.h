// One PKCS#11 object as the process holds it: its full attributes (sealed values
// opened, when the token key is at hand) and, for keys, the OpenSSL key built from
// them on first use and then shared by every operation ("decrypt once, sign many").
// An Object is immutable once published except for that lazily built key and its
// `destroyed` and `retired` marks; a change replaces the whole Object.
#pragma once

#include "core/attributes.h"
#include "core/mech/key.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace ferrohsm {

class Object {
 public:
  // `key`: the OpenSSL form when the caller already holds it (a key just generated),
  // so that it is not built again from the attributes.
  Object(CK_OBJECT_HANDLE handle, int64_t store_id, CK_SESSION_HANDLE owner, AttrMap attrs, bool complete,
         mech::KeyPtr key = nullptr)
      : handle_(handle), store_id_(store_id), owner_(owner), attrs_(std::move(attrs)), complete_(complete),
        key_(std::move(key)) {}

  CK_OBJECT_HANDLE handle() const { return handle_; }
  int64_t store_id() const { return store_id_; }           // 0 for session objects
  CK_SESSION_HANDLE owner() const { return owner_; }       // 0 for token objects
  bool is_token() const { return store_id_ != 0; }
  bool is_private() const { return attrs_.get_bool_or(CKA_PRIVATE, false); }
  CK_OBJECT_CLASS cls() const { return attrs_.get_ulong(CKA_CLASS).value_or(CKO_DATA); }
  const AttrMap& attrs() const { return attrs_; }
  // False when sealed values were not opened (loaded before login).
  bool complete() const { return complete_; }

  bool destroyed() const { return destroyed_.load(std::memory_order_acquire); }
  void mark_destroyed() const { destroyed_.store(true, std::memory_order_release); }
  // Retired: no longer the process's copy of its object (changed, or dropped from the
  // token's cache, which loads a new copy on the next use). Whoever holds a retired
  // copy by pointer — a session's kept operation — must look the handle up again.
  bool retired() const { return retired_.load(std::memory_order_acquire); }
  void mark_retired() const { retired_.store(true, std::memory_order_release); }

  // Whether a session ever kept a finished operation on this key (session.h SpareOp):
  // only then must destroying or changing it look through the sessions. The keeper
  // reads first and writes once (the hot path writes no line all threads share);
  // both sides use read-modify-writes on this one flag, so that a keeper either
  // sees the destruction that came before, or the destroyer sees its mark.
  void note_spared() const {
    if (spared_.load(std::memory_order_acquire) == 0) spared_.exchange(1, std::memory_order_acq_rel);
  }
  bool spared_after_change() const { return spared_.fetch_or(0, std::memory_order_acq_rel) != 0; }

  // The OpenSSL form of this key, built once.
  Result<mech::KeyPtr> key() const;
  // Whether the key's CKA_ALLOWED_MECHANISMS (absent or empty: any) names `type`.
  bool allows_mechanism(CK_MECHANISM_TYPE type) const;

 private:
  CK_OBJECT_HANDLE handle_;
  int64_t store_id_;
  CK_SESSION_HANDLE owner_;
  AttrMap attrs_;
  bool complete_;
  mutable std::atomic<bool> destroyed_{false};
  mutable std::atomic<bool> retired_{false};
  mutable std::atomic<int> spared_{0};
  mutable std::mutex key_mu_;
  mutable mech::KeyPtr key_;
};

using ObjectPtr = std::shared_ptr<const Object>;

}  // namespace ferrohsm
