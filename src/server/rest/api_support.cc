#include "server/rest/api_support.h"

#include "base/base64.h"
#include "server/rest/key_list.h"

#include <algorithm>

namespace ferrohsm::server::rest {
namespace {

using nlohmann::json;

std::vector<std::string> usages_of(const json& body, std::vector<std::string> dflt) {
  if (!body.contains("usages") || !body["usages"].is_array()) return dflt;
  std::vector<std::string> u;
  for (const auto& x : body["usages"])
    if (x.is_string()) u.push_back(x.get<std::string>());
  return u;
}

}  // namespace

Reply json_reply(const json& j, int status) { return Reply{status, j.dump(), "application/json"}; }

Error bad(const std::string& why) { return make_error(CKR_ARGUMENTS_BAD, why); }

Result<std::string> string_field(const json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !body[name].is_string())
    return bad(std::string("the body needs \"") + name + "\" (a string)");
  return body[name].get<std::string>();
}

Result<Bytes> bytes_field(const json& body, const char* name) {
  FH_ASSIGN_OR_RETURN(std::string text, string_field(body, name));
  auto b = from_base64url(text);
  if (!b) return bad(std::string("\"") + name + "\" must be base64url");
  return Bytes(b->begin(), b->end());
}

Result<CK_SLOT_ID> slot_of(App& app, const std::string& label) {
  FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, app.slot_list(true));
  for (CK_SLOT_ID s : slots)
    if (app.token_label(s) == label) return s;
  return make_error(CKR_TOKEN_NOT_PRESENT, "no token '" + label + "' that you may see");
}

std::string trimmed(const CK_UTF8CHAR* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// One attribute's value (length query, then the value).
Result<Bytes> read_attr(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  FH_TRY(app.get_attributes(h, o, std::span<CK_ATTRIBUTE>(&a, 1)));
  if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return make_error(CKR_ATTRIBUTE_TYPE_INVALID, "not available");
  Bytes v(a.ulValueLen);
  a.pValue = v.data();
  FH_TRY(app.get_attributes(h, o, std::span<CK_ATTRIBUTE>(&a, 1)));
  v.resize(a.ulValueLen);
  return v;
}

Result<CK_ULONG> read_ulong(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_ULONG v = 0;
  CK_ATTRIBUTE a{type, &v, sizeof v};
  FH_TRY(app.get_attributes(h, o, std::span<CK_ATTRIBUTE>(&a, 1)));
  return v;
}

Result<std::vector<CK_OBJECT_HANDLE>> find(App& app, CK_SESSION_HANDLE h, const AttrMap& tmpl, CK_ULONG max) {
  FH_TRY(app.find_init(h, tmpl));
  auto found = app.find_next(h, max);
  (void)app.find_final(h);
  return found;
}

Result<std::vector<CK_OBJECT_HANDLE>> find_all(App& app, CK_SESSION_HANDLE h, const AttrMap& tmpl) {
  FH_TRY(app.find_init(h, tmpl));
  std::vector<CK_OBJECT_HANDLE> all;
  for (;;) {
    auto batch = app.find_next(h, 256);
    if (!batch) {
      (void)app.find_final(h);
      return batch.error();
    }
    if (batch->empty()) break;
    all.insert(all.end(), batch->begin(), batch->end());
  }
  (void)app.find_final(h);
  return all;
}

bool read_bool(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_BBOOL v = CK_FALSE;
  CK_ATTRIBUTE a{type, &v, sizeof v};
  return app.get_attributes(h, o, std::span<CK_ATTRIBUTE>(&a, 1)).ok() && v == CK_TRUE;
}

Result<CK_OBJECT_HANDLE> key_by_id(Login& l, CK_SESSION_HANDLE h, const std::string& id) {
  KeyHandles& cache = *l.handles;
  std::optional<CK_OBJECT_HANDLE> known;
  {
    std::lock_guard lock(cache.mu);
    if (auto it = cache.by_id.find(id); it != cache.by_id.end()) known = it->second;
  }
  if (known) {
    auto now = read_attr(*l.app, h, *known, CKA_UNIQUE_ID);
    if (now.ok() && std::string(now->begin(), now->end()) == id) return *known;
  }
  AttrMap t;
  t.set(CKA_UNIQUE_ID, as_bytes(id));
  FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, find(*l.app, h, t, 2));
  std::lock_guard lock(cache.mu);
  if (found.empty()) {
    cache.by_id.erase(id);
    return make_error(CKR_KEY_HANDLE_INVALID, "no key '" + id + "' on this token");
  }
  if (cache.by_id.size() >= KeyHandles::kMax) cache.by_id.clear();
  cache.by_id[id] = found.front();
  return found.front();
}

Result<CK_OBJECT_HANDLE> public_half(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(CK_ULONG cls, read_ulong(app, h, key, CKA_CLASS));
  if (cls != CKO_PRIVATE_KEY) return key;
  FH_ASSIGN_OR_RETURN(Bytes id, read_attr(app, h, key, CKA_ID));
  AttrMap t;
  t.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  t.set(CKA_ID, ByteView(id));
  FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, find(app, h, t, 1));
  if (found.empty()) return make_error(CKR_KEY_HANDLE_INVALID, "the public half of this key is not on the token");
  return found.front();
}

std::string class_name(CK_ULONG c) {
  switch (c) {
    case CKO_PRIVATE_KEY: return "private";
    case CKO_PUBLIC_KEY: return "public";
    case CKO_SECRET_KEY: return "secret";
    case CKO_CERTIFICATE: return "certificate";
    default: return "other";
  }
}

Result<json> key_json(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
  json j;
  FH_ASSIGN_OR_RETURN(Bytes id, read_attr(app, h, o, CKA_UNIQUE_ID));
  j["id"] = std::string(id.begin(), id.end());
  auto label = read_attr(app, h, o, CKA_LABEL);
  j["label"] = label ? std::string(label->begin(), label->end()) : "";
  FH_ASSIGN_OR_RETURN(CK_ULONG cls, read_ulong(app, h, o, CKA_CLASS));
  j["class"] = class_name(cls);
  if (cls == CKO_CERTIFICATE) {
    j["type"] = "x509";  // the only certificate type imported
    return j;
  }
  FH_ASSIGN_OR_RETURN(CK_ULONG kt, read_ulong(app, h, o, CKA_KEY_TYPE));
  j["type"] = key_type_name(kt);
  return j;
}

Status set_usages(const json& body, const std::vector<std::string>& dflt, bool pair, AttrMap& pub, AttrMap& priv) {
  for (const std::string& u : usages_of(body, dflt)) {
    const UsageRow* row = nullptr;
    for (const UsageRow& x : kUsages)
      if (u == x.name) row = &x;
    if (row == nullptr) return bad("unknown usage '" + u + "' (sign, verify, encrypt, decrypt, wrap, unwrap, derive)");
  }
  // Every usage is set, true or false: the token's default for one left out may be true
  // (a key given "decrypt" only must not encrypt).
  const std::vector<std::string> given = usages_of(body, dflt);
  for (const UsageRow& x : kUsages)
    (pair && !x.on_private ? pub : priv).set_bool(x.attr, std::find(given.begin(), given.end(), x.name) != given.end());
  return {};
}

}  // namespace ferrohsm::server::rest
