// POST …/keys/{key}/wrap and …/unwrap: C_WrapKey and C_UnwrapKey through core::App, so
// the PKCS#11 rules and the hardening rules hold as for any other caller: an
// unextractable key is never wrapped out (403 CKR_KEY_UNEXTRACTABLE), a sensitive key
// only under a key made on the token or trusted, CKA_WRAP_WITH_TRUSTED needs a trusted
// wrapping key (409 CKR_KEY_NOT_WRAPPABLE), and the audit records both.
#include "server/rest/api.h"
#include "server/rest/api_support.h"
#include "server/rest/mechanism_params.h"

#include "base/base64.h"
#include "core/seal.h"

namespace ferrohsm::server::rest {
namespace {

using nlohmann::json;

struct NewKeyType {
  const char* name;
  CK_OBJECT_CLASS cls;
  CK_KEY_TYPE key_type;
};
// The "type" of an unwrapped key, named as generate names it.
constexpr NewKeyType kNewKeyTypes[] = {
    {"aes", CKO_SECRET_KEY, CKK_AES},       {"hmac", CKO_SECRET_KEY, CKK_GENERIC_SECRET},
    {"rsa", CKO_PRIVATE_KEY, CKK_RSA},      {"ec", CKO_PRIVATE_KEY, CKK_EC},
    {"ed25519", CKO_PRIVATE_KEY, CKK_EC_EDWARDS}, {"ed448", CKO_PRIVATE_KEY, CKK_EC_EDWARDS},
};

// The new key's template from "template": {"type", "label", "usages", "extractable"}, as
// generate takes them. Token object, private, sensitive; unextractable unless asked.
Result<AttrMap> unwrap_template(const json& body) {
  if (!body.is_object() || !body.contains("template") || !body["template"].is_object())
    return bad("the body needs \"template\" (an object: type, label, usages, extractable)");
  const json& t = body["template"];
  FH_ASSIGN_OR_RETURN(std::string type, string_field(t, "type"));
  const NewKeyType* row = nullptr;
  for (const NewKeyType& x : kNewKeyTypes)
    if (type == x.name) row = &x;
  if (row == nullptr) return bad("template.type must be one of aes, hmac, rsa, ec, ed25519, ed448");
  if (t.contains("label") && !t["label"].is_string()) return bad("template.label must be a string");
  if (t.contains("extractable") && !t["extractable"].is_boolean()) return bad("template.extractable must be true or false");
  AttrMap a;
  a.set_ulong(CKA_CLASS, row->cls);
  a.set_ulong(CKA_KEY_TYPE, row->key_type);
  a.set_bool(CKA_TOKEN, true);
  a.set_bool(CKA_PRIVATE, true);
  a.set_bool(CKA_SENSITIVE, true);
  a.set_bool(CKA_EXTRACTABLE, t.value("extractable", false));
  const std::string label = t.value("label", "");
  if (!label.empty()) a.set(CKA_LABEL, as_bytes(label));
  FH_ASSIGN_OR_RETURN(SecureBytes id, random_bytes(16));
  a.set(CKA_ID, ByteView(id));
  const bool secret = row->cls == CKO_SECRET_KEY;
  const std::vector<std::string> dflt = row->key_type == CKK_AES ? std::vector<std::string>{"encrypt", "decrypt"}
                                        : secret                   ? std::vector<std::string>{"sign", "verify"}
                                                                   : std::vector<std::string>{"sign"};
  // Unwrapping makes one key. A private key takes its own usages (sign, decrypt,
  // unwrap, derive); its public half's (verify, encrypt, wrap) are refused, not dropped.
  AttrMap public_side;
  FH_TRY(set_usages(t, dflt, !secret, public_side, a));
  bool public_usage = false;
  for (const auto& [type, value] : public_side) public_usage |= public_side.get_bool_or(type, false);
  if (public_usage)
    return bad("unwrap makes the private key only: verify, encrypt and wrap belong to its public half");
  return a;
}

}  // namespace

Result<Reply> Api::wrap(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Mech> m, mechanism(r.body, true));
  FH_ASSIGN_OR_RETURN(std::string target_id, string_field(r.body, "key"));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE wrapping, key_by_id(*l, s.handle(), r.params.at("key")));
  // A pair wraps with its public half (as it encrypts).
  FH_ASSIGN_OR_RETURN(wrapping, public_half(*l->app, s.handle(), wrapping));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE target, key_by_id(*l, s.handle(), target_id));
  CK_ULONG len = 0;
  FH_TRY(l->app->wrap_key(s.handle(), m->m, wrapping, target, OutBuf{nullptr, &len}));
  SecureBytes out(len);
  FH_TRY(l->app->wrap_key(s.handle(), m->m, wrapping, target, OutBuf{out.data(), &len}));
  out.resize(len);
  json j = {{"wrapped", to_base64url(out)}};
  if (m->iv_generated) j["iv"] = to_base64url(m->iv);
  return json_reply(j);
}

Result<Reply> Api::unwrap(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Mech> m, mechanism(r.body));
  FH_ASSIGN_OR_RETURN(Bytes wrapped, bytes_field(r.body, "wrapped"));
  FH_ASSIGN_OR_RETURN(AttrMap tmpl, unwrap_template(r.body));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, true));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE unwrapping, key_by_id(*l, s.handle(), r.params.at("key")));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, l->app->unwrap_key(s.handle(), m->m, unwrapping, wrapped, tmpl));
  FH_ASSIGN_OR_RETURN(json k, key_json(*l->app, s.handle(), key));
  return json_reply(k, 201);
}

}  // namespace ferrohsm::server::rest
