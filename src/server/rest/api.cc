#include "server/rest/api.h"

#include "base/base64.h"
#include "server/rest/api_support.h"
#include "server/rest/mechanism_params.h"
#include "base/names.h"
#include "core/core.h"
#include "core/mech/curves.h"
#include "core/seal.h"
#include "server/rest/jwk.h"
#include "server/rest/key_list.h"
#include "server/rest/problem.h"

#include <cstring>
#include <map>

namespace ferrohsm::server::rest {
namespace {

using nlohmann::json;

std::string pem(const char* what, ByteView der) {
  std::string b64 = to_base64(der), out = std::string("-----BEGIN ") + what + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + what + "-----\n";
}

}  // namespace

Api::Api(std::shared_ptr<Core> core, std::chrono::seconds session_ttl)
    : core_(std::move(core)), sessions_(session_ttl) {
  add("GET", "/livez", &Api::livez);
  add("GET", "/readyz", &Api::readyz);
  add("GET", "/metrics", &Api::metrics_text);
  add("GET", "/v1/openapi.json", &Api::openapi);
  add("GET", "/v1/tokens", &Api::tokens);
  add("POST", "/v1/tokens/{token}/login", &Api::login);
  add("POST", "/v1/tokens/{token}/logout", &Api::logout);
  add("GET", "/v1/tokens/{token}/keys", &Api::list_keys);
  add("POST", "/v1/tokens/{token}/keys", &Api::generate_key);
  add("GET", "/v1/tokens/{token}/keys/{key}", &Api::get_key);
  add("DELETE", "/v1/tokens/{token}/keys/{key}", &Api::delete_key);
  add("GET", "/v1/tokens/{token}/keys/{key}/public", &Api::public_key);
  add("POST", "/v1/tokens/{token}/keys/{key}/sign", &Api::sign);
  add("POST", "/v1/tokens/{token}/keys/{key}/verify", &Api::verify);
  add("POST", "/v1/tokens/{token}/keys/{key}/encrypt", &Api::encrypt);
  add("POST", "/v1/tokens/{token}/keys/{key}/decrypt", &Api::decrypt);
  add("POST", "/v1/tokens/{token}/keys/{key}/mac", &Api::mac);
  add("POST", "/v1/tokens/{token}/keys/{key}/wrap", &Api::wrap);
  add("POST", "/v1/tokens/{token}/keys/{key}/unwrap", &Api::unwrap);
  add("POST", "/v1/tokens/{token}/keys:import", &Api::import_keys);
  add("POST", "/v1/random", &Api::random);
  std::vector<std::pair<std::string, std::string>> counted;
  for (const Route& r : routes_) counted.emplace_back(r.method, r.path);
  metrics_ = std::make_unique<Metrics>(counted);
}

Api::~Api() = default;

void Api::add(std::string method, std::string path, Result<Reply> (Api::*fn)(const Request&)) {
  routes_.push_back(Route{std::move(method), std::move(path), [this, fn](const Request& r) { return (this->*fn)(r); }});
}

std::unique_ptr<App> Api::open_app(const Request& r) {
  AppOptions o;
  o.identity = r.peer.identity;
  o.admin = r.grant.admin;
  o.sees_token = [g = r.grant](const std::string& label) { return g.sees(label); };
  return core_->open_app(std::move(o));
}

Result<std::shared_ptr<Login>> Api::login_of(const Request& r) {
  if (r.bearer.empty())
    return make_error(CKR_USER_NOT_LOGGED_IN, "log in first: POST /v1/tokens/{token}/login, then send "
                                              "\"Authorization: Bearer <session>\"");
  return sessions_.find(r.bearer, r.cert_fingerprint, r.params.at("token"));
}

Result<Reply> Api::livez(const Request&) { return json_reply({{"live", true}}); }

Status Api::store_ready() {
  auto v = core_->store().data_version();
  if (!v) return make_error(CKR_DEVICE_ERROR, "the store does not answer: " + v.error().message);
  return {};
}

Result<Reply> Api::readyz(const Request&) {
  FH_TRY(store_ready());
  return json_reply({{"ready", true}});
}

Result<Reply> Api::metrics_text(const Request&) {
  Metrics::Gauges g;
  g.sessions = sessions_.size();
  g.logged_in_tokens = core_->status().logged_in_tokens.size();
  g.store_up = store_ready().ok();
  return Reply{200, metrics_->render(g), "text/plain; version=0.0.4; charset=utf-8"};
}

Result<Reply> Api::openapi(const Request&) { return Reply{200, openapi_document(), "application/json"}; }

Result<Reply> Api::tokens(const Request& r) {
  auto app = open_app(r);
  FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, app->slot_list(true));
  json list = json::array();
  for (CK_SLOT_ID s : slots) {
    auto info = app->token_info(s);
    if (!info) continue;
    list.push_back({{"label", trimmed(info->label, sizeof info->label)},
                    {"serial", trimmed(info->serialNumber, sizeof info->serialNumber)},
                    {"model", trimmed(info->model, sizeof info->model)},
                    {"slot", s},
                    {"initialized", (info->flags & CKF_TOKEN_INITIALIZED) != 0}});
  }
  app->close();
  return json_reply({{"tokens", list}});
}

