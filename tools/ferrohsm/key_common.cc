#include "key_common.h"

#include "core/mech/curves.h"
#include "base/pkcs11_uri.h"

namespace ferrohsm::cli {

Result<KeyTarget> user_session(Context& ctx, const TokenOptions& tok, const PinFiles& pins, bool rw,
                               const std::string& what) {
  KeyTarget t;
  FH_ASSIGN_OR_RETURN(t.uri, parse_uri_option(tok));
  auto chosen = select_token(ctx.hsm(), tok, t.uri ? &*t.uri : nullptr);
  if (!chosen) return context(what, chosen.error());
  t.token = *chosen;
  FH_ASSIGN_OR_RETURN(Secret pin, obtain_pin(user_pin(pins), what));
  auto s = login_session(ctx.hsm(), t.token.slot, rw, CKU_USER, pin.view());
  if (!s) return context(what, s.error());
  t.session = std::make_unique<SessionGuard>(std::move(*s));
  return t;
}

Result<std::vector<ObjectPtr>> find_objects(App& hsm, CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  if (Status s = hsm.find_init(h, tmpl); !s) return context("search objects", s.error());
  std::vector<CK_OBJECT_HANDLE> handles;
  for (int round = 0; round < 1'000'000; ++round) {
    auto batch = hsm.find_next(h, 256);
    if (!batch) return context("search objects", batch.error());
    if (batch->empty()) break;
    handles.insert(handles.end(), batch->begin(), batch->end());
  }
  if (Status s = hsm.find_final(h); !s) return context("search objects", s.error());
  std::vector<ObjectPtr> out;
  for (CK_OBJECT_HANDLE o : handles) {
    auto obj = hsm.keystore().object(h, o);
    if (!obj) return context("read object " + std::to_string(o), obj.error());
    out.push_back(*obj);
  }
  return out;
}

Result<Bytes> parse_id(const std::string& hex) {
  Bytes id;
  std::string_view h = hex;
  if (h.starts_with("0x") || h.starts_with("0X")) h.remove_prefix(2);
  if (!from_hex(h, id)) return make_error(CKR_ARGUMENTS_BAD, "--id '" + hex + "' is not an even number of hex digits");
  return id;
}

void set_storage(AttrMap& a, const std::string& label, ByteView id) {
  a.set_bool(CKA_TOKEN, true);
  a.set(CKA_LABEL, as_bytes(label));
  if (!id.empty()) a.set(CKA_ID, id);
}

void set_public_usage(AttrMap& pub, CK_KEY_TYPE kt) {
  const bool rsa = kt == CKK_RSA;
  pub.set_bool(CKA_PRIVATE, false);
  pub.set_bool(CKA_VERIFY, true);
  pub.set_bool(CKA_ENCRYPT, rsa);
  pub.set_bool(CKA_WRAP, false);
  pub.set_bool(CKA_VERIFY_RECOVER, false);
}

void set_private_usage(AttrMap& priv, CK_KEY_TYPE kt) {
  const bool rsa = kt == CKK_RSA;
  priv.set_bool(CKA_PRIVATE, true);
  priv.set_bool(CKA_SENSITIVE, true);
  priv.set_bool(CKA_EXTRACTABLE, false);
  priv.set_bool(CKA_SIGN, true);
  priv.set_bool(CKA_DECRYPT, rsa);
  priv.set_bool(CKA_UNWRAP, false);
  priv.set_bool(CKA_SIGN_RECOVER, false);
}

nlohmann::json object_summary(const TokenRef& t, CK_OBJECT_CLASS cls, const std::string& label, ByteView id) {
  return {{"class", class_name(cls)},
          {"label", label},
          {"id", to_hex(id)},
          {"uri", format_object_uri(t.label, label, id, cls)}};
}

CK_ULONG key_bits(const AttrMap& a) {
  auto cls = a.get_ulong(CKA_CLASS);
  auto kt = a.get_ulong(CKA_KEY_TYPE);
  if (!cls || !kt || (*cls != CKO_PUBLIC_KEY && *cls != CKO_PRIVATE_KEY && *cls != CKO_SECRET_KEY)) return 0;
  if (*kt == CKK_RSA) {
    if (auto bits = a.get_ulong(CKA_MODULUS_BITS)) return *bits;
    ByteView n = a.view(CKA_MODULUS);
    size_t lead = 0;
    while (lead < n.size() && n[lead] == 0) ++lead;
    if (lead == n.size()) return 0;
    CK_ULONG bits = (n.size() - lead) * 8;
    for (uint8_t top = n[lead]; (top & 0x80) == 0; top <<= 1) --bits;
    return bits;
  }
  if (*kt == CKK_EC || *kt == CKK_EC_EDWARDS) {
    auto curve = mech::curve_from_params(a.view(CKA_EC_PARAMS));
    return curve ? (*curve)->bits : 0;
  }
  if (auto len = a.get_ulong(CKA_VALUE_LEN)) return *len * 8;
  return 0;
}

}  // namespace ferrohsm::cli
