// POST /v1/tokens/{token}/keys:import: a PKCS#8 private key, a PKCS#12 (key, certificate
// and chain) or an X.509 certificate becomes token objects through C_CreateObject on
// core::App (the same rules and audit as any import). The decoding is the core's
// (core/key_import.h), shared with `ferrohsm key import`. A private key lands private,
// sensitive and unextractable unless "extractable": true. The PKCS#12 password is in
// the body only: no answer or log line holds it.
#include "server/rest/api.h"
#include "server/rest/api_support.h"

#include "base/base64.h"
#include "core/key_import.h"

namespace ferrohsm::server::rest {
namespace {

using nlohmann::json;

// The input bytes: "data" (base64url DER) or "pem" (text).
Result<SecureBytes> input_of(const json& body) {
  if (body.contains("data") == body.contains("pem")) return bad("give \"data\" (base64url DER) or \"pem\" (text), one of them");
  if (body.contains("pem")) {
    FH_ASSIGN_OR_RETURN(std::string pem, string_field(body, "pem"));
    return SecureBytes(pem.begin(), pem.end());
  }
  FH_ASSIGN_OR_RETURN(Bytes der, bytes_field(body, "data"));
  SecureBytes out(der.begin(), der.end());
  secure_wipe(der.data(), der.size());
  return out;
}

Result<ImportedObjects> decode(const json& body) {
  FH_ASSIGN_OR_RETURN(std::string format, string_field(body, "format"));
  FH_ASSIGN_OR_RETURN(SecureBytes in, input_of(body));
  if (format == "pkcs12") {
    if (body.contains("pem")) return bad("a PKCS#12 is given as \"data\" (base64url DER)");
    if (body.contains("password") && !body["password"].is_string()) return bad("\"password\" must be a string");
    const std::string_view password =
        body.contains("password") ? std::string_view(body["password"].get_ref<const std::string&>()) : std::string_view();
    return decode_pkcs12(in, password, "the PKCS#12");
  }
  if (format != "pkcs8" && format != "certificate") return bad("format must be pkcs8, pkcs12 or certificate");
  FH_ASSIGN_OR_RETURN(ImportedObjects got, decode_import(in, format == "pkcs8" ? "the PKCS#8 key" : "the certificate"));
  const CK_OBJECT_CLASS first = got.objects.front().get_ulong(CKA_CLASS).value_or(CKO_DATA);
  if ((format == "pkcs8") != (first == CKO_PRIVATE_KEY) || (format == "certificate") != (first == CKO_CERTIFICATE))
    return bad("format is " + format + " but the data is a " + got.kind);
  return got;
}

}  // namespace

Result<Reply> Api::import_keys(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  if (r.body.contains("label") && !r.body["label"].is_string()) return bad("\"label\" must be a string");
  if (r.body.contains("extractable") && !r.body["extractable"].is_boolean())
    return bad("\"extractable\" must be true or false");
  Bytes id;
  if (r.body.contains("id")) {
    FH_ASSIGN_OR_RETURN(std::string hex, string_field(r.body, "id"));
    if (hex.empty() || !from_hex(hex, id)) return bad("\"id\" must be hex digits (the CKA_ID)");
  }
  // The usages land on the private key and its public half as generate sets them.
  AttrMap pub_usage, priv_usage;
  FH_TRY(set_usages(r.body, {"sign", "verify"}, true, pub_usage, priv_usage));
  FH_ASSIGN_OR_RETURN(ImportedObjects got, decode(r.body));
  if (id.empty()) id = got.default_id;
  const std::string label = r.body.value("label", "");
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, true));
  std::vector<CK_OBJECT_HANDLE> created;
  json objects = json::array();
  for (AttrMap& obj : got.objects) {
    const CK_OBJECT_CLASS cls = obj.get_ulong(CKA_CLASS).value_or(CKO_DATA);
    obj.set_bool(CKA_TOKEN, true);
    if (!label.empty()) obj.set(CKA_LABEL, as_bytes(label));
    if (!obj.has(CKA_ID) && !id.empty()) obj.set(CKA_ID, ByteView(id));
    if (cls == CKO_PRIVATE_KEY) {
      obj.set_bool(CKA_PRIVATE, true);
      obj.set_bool(CKA_SENSITIVE, true);
      obj.set_bool(CKA_EXTRACTABLE, r.body.value("extractable", false));
      for (const auto& [type, value] : priv_usage) obj.set(type, ByteView(value));
    } else if (cls == CKO_PUBLIC_KEY) {
      obj.set_bool(CKA_PRIVATE, false);
      for (const auto& [type, value] : pub_usage) obj.set(type, ByteView(value));
    }
    auto h = l->app->create_object(s.handle(), obj);
    if (!h) {
      // All or nothing: what was created goes again.
      for (CK_OBJECT_HANDLE done : created) (void)l->app->destroy_object(s.handle(), done);
      return h.error();
    }
    created.push_back(*h);
  }
  for (CK_OBJECT_HANDLE o : created) {
    FH_ASSIGN_OR_RETURN(json j, key_json(*l->app, s.handle(), o));
    objects.push_back(std::move(j));
  }
  return json_reply({{"kind", got.kind}, {"objects", objects}}, 201);
}

}  // namespace ferrohsm::server::rest