Result<Reply> Api::login(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::string pin, string_field(r.body, "pin"));
  SecureBytes pin_bytes(pin.begin(), pin.end());
  secure_wipe(pin.data(), pin.size());
  Login l;
  l.app = open_app(r);
  l.token = r.params.at("token");
  FH_ASSIGN_OR_RETURN(l.slot, slot_of(*l.app, l.token));
  // This session stays open while the bearer lives: a PKCS#11 login lasts while its
  // application has a session.
  FH_ASSIGN_OR_RETURN(CK_SESSION_HANDLE h, l.app->open_session(l.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION));
  FH_TRY(l.app->login(h, CKU_USER, as_chars(pin_bytes)));
  l.identity = r.peer.identity;
  l.cert_fingerprint = r.cert_fingerprint;
  FH_ASSIGN_OR_RETURN(std::string bearer, sessions_.add(std::move(l)));
  return json_reply({{"session", bearer}, {"expires_in", sessions_.ttl().count()}});
}

Result<Reply> Api::logout(const Request& r) {
  if (r.bearer.empty()) return make_error(CKR_USER_NOT_LOGGED_IN, "no bearer to log out");
  FH_TRY(sessions_.remove(r.bearer, r.cert_fingerprint));
  return Reply{204, "", "application/json"};
}

Result<Reply> Api::list_keys(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(KeyListQuery q, KeyListQuery::parse(r.query));
  const UsageRow* usage = nullptr;
  for (const UsageRow& x : kUsages)
    if (q.usage == x.name) usage = &x;
  if (!q.usage.empty() && usage == nullptr)
    return bad("usage must be one of sign, verify, encrypt, decrypt, wrap, unwrap, derive");
  App& app = *l->app;
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(app, l->slot, false));
  // Every matching private and secret key by id, then the page after q.after.
  std::map<std::string, CK_OBJECT_HANDLE> by_id;
  for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_SECRET_KEY}) {
    AttrMap t;
    t.set_ulong(CKA_CLASS, cls);
    if (!q.label.empty()) t.set(CKA_LABEL, as_bytes(q.label));
    if (q.type) t.set_ulong(CKA_KEY_TYPE, *q.type);
    FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, find_all(app, s.handle(), t));
    for (CK_OBJECT_HANDLE o : found) {
      auto id = read_attr(app, s.handle(), o, CKA_UNIQUE_ID);
      if (!id) continue;  // deleted meanwhile
      std::string key(id->begin(), id->end());
      if (key > q.after) by_id.emplace(std::move(key), o);
    }
  }
  json keys = json::array();
  std::string last;
  bool more = false;
  for (const auto& [id, o] : by_id) {
    if (usage != nullptr) {
      // A pair's public-half usages (verify, encrypt, wrap) are on its public key.
      CK_OBJECT_HANDLE holder = o;
      if (!usage->on_private) {
        auto half = public_half(app, s.handle(), o);
        if (!half) continue;
        holder = *half;
      }
      if (!read_bool(app, s.handle(), holder, usage->attr)) continue;
    }
    if (keys.size() == q.page_size) {
      more = true;
      break;
    }
    auto k = key_json(app, s.handle(), o);
    if (!k) continue;  // deleted meanwhile
    keys.push_back(std::move(*k));
    last = id;
  }
  json reply = {{"keys", keys}};
  if (more) reply["next_page_token"] = q.next_token(last);
  return json_reply(reply);
}

