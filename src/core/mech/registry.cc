#include "core/mech/registry.h"

#include <algorithm>

namespace ferrohsm::mech {

const Registry& Registry::global() {
  static const Registry r = [] {
    Registry reg;
    register_rsa(reg);
    register_ecdsa(reg);
    register_eddsa(reg);
    register_aes(reg);
    register_digest(reg);
    register_hmac(reg);
    register_generic_secret(reg);
    register_ecdh(reg);
    register_aes_modes(reg);
    register_aes_kw(reg);
    register_aes_mac(reg);
    register_aead(reg);
    register_des(reg);
    register_hkdf(reg);
    register_sp800_108(reg);
    register_pbkdf2(reg);
    register_simple_derive(reg);
    return reg;
  }();
  return r;
}

// Keeps entries_ sorted by type; a second entry for the same type replaces the first.
void Registry::add(Entry e) {
  if (e.sign != nullptr) e.info.flags |= CKF_MESSAGE_SIGN;
  if (e.verify != nullptr) e.info.flags |= CKF_MESSAGE_VERIFY;
  auto it = std::ranges::lower_bound(entries_, e.type, {}, &Entry::type);
  if (it != entries_.end() && it->type == e.type)
    *it = std::move(e);
  else
    entries_.insert(it, std::move(e));
}

const Entry* Registry::find(CK_MECHANISM_TYPE type) const {
  auto it = std::ranges::lower_bound(entries_, type, {}, &Entry::type);
  return it != entries_.end() && it->type == type ? &*it : nullptr;
}

}  // namespace ferrohsm::mech
