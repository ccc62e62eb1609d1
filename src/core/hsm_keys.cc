// Hsm: key generation.
#include "core/hsm.h"

#include "core/hardening.h"
#include "core/object_policy.h"

namespace ferrohsm {

Result<CK_OBJECT_HANDLE> Hsm::generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->generate_key == nullptr)
    return make_error(CKR_MECHANISM_INVALID, "mechanism cannot generate a secret key");
  const bool so = s->token()->role() == Role::SO;
  FH_TRY(check_writable(*s, tmpl.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, tmpl.get_bool_or(CKA_PRIVATE, true)));
  FH_ASSIGN_OR_RETURN(AttrMap material, e->generate_key(m, tmpl));
  FH_ASSIGN_OR_RETURN(AttrMap attrs, complete_generated(CKO_SECRET_KEY, harden_defaults(cfg_.hardening, CKO_SECRET_KEY, tmpl),
                                                         std::move(material), m.mechanism, so));
  FH_TRY(check_new_object(cfg_.hardening, attrs, KeyOrigin::Generated));
  FH_ASSIGN_OR_RETURN(ObjectPtr obj, s->token()->create_object(std::move(attrs), h));
  return obj->handle();
}

Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> Hsm::generate_key_pair(CK_SESSION_HANDLE h,
                                                                              const CK_MECHANISM& m,
                                                                              const AttrMap& pub,
                                                                              const AttrMap& priv) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  const mech::Entry* e = registry().find(m.mechanism);
  if (e == nullptr || e->generate_key_pair == nullptr)
    return make_error(CKR_MECHANISM_INVALID, "mechanism cannot generate a key pair");
  const bool so = s->token()->role() == Role::SO;
  FH_TRY(check_writable(*s, pub.get_bool_or(CKA_TOKEN, false) || priv.get_bool_or(CKA_TOKEN, false)));
  FH_TRY(check_private_access(*s, pub.get_bool_or(CKA_PRIVATE, false) || priv.get_bool_or(CKA_PRIVATE, true)));
  FH_ASSIGN_OR_RETURN(mech::GeneratedKeyPair kp, e->generate_key_pair(m, pub, priv));
  // The generator derived CKA_PUBLIC_KEY_INFO etc. once and hands over the key it made.
  const bool derived = kp.private_key != nullptr;
  FH_ASSIGN_OR_RETURN(AttrMap pub_attrs,
                      complete_generated(CKO_PUBLIC_KEY, pub, std::move(kp.public_attrs), m.mechanism, so, derived));
  // The key type comes from the mechanism's material (a Montgomery key only derives).
  AttrMap priv_tmpl = priv;
  if (!priv_tmpl.has(CKA_KEY_TYPE) && kp.private_attrs.has(CKA_KEY_TYPE))
    priv_tmpl.set(CKA_KEY_TYPE, kp.private_attrs.view(CKA_KEY_TYPE));
  FH_ASSIGN_OR_RETURN(AttrMap priv_attrs,
                      complete_generated(CKO_PRIVATE_KEY,
                                         harden_defaults(cfg_.hardening, CKO_PRIVATE_KEY, std::move(priv_tmpl)),
                                         std::move(kp.private_attrs), m.mechanism, so, derived));
  FH_TRY(check_new_object(cfg_.hardening, pub_attrs, KeyOrigin::Generated));
  FH_TRY(check_new_object(cfg_.hardening, priv_attrs, KeyOrigin::Generated));
  FH_ASSIGN_OR_RETURN(auto made, s->token()->create_pair(std::move(pub_attrs), std::move(priv_attrs), h,
                                                         std::move(kp.private_key)));
  return std::make_pair(made.first->handle(), made.second->handle());
}

}  // namespace ferrohsm