// With an Idempotency-Key (idempotency.h), a retry answers the first success again.
Result<Reply> Api::generate_key(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  if (!r.idempotency_key) return make_key(r, *l);
  FH_ASSIGN_OR_RETURN(std::string key, idempotency_key(*r.idempotency_key));
  const std::string& token = r.params.at("token");
  IdempotencyCache::Answer first;
  switch (idempotency_.begin(r.peer.identity, token, key, r.body.dump(), first)) {
    case IdempotencyCache::Verdict::kReplay:
      return Reply{first.status, first.body, first.content_type};
    case IdempotencyCache::Verdict::kInFlight:
      return make_error(CKR_OPERATION_ACTIVE, "a request with this Idempotency-Key is still running: retry it later");
    case IdempotencyCache::Verdict::kMismatch:
      return Reply{422,
                   problem_json(CKR_ARGUMENTS_BAD, "this Idempotency-Key was used with another body: use a new key "
                                                   "for a new key",
                                422),
                   "application/problem+json", CKR_ARGUMENTS_BAD};
    case IdempotencyCache::Verdict::kRun:
      break;
  }
  IdempotencyCache::Answer failed{500, "", ""};
  try {
    Result<Reply> out = make_key(r, *l);
    if (out) {
      idempotency_.finish(r.peer.identity, token, key, {out->status, out->body, out->content_type});
    } else {
      idempotency_.finish(r.peer.identity, token, key, failed);
    }
    return out;
  } catch (...) {  // a body field of the wrong JSON type: forgotten, so the key is not stuck "in flight"
    idempotency_.finish(r.peer.identity, token, key, failed);
    throw;
  }
}

