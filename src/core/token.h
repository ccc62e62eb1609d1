// A token as this process sees it: its stored row (label, PIN-wrapped token key,
// failure counters), the process-wide login state (PKCS#11 login is per
// application), and its object registry — token objects loaded lazily from the
// store and cached by store id, session objects held in memory.
//
// Handles: a public token object's handle is its store id (stable, never reused).
// A private token object's handle also carries the login epoch in its upper 32
// bits, so that handles from before a logout stay invalid after the next login, as
// C_Logout requires. Session objects take handles from 0x40000000 upward.
//
// Coherence: when the store pushes change notices (PostgreSQL), a notice only marks the
// token stale (an atomic flag: the notice runs on the store's thread); the next use of an
// object, a find or a login first applies the change log (sync), so a use with nothing
// changed costs two atomic loads and no store round trip. While the store does not hear
// the database, every use syncs (CKR_DEVICE_ERROR when it is away). A store that cannot
// push leaves finds to sync, as before.
#pragma once

#include "core/config.h"
#include "core/object.h"
#include "base/object_store.h"
#include "core/token_key_cache.h"

#include <atomic>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace ferrohsm {

// Session object handles: 0x40000000 upward, process-wide, never reused.
CK_OBJECT_HANDLE next_session_object_handle();
inline bool is_session_object_handle(CK_OBJECT_HANDLE h) { return h >= 0x40000000UL; }

enum class Role { None, User, SO };

class Token {
 public:
  // `keys`, when given, lets a login take a token key another application of this
  // process already unwrapped with the same PIN (core/token_key_cache.h).
  Token(store::ObjectStore& store, const Config& cfg, store::TokenRow row, TokenKeyCache* keys = nullptr);
  ~Token();

  int64_t id() const { return id_; }
  CK_SLOT_ID slot_id() const { return slot_id_; }
  std::string label() const;
  std::string serial() const;

  // --- authentication -----------------------------------------------------
  Role role() const;
  // Checks the PIN (the attempt is counted in the store before the check), then
  // holds the token key.
  Status login(Role role, std::string_view pin);
  // CKU_CONTEXT_SPECIFIC: checks the user PIN again without changing the state.
  Status verify_user_pin(std::string_view pin);
  // Wipes the token key, private objects from the cache, and private session objects.
  void logout();
  Status init_pin(std::string_view pin);  // SO logged in
  Status set_pin(Role who, std::string_view old_pin, std::string_view new_pin);
  // C_InitToken on an initialised token: the SO PIN must match; all objects go.
  Status reinitialize(std::string_view so_pin, const std::string& label);
  bool user_pin_initialized() const;
  CK_FLAGS token_flags() const;
  Status refresh_row();  // re-reads counters and wraps (another process may have changed them)

  // --- objects -------------------------------------------------------------
  // Visible object by handle (private ones only to the logged-in user).
  Result<ObjectPtr> object(CK_OBJECT_HANDLE h);
  // `key`: the object's OpenSSL key when already at hand (generation), kept by the Object.
  Result<ObjectPtr> create_object(AttrMap attrs, CK_SESSION_HANDLE owner, mech::KeyPtr key = nullptr);
  // A generated key pair: both halves or neither, and the token halves in one store
  // transaction (one durable commit). `key` goes with the private half.
  Result<std::pair<ObjectPtr, ObjectPtr>> create_pair(AttrMap pub, AttrMap priv, CK_SESSION_HANDLE owner,
                                                      mech::KeyPtr key);
  Result<ObjectPtr> replace_object(const ObjectPtr& old, AttrMap attrs);
  Status destroy_object(const ObjectPtr& obj);
  // Handles of visible objects matching the template (exact byte match).
  Result<std::vector<CK_OBJECT_HANDLE>> find(const AttrMap& tmpl);
  void drop_session_objects(CK_SESSION_HANDLE owner);
  size_t session_object_count() const;
  // Whether `o`, found earlier by pointer (a session's kept operation), may still be
  // used as its handle's object: neither destroyed nor retired, and visible to the
  // login. Takes no lock; the caller applied other processes' changes first (catch_up).
  bool still_current(const Object& o) const { return !o.destroyed() && !o.retired() && visible(o); }
  // Applies other processes' changes (cheap when nothing moved).
  Status sync();
  // sync() when a change notice came since the last one; nothing otherwise.
  Status catch_up();
  // catch_up() before the use of the object `h` names, when it is a token object.
  Status catch_up_for(CK_OBJECT_HANDLE h) {
    return h >= (1ULL << 32) || !is_session_object_handle(h) ? catch_up() : Status();
  }

