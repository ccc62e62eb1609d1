// One application's door to the [[policy]] rules (core/policy.h): the App asks it once
// per call that uses, wraps, exports, destroys, generates or imports a key, whatever the
// mode (embedded library, a ferrohsm-server connection) and whatever the backend (the
// keystore or a bridge).
//
// With no rule in force a check is one atomic load. With rules, what a check needs of a
// key (its facts and the rules that match it) is read once per key object and kept: a
// keystore object is immutable (a change replaces it), so the cache entry holds a weak
// reference to the object it was made from and is remade when the object changed; a
// bridged key's entry is dropped when this application changes or destroys it. A reload
// of the rules remakes every entry at its next use.
#pragma once

#include "core/attributes.h"
#include "core/policy.h"

#include <ferrohsm/cryptoki.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace ferrohsm {

class App;
class Core;
class Object;

class PolicyGate {
 public:
  PolicyGate(App& app, Core& core) : app_(app), core_(core) {}

  // A call that does `action` with the key `key` (with mechanism `m`, or none). A handle
  // that names no key answers nothing here: the backend gives its own code.
  Status check(CK_SESSION_HANDLE h, KeyAction action, const CK_MECHANISM* m, CK_OBJECT_HANDLE key);
  // A key about to be generated (m set) or imported (m null): `tmpl` is its template
  // (the private key's, for a pair), `pub` the public key's template of a pair.
  Status check_new(CK_SESSION_HANDLE h, const CK_MECHANISM* m, const AttrMap& tmpl, const AttrMap* pub = nullptr);
  // The key's attributes may have changed, or it is gone.
  void forget(CK_OBJECT_HANDLE key);

 private:
  struct Entry {
    std::weak_ptr<const Object> object;  // keystore keys: what the facts were read from
    std::shared_ptr<const Policy> policy;  // the rules `rules` point into
    KeyFacts facts;
    std::vector<const PolicyRule*> rules;
    std::string counter;  // the store's name for the key's use counter
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  // The entry of `key` as seen through session `h`; nullptr when there is no such key.
  EntryPtr entry(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key, const std::shared_ptr<const Policy>& policy);
  EntryPtr make_entry(KeyFacts facts, const std::shared_ptr<const Policy>& policy);
  // The label and serial of the session's token.
  bool token_of(CK_SESSION_HANDLE h, std::string& label, std::string& serial);
  Status refuse(const PolicyRefusal& r, CK_SESSION_HANDLE h);

  App& app_;
  Core& core_;
  std::mutex mu_;
  std::unordered_map<const Object*, EntryPtr> by_object_;      // keystore keys
  std::unordered_map<CK_OBJECT_HANDLE, EntryPtr> by_handle_;   // bridged keys
};

}  // namespace ferrohsm