Result<Reply> Api::make_key(const Request& r, Login& login) {
  Login* l = &login;  // as the other handlers name it
  FH_ASSIGN_OR_RETURN(std::string type, string_field(r.body, "type"));
  const std::string label = r.body.value("label", "");
  FH_ASSIGN_OR_RETURN(SecureBytes id, random_bytes(16));
  AttrMap pub, priv;
  for (AttrMap* t : {&pub, &priv}) {
    t->set_bool(CKA_TOKEN, true);
    if (!label.empty()) t->set(CKA_LABEL, as_bytes(label));
    t->set(CKA_ID, ByteView(id));
  }
  priv.set_bool(CKA_PRIVATE, true);
  priv.set_bool(CKA_SENSITIVE, true);
  priv.set_bool(CKA_EXTRACTABLE, r.body.value("extractable", false));
  CK_MECHANISM m{};
  bool pair = true;
  std::vector<std::string> dflt = {"sign", "verify"};
  if (type == "ed25519" || type == "ed448") {
    m.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
    const mech::Curve* c = mech::curve_by_ossl_name(type == "ed25519" ? "ED25519" : "ED448");
    pub.set(CKA_EC_PARAMS, c->oid_der);
  } else if (type == "ec") {
    const std::string curve = r.body.value("curve", "P-256");
    const char* ossl = curve == "P-256" ? "prime256v1" : curve == "P-384" ? "secp384r1" : curve == "P-521" ? "secp521r1" : nullptr;
    if (ossl == nullptr) return make_error(CKR_CURVE_NOT_SUPPORTED, "curve must be P-256, P-384 or P-521");
    m.mechanism = CKM_EC_KEY_PAIR_GEN;
    pub.set(CKA_EC_PARAMS, mech::curve_by_ossl_name(ossl)->oid_der);
  } else if (type == "rsa") {
    m.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    pub.set_ulong(CKA_MODULUS_BITS, r.body.value("bits", 2048ul));
    const uint8_t f4[] = {0x01, 0x00, 0x01};
    pub.set(CKA_PUBLIC_EXPONENT, ByteView(f4, 3));
  } else if (type == "aes" || type == "hmac") {
    pair = false;
    m.mechanism = type == "aes" ? CKM_AES_KEY_GEN : CKM_GENERIC_SECRET_KEY_GEN;
    priv.set_ulong(CKA_VALUE_LEN, r.body.value("bits", 256ul) / 8);
    dflt = type == "aes" ? std::vector<std::string>{"encrypt", "decrypt"} : std::vector<std::string>{"sign", "verify"};
  } else {
    return bad("type must be one of ed25519, ed448, ec, rsa, aes, hmac");
  }
  FH_TRY(set_usages(r.body, dflt, pair, pub, priv));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, true));
  CK_OBJECT_HANDLE key;
  if (pair) {
    FH_ASSIGN_OR_RETURN(auto both, l->app->generate_key_pair(s.handle(), m, pub, priv));
    key = both.second;
  } else {
    FH_ASSIGN_OR_RETURN(key, l->app->generate_key(s.handle(), m, priv));
  }
  FH_ASSIGN_OR_RETURN(json k, key_json(*l->app, s.handle(), key));
  return json_reply(k, 201);
}

Result<Reply> Api::get_key(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE o, key_by_id(*l, s.handle(), r.params.at("key")));
  FH_ASSIGN_OR_RETURN(json k, key_json(*l->app, s.handle(), o));
  return json_reply(k);
}

Result<Reply> Api::delete_key(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, true));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE o, key_by_id(*l, s.handle(), r.params.at("key")));
  // A pair's public half goes with its private key (same CKA_ID, public class); not with
  // an imported certificate, which shares that CKA_ID too.
  auto id = read_attr(*l->app, s.handle(), o, CKA_ID);
  auto cls = read_ulong(*l->app, s.handle(), o, CKA_CLASS);
  const bool private_key = cls && *cls == CKO_PRIVATE_KEY;
  FH_TRY(l->app->destroy_object(s.handle(), o));
  if (private_key && id && !id->empty()) {
    AttrMap t;
    t.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    t.set(CKA_ID, ByteView(*id));
    if (auto found = find(*l->app, s.handle(), t, 4))
      for (CK_OBJECT_HANDLE p : *found) (void)l->app->destroy_object(s.handle(), p);
  }
  return Reply{204, "", "application/json"};
}

Result<Reply> Api::public_key(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE o, key_by_id(*l, s.handle(), r.params.at("key")));
  FH_ASSIGN_OR_RETURN(Bytes spki, read_attr(*l->app, s.handle(), o, CKA_PUBLIC_KEY_INFO));
  if (spki.empty()) return make_error(CKR_KEY_TYPE_INCONSISTENT, "this key has no public half");
  const std::string format = r.query.count("format") ? r.query.at("format") : "pem";
  if (format == "pem") return Reply{200, pem("PUBLIC KEY", spki), "application/x-pem-file"};
  if (format == "der") return Reply{200, std::string(spki.begin(), spki.end()), "application/octet-stream"};
  if (format == "jwk") {
    FH_ASSIGN_OR_RETURN(json jwk, jwk_from_spki(spki, r.params.at("key")));
    return Reply{200, jwk.dump(), "application/jwk+json"};
  }
  return bad("format must be pem, der or jwk");
}

