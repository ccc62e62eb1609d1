#include "core/token.h"

#include "base/log.h"
#include "core/object_mac.h"
#include "core/object_policy.h"
#include "core/seal.h"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>

namespace ferrohsm {

CK_OBJECT_HANDLE next_session_object_handle() {
  static std::atomic<CK_OBJECT_HANDLE> next{0x40000000UL};
  return next.fetch_add(1);
}

Token::Token(store::ObjectStore& store, const Config& cfg, store::TokenRow row, TokenKeyCache* keys)
    : store_(store), keys_(keys), cfg_(cfg), id_(row.id), slot_id_(row.slot_id), row_(std::move(row)) {
  if (auto seq = store_.last_change_seq(); seq.ok()) change_seq_ = *seq;
  if (auto dv = store_.data_version(); dv.ok()) data_version_ = *dv;
  watch_ = store_.watch_changes([this] { stale_.store(true, std::memory_order_release); });
}

Token::~Token() {
  store_.unwatch_changes(watch_);  // first: no notice may run into a token being taken apart
  logout();
}

Status Token::catch_up() {
  if (watch_ == 0) return {};  // a store that cannot push: finds sync, as always
  // While the store does not hear the database (lost, reconnecting), a change may pass
  // unannounced: every use syncs, and answers CKR_DEVICE_ERROR while the database is away.
  if (!stale_.load(std::memory_order_acquire) && store_.hearing_changes()) return {};
  stale_.store(false, std::memory_order_release);  // before the sync: a notice during it is kept
  Status st = sync();
  if (!st.ok()) stale_.store(true, std::memory_order_release);  // the change is still unapplied
  return st;
}

// --- objects ------------------------------------------------------------------

bool Token::visible(const Object& o) const { return !o.is_private() || role() == Role::User; }

void Token::clear_cache() {
  for (auto& [id, o] : cache_) o->mark_retired();
  cache_.clear();
}

store::ObjectMeta Token::meta_of(const AttrMap& a) const {
  store::ObjectMeta m;
  m.token_id = id_;
  m.cls = object_class(a);
  m.key_type = a.get_ulong(CKA_KEY_TYPE).value_or(CK_UNAVAILABLE_INFORMATION);
  m.label = to_bytes(a.view(CKA_LABEL));
  m.ckid = to_bytes(a.view(CKA_ID));
  m.is_private = a.get_bool_or(CKA_PRIVATE, false);
  return m;
}

Result<store::SealedObject> Token::seal_all(const AttrMap& attrs, const store::ObjectMeta& meta,
                                            int64_t object_id) const {
  store::SealedObject out;
  out.attrs.reserve(attrs.size());
  std::shared_lock lock(auth_mu_);
  for (const auto& [t, v] : attrs) {
    store::StoredAttr s;
    s.type = t;
    if (must_seal(attrs, t)) {
      if (token_key_.empty())
        return make_error(CKR_USER_NOT_LOGGED_IN, "storing key material needs a login (the token key is sealed)");
      FH_ASSIGN_OR_RETURN(s.value, seal(token_key_, v, attribute_aad(object_id, t)));
      s.sealed = true;
    } else {
      s.value.assign(v.begin(), v.end());
    }
    out.attrs.push_back(std::move(s));
  }
  if (!mac_key_.empty()) {
    FH_ASSIGN_OR_RETURN(out.mac, object_mac(mac_key_, row_.serial, object_id, meta, out.attrs));
  } else if (!may_lack_mac(meta, out.attrs)) {
    return make_error(CKR_USER_NOT_LOGGED_IN, "storing this object needs a login (its integrity MAC needs the token key)");
  }
  return out;
}

Status Token::check_integrity(const store::ObjectRow& row) const {
  const char* why = nullptr;
  if (!row.mac.empty()) {
    if (object_mac_matches(mac_key_, row_.serial, row)) return {};
    why = "its MAC does not match";
  } else {
    if (trust_unmaced_ || may_lack_mac(row.meta, row.attrs)) return {};
    why = "it has no MAC but holds what only a login can write";
  }
  log().error("token {}: object {} was changed outside FerroHSM ({}); it is refused", slot_id_, row.id, why);
  return make_error(CKR_DEVICE_ERROR, "store: object " + std::to_string(row.id) + " failed its integrity check");
}

Result<ObjectPtr> Token::load(int64_t store_id, uint64_t epoch) {
  FH_ASSIGN_OR_RETURN(store::ObjectRow row, store_.load_object(store_id));
  if (row.meta.token_id != id_) return make_error(CKR_OBJECT_HANDLE_INVALID, "object belongs to another token");
  AttrMap attrs;
  bool complete = true;
  {
    std::shared_lock lock(auth_mu_);
    // Without the token key nothing sealed opens and nothing can be checked; with it,
    // every row must be as written (a public object is checked from the first login).
    if (!mac_key_.empty()) FH_TRY(check_integrity(row));
    for (store::StoredAttr& a : row.attrs) {
      if (!a.sealed) {
        attrs.set(a.type, ByteView(a.value));
        continue;
      }
      if (token_key_.empty()) {
        complete = false;
        continue;
      }
      auto v = unseal(token_key_, a.value, attribute_aad(store_id, a.type));
      if (!v.ok()) return make_error(CKR_DEVICE_ERROR, "store: a sealed value of object " +
                                                           std::to_string(store_id) + " does not open");
      attrs.set(a.type, std::move(*v));
    }
  }
  return std::make_shared<const Object>(handle_for(store_id, row.meta.is_private, epoch), store_id, 0,
                                        std::move(attrs), complete);
}

Result<ObjectPtr> Token::object(CK_OBJECT_HANDLE h) {
  // Another server's destroy or update must show before a cached copy is used (private
  // token objects' handles lie above the session objects' range: the epoch).
  FH_TRY(catch_up_for(h));
  ObjectPtr o;
  if (h >= (1ULL << 32)) {  // a private token object: the epoch must be this login's
    const auto [r, epoch] = login_state();
    if (r != Role::User || (h >> 32) != epoch) return make_error(CKR_OBJECT_HANDLE_INVALID, "no such object");
    h &= 0xffffffffULL;
    auto found = cached_or_loaded(static_cast<int64_t>(h), epoch);
    if (!found.ok()) return found.error();
    o = *found;
    if (!o->is_private()) return make_error(CKR_OBJECT_HANDLE_INVALID, "no such object");
  } else if (is_session_object_handle(h)) {
    std::shared_lock lock(obj_mu_);
    auto it = session_.find(h);
    if (it != session_.end()) o = it->second;
  } else if (h != CK_INVALID_HANDLE) {
    auto found = cached_or_loaded(static_cast<int64_t>(h), 0);
    if (!found.ok()) return found.error();
    o = *found;
    if (o->is_private()) return make_error(CKR_OBJECT_HANDLE_INVALID, "no such object");
  }
  if (!o || o->destroyed() || !visible(*o)) return make_error(CKR_OBJECT_HANDLE_INVALID, "no such object");
  return o;
}

Result<ObjectPtr> Token::cached_or_loaded(int64_t id, uint64_t epoch) {
  {
    std::shared_lock lock(obj_mu_);
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
  }
  auto loaded = load(id, epoch);
  if (!loaded.ok()) {
    if (loaded.rv() == CKR_OBJECT_HANDLE_INVALID) return make_error(CKR_OBJECT_HANDLE_INVALID, "no such object");
    return loaded.error();
  }
  ObjectPtr o = *loaded;
  if (visible(*o)) {
    std::unique_lock lock(obj_mu_);
    cache_.emplace(id, o);
  }
  return o;
}

// CKA_UNIQUE_ID: 16 random bytes, in hex. They are public, not secret, so they come
// from a small per-thread pool filled 64 ids at a time (one call into the DRBG, which
// cost ~10 % of a P-256 key pair generation when made per object); a forked child
// draws its own pool rather than repeat its parent's ids. The child is told by a fork
// count its atfork handler raises (getpid() per object, a system call, cost ~3 % of a
// P-256 key pair).
static std::atomic<uint64_t> g_forks{0};

static void add_unique_id(AttrMap& attrs) {
  constexpr size_t kIdBytes = 16, kPoolIds = 64;
  static std::once_flag watch_forks;
  std::call_once(watch_forks, [] { pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1); }); });
  struct Pool {
    uint64_t forks = 0;
    size_t next = kPoolIds;
    uint8_t bytes[kIdBytes * kPoolIds];
  };
  thread_local Pool pool;
  const uint64_t forks = g_forks.load(std::memory_order_relaxed);
  if (pool.next == kPoolIds || pool.forks != forks) {
    auto r = random_bytes(sizeof pool.bytes);
    if (!r.ok()) {
      attrs.set(CKA_UNIQUE_ID, as_bytes(std::string("0")));
      return;
    }
    std::memcpy(pool.bytes, r->data(), sizeof pool.bytes);
    pool.forks = forks;
    pool.next = 0;
  }
  std::string id = to_hex(ByteView(pool.bytes + kIdBytes * pool.next++, kIdBytes));
  attrs.set(CKA_UNIQUE_ID, as_bytes(id));
}