 private:
  Result<ObjectPtr> load(int64_t store_id, uint64_t epoch);
  // create_object and create_pair (at most two): `keys[i]` goes with `attrs[i]`, and
  // `made[i]` is the object made of them.
  Status create_objects(std::span<AttrMap> attrs, std::span<mech::KeyPtr> keys, std::span<ObjectPtr> made,
                        CK_SESSION_HANDLE owner);
  Result<ObjectPtr> cached_or_loaded(int64_t store_id, uint64_t epoch);
  CK_OBJECT_HANDLE handle_for(int64_t store_id, bool is_private, uint64_t epoch) const {
    return is_private ? static_cast<CK_OBJECT_HANDLE>((epoch << 32) | static_cast<uint64_t>(store_id))
                      : static_cast<CK_OBJECT_HANDLE>(store_id);
  }
  // The stored rows of an object and their MAC (none without the token key, which only
  // an object that may lack one can do without: CKR_USER_NOT_LOGGED_IN otherwise).
  Result<store::SealedObject> seal_all(const AttrMap& attrs, const store::ObjectMeta& meta, int64_t object_id) const;
  // A loaded row's MAC against the token key (auth_mu_ held, key present):
  // CKR_DEVICE_ERROR, logged with the object id, when the row was changed outside us.
  Status check_integrity(const store::ObjectRow& row) const;
  store::ObjectMeta meta_of(const AttrMap& attrs) const;
  bool visible(const Object& o) const;
  // Empties the token objects' cache (obj_mu_ held); the copies it held are retired.
  void clear_cache();
  Status check_pin_length(std::string_view pin) const;
  // What a right PIN yields.
  struct PinCheck {
    SecureBytes key;      // the token key
    SecureBytes kek;      // the PIN's key, to re-wrap a version-1 wrap
    Bytes wrap;           // the wrap it opened
    bool legacy = false;  // a version-1 wrap: objects may predate MACs (seal.h)
  };
  // The one PIN check (token_auth.cc): counts the attempt in the store before the
  // derivation, answers the token key for a right PIN.
  Result<PinCheck> check_pin(bool so, std::string_view pin);
  // After a right PIN: gives a MAC to the objects written without the token key (for a
  // legacy wrap, every object from before MACs), then re-wraps a legacy wrap as
  // version 2. False when the store could not be written now.
  bool mac_objects(const PinCheck& pc, bool so, ByteView mac_key);
  store::TokenRow row_snapshot() const;
  void note_failures(bool so, uint32_t n);

  store::ObjectStore& store_;
  TokenKeyCache* keys_ = nullptr;
  bool holding_key_ = false;  // this login counts among the cache's holders (auth_mu_)
  const Config& cfg_;
  const int64_t id_;
  const CK_SLOT_ID slot_id_;

  mutable std::shared_mutex auth_mu_;
  store::TokenRow row_;
  SecureBytes token_key_;
  SecureBytes mac_key_;         // derived from token_key_: object MACs (object_mac.h)
  bool trust_unmaced_ = false;  // a legacy store that could not be MAC'd at this login
  // The login in one word, which the hot path reads without a lock: the role in the
  // low two bits, above them the epoch (it counts user logins and is part of private
  // objects' handles). Written under auth_mu_.
  struct Login {
    Role role;
    uint64_t epoch;
  };
  std::atomic<uint64_t> login_{0};
  Login login_state() const {
    const uint64_t w = login_.load(std::memory_order_acquire);
    return {static_cast<Role>(w & 3), w >> 2};
  }
  void set_login(Role r, uint64_t epoch) { login_.store((epoch << 2) | static_cast<uint64_t>(r), std::memory_order_release); }

  mutable std::shared_mutex obj_mu_;
  std::unordered_map<int64_t, ObjectPtr> cache_;            // token objects by store id
  std::unordered_map<CK_OBJECT_HANDLE, ObjectPtr> session_;  // session objects by handle
  int64_t data_version_ = -1;
  int64_t change_seq_ = 0;

  std::atomic<bool> stale_{false};  // a change notice came since the last sync
  uint64_t watch_ = 0;              // the store's id for our notice (0: it cannot push)
};


}  // namespace ferrohsm