Result<Reply> Api::sign(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Mech> m, mechanism(r.body));
  FH_ASSIGN_OR_RETURN(Bytes data, bytes_field(r.body, "data"));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE o, key_by_id(*l, s.handle(), r.params.at("key")));
  FH_TRY(l->app->sign_init(s.handle(), m->m, o));
  CK_ULONG len = 0;
  FH_TRY(l->app->sign(s.handle(), data, OutBuf{nullptr, &len}));
  Bytes sig(len);
  FH_TRY(l->app->sign(s.handle(), data, OutBuf{sig.data(), &len}));
  sig.resize(len);
  return json_reply({{"signature", to_base64url(sig)}});
}

Result<Reply> Api::verify(const Request& r) {
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Mech> m, mechanism(r.body));
  FH_ASSIGN_OR_RETURN(Bytes data, bytes_field(r.body, "data"));
  FH_ASSIGN_OR_RETURN(Bytes sig, bytes_field(r.body, "signature"));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, key_by_id(*l, s.handle(), r.params.at("key")));
  FH_ASSIGN_OR_RETURN(key, public_half(*l->app, s.handle(), key));
  FH_TRY(l->app->verify_init(s.handle(), m->m, key));
  Status st = l->app->verify(s.handle(), data, sig);
  if (!st && st.error().rv != CKR_SIGNATURE_INVALID && st.error().rv != CKR_SIGNATURE_LEN_RANGE) return st.error();
  return json_reply({{"valid", st.ok()}});
}

Result<Reply> Api::crypt(const Request& r, CipherDir dir) {
  const bool enc = dir == CipherDir::Encrypt;
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Login> l, login_of(r));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<Mech> m, mechanism(r.body, enc));
  FH_ASSIGN_OR_RETURN(Bytes in, bytes_field(r.body, enc ? "plaintext" : "ciphertext"));
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*l->app, l->slot, false));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, key_by_id(*l, s.handle(), r.params.at("key")));
  if (enc) {
    FH_ASSIGN_OR_RETURN(key, public_half(*l->app, s.handle(), key));
  }
  FH_TRY(l->app->cipher_init(dir, s.handle(), m->m, key));
  CK_ULONG len = 0;
  FH_TRY(l->app->cipher(dir, s.handle(), in, OutBuf{nullptr, &len}));
  Bytes out(len);
  FH_TRY(l->app->cipher(dir, s.handle(), in, OutBuf{out.data(), &len}));
  out.resize(len);
  json j = {{enc ? "ciphertext" : "plaintext", to_base64url(out)}};
  if (m->iv_generated) j["iv"] = to_base64url(m->iv);
  return json_reply(j);
}

Result<Reply> Api::encrypt(const Request& r) { return crypt(r, CipherDir::Encrypt); }
Result<Reply> Api::decrypt(const Request& r) { return crypt(r, CipherDir::Decrypt); }

Result<Reply> Api::mac(const Request& r) {
  FH_ASSIGN_OR_RETURN(Reply signed_, sign(r));
  json j = json::parse(signed_.body);
  return json_reply({{"mac", j.at("signature")}});
}

Result<Reply> Api::random(const Request& r) {
  size_t n = 32;
  if (r.body.is_object() && r.body.contains("bytes")) {
    if (!r.body["bytes"].is_number_unsigned() || r.body["bytes"].get<size_t>() < 1 || r.body["bytes"].get<size_t>() > 1024)
      return bad("\"bytes\" must be a number from 1 to 1024");
    n = r.body["bytes"].get<size_t>();
  }
  auto app = open_app(r);
  FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, app->slot_list(true));
  if (slots.empty()) return make_error(CKR_TOKEN_NOT_PRESENT, "no token that you may see");
  FH_ASSIGN_OR_RETURN(ScopedSession s, ScopedSession::open(*app, slots.front(), false));
  Bytes out(n);
  FH_TRY(app->generate_random(s.handle(), MutableByteView(out.data(), out.size())));
  return json_reply({{"random", to_base64url(out)}});
}

}  // namespace ferrohsm::server::rest