Result<ObjectPtr> Token::create_object(AttrMap attrs, CK_SESSION_HANDLE owner, mech::KeyPtr key) {
  AttrMap a[1] = {std::move(attrs)};
  mech::KeyPtr k[1] = {std::move(key)};
  ObjectPtr made[1];
  FH_TRY(create_objects(a, k, made, owner));
  return made[0];
}

Result<std::pair<ObjectPtr, ObjectPtr>> Token::create_pair(AttrMap pub, AttrMap priv, CK_SESSION_HANDLE owner,
                                                           mech::KeyPtr key) {
  AttrMap a[2] = {std::move(pub), std::move(priv)};
  mech::KeyPtr k[2] = {nullptr, std::move(key)};
  ObjectPtr made[2];
  FH_TRY(create_objects(a, k, made, owner));
  return std::make_pair(std::move(made[0]), std::move(made[1]));
}

Status Token::create_objects(std::span<AttrMap> attrs, std::span<mech::KeyPtr> keys, std::span<ObjectPtr> made,
                             CK_SESSION_HANDLE owner) {
  // The token objects first, all in one store transaction; nothing is published until
  // the store has them all, so a failure leaves nothing behind.
  constexpr size_t kMost = 2;
  if (attrs.size() > kMost || keys.size() != attrs.size() || made.size() != attrs.size())
    return make_error(CKR_GENERAL_ERROR, "internal: too many objects at once");
  std::array<store::ObjectMeta, kMost> metas;
  std::array<store::ObjectStore::Sealer, kMost> sealers;
  std::array<store::ObjectStore::NewObject, kMost> stored;
  std::array<size_t, kMost> which{};
  size_t n_stored = 0;
  for (size_t i = 0; i < attrs.size(); ++i) {
    add_unique_id(attrs[i]);
    if (!attrs[i].get_bool_or(CKA_TOKEN, false)) continue;
    metas[i] = meta_of(attrs[i]);
    sealers[i] = [this, &attrs, &metas, i](int64_t oid) { return seal_all(attrs[i], metas[i], oid); };
    stored[n_stored] = {&metas[i], &sealers[i]};
    which[n_stored++] = i;
  }
  std::vector<int64_t> ids;
  if (n_stored != 0) {
    FH_ASSIGN_OR_RETURN(ids, store_.insert_objects(std::span(stored.data(), n_stored)));
  }
  const uint64_t epoch = login_state().epoch;
  for (size_t n = 0; n < n_stored; ++n) {
    const size_t i = which[n];
    made[i] = std::make_shared<const Object>(handle_for(ids.at(n), metas[i].is_private, epoch), ids.at(n), 0,
                                             std::move(attrs[i]), true, std::move(keys[i]));
  }
  for (size_t i = 0; i < attrs.size(); ++i)
    if (!made[i])
      made[i] = std::make_shared<const Object>(next_session_object_handle(), 0, owner, std::move(attrs[i]), true,
                                               std::move(keys[i]));
  std::unique_lock lock(obj_mu_);
  for (const ObjectPtr& o : made) {
    if (o->is_token()) cache_[o->store_id()] = o;
    else session_.emplace(o->handle(), o);
  }
  return {};
}

Result<ObjectPtr> Token::replace_object(const ObjectPtr& old, AttrMap attrs) {
  if (!old->is_token()) {
    auto o = std::make_shared<const Object>(old->handle(), 0, old->owner(), std::move(attrs), true);
    std::unique_lock lock(obj_mu_);
    auto it = session_.find(old->handle());
    if (it == session_.end()) return make_error(CKR_OBJECT_HANDLE_INVALID, "object was destroyed");
    it->second->mark_retired();
    it->second = o;
    return ObjectPtr(o);
  }
  store::ObjectMeta meta = meta_of(attrs);
  FH_ASSIGN_OR_RETURN(store::SealedObject sealed, seal_all(attrs, meta, old->store_id()));
  FH_TRY(store_.update_object(old->store_id(), meta, sealed));
  auto o = std::make_shared<const Object>(old->handle(), old->store_id(), 0, std::move(attrs), true);
  std::unique_lock lock(obj_mu_);
  ObjectPtr& entry = cache_[old->store_id()];
  if (entry) entry->mark_retired();
  old->mark_retired();
  entry = o;
  return ObjectPtr(o);
}

Status Token::destroy_object(const ObjectPtr& obj) {
  if (obj->is_token()) {
    FH_TRY(store_.delete_object(obj->store_id()));
    std::unique_lock lock(obj_mu_);
    cache_.erase(obj->store_id());
  } else {
    std::unique_lock lock(obj_mu_);
    if (session_.erase(obj->handle()) == 0) return make_error(CKR_OBJECT_HANDLE_INVALID, "object was destroyed");
  }
  obj->mark_destroyed();
  return {};
}

void Token::drop_session_objects(CK_SESSION_HANDLE owner) {
  std::unique_lock lock(obj_mu_);
  for (auto it = session_.begin(); it != session_.end();) {
    if (owner == 0 || it->second->owner() == owner) {
      it->second->mark_destroyed();
      it = session_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t Token::session_object_count() const {
  std::shared_lock lock(obj_mu_);
  return session_.size();
}

static bool matches(const Object& o, const AttrMap& tmpl) {
  for (const auto& [t, v] : tmpl) {
    const SecureBytes* have = o.attrs().get(t);
    if (have == nullptr || *have != v) return false;
    if (can_reveal(o.attrs(), t) == Reveal::Sensitive) return false;
  }
  return true;
}

Result<std::vector<CK_OBJECT_HANDLE>> Token::find(const AttrMap& tmpl) {
  // The store's query below sees every committed object; the cache (matched for the
  // attributes the store does not index) is brought up to date first — by the change log
  // when no notice is sure to come (SQLite, or a listener reconnecting), else only when a
  // notice came: one round trip per find instead of two on PostgreSQL.
  FH_TRY(watch_ == 0 ? sync() : catch_up());
  std::vector<CK_OBJECT_HANDLE> out;
  const bool user = role() == Role::User;
  auto want_token = tmpl.get_bool(CKA_TOKEN);
  if (!want_token || *want_token) {
    store::ObjectQuery q;
    q.token_id = id_;
    q.include_private = user;
    if (auto c = tmpl.get_ulong(CKA_CLASS)) q.cls = *c;
    if (auto k = tmpl.get_ulong(CKA_KEY_TYPE)) q.key_type = *k;
    if (const SecureBytes* l = tmpl.get(CKA_LABEL)) q.label = Bytes(l->begin(), l->end());
    if (const SecureBytes* i = tmpl.get(CKA_ID)) q.ckid = Bytes(i->begin(), i->end());
    bool indexed_only = true;
    for (const auto& [t, v] : tmpl)
      if (t != CKA_CLASS && t != CKA_KEY_TYPE && t != CKA_LABEL && t != CKA_ID && t != CKA_TOKEN) indexed_only = false;
    FH_ASSIGN_OR_RETURN(std::vector<store::FoundObject> found, store_.find(q));
    const uint64_t epoch = login_state().epoch;
    out.reserve(found.size());
    for (const store::FoundObject& f : found) {
      CK_OBJECT_HANDLE h = handle_for(f.id, f.is_private, epoch);
      if (indexed_only) {
        out.push_back(h);
        continue;
      }
      auto o = object(h);
      if (o.ok() && matches(**o, tmpl)) out.push_back(h);
    }
  }
  if (!want_token || !*want_token) {
    std::shared_lock lock(obj_mu_);
    for (const auto& [h, o] : session_)
      if ((user || !o->is_private()) && matches(*o, tmpl)) out.push_back(h);
  }
  return out;
}

Status Token::sync() {
  FH_ASSIGN_OR_RETURN(int64_t dv, store_.data_version());
  int64_t from = 0;
  {
    std::shared_lock lock(obj_mu_);
    if (dv == data_version_) return {};
    from = change_seq_;  // read under the lock: another thread's sync may be moving it
  }
  FH_ASSIGN_OR_RETURN(std::vector<store::Change> changes, store_.changes_since(from));
  FH_ASSIGN_OR_RETURN(int64_t oldest, store_.oldest_change_seq());
  bool token_changed = false;
  {
    std::unique_lock lock(obj_mu_);
    data_version_ = dv;
    if (oldest > from + 1) clear_cache();  // we fell behind the kept log
    for (const store::Change& c : changes) {
      // Two threads may sync at once: what the other already applied is not applied
      // again, and the position never moves back.
      if (c.seq <= change_seq_) continue;
      change_seq_ = c.seq;
      if (c.token_id != id_) continue;
      if (c.kind == store::ChangeKind::Token) {
        token_changed = true;
        continue;
      }
      auto it = cache_.find(c.object_id);
      if (it == cache_.end()) continue;
      if (c.kind == store::ChangeKind::Delete) it->second->mark_destroyed();
      it->second->mark_retired();
      cache_.erase(it);
    }
  }
  if (token_changed) {
    auto st = refresh_row();
    if (!st.ok() && st.rv() != CKR_TOKEN_NOT_PRESENT) return st;
  }
  return {};
}

}  // namespace ferrohsm
