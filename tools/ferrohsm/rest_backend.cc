// The REST backend: `ferrohsm --server https://…` works through a ferrohsm-server's REST
// API (docs/REST.md). A key is named by the id the API gives it; a pair is one entry
// (its private key) whose public half the server uses to verify and encrypt.
#include "backend_factory.h"
#include "crypto_mech.h"
#include "rest_client.h"

#include "base/base64.h"
#include "base/names.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace ferrohsm::cli {
namespace {

using nlohmann::json;

std::string b64(ByteView b) { return to_base64url(b); }

Result<Bytes> unb64(const json& j, const char* field) {
  if (!j.is_object() || !j.contains(field) || !j[field].is_string())
    return make_error(CKR_DEVICE_ERROR, std::string("the REST server's answer has no \"") + field + "\"");
  auto b = from_base64url(j[field].get<std::string>());
  if (!b) return make_error(CKR_DEVICE_ERROR, std::string("the REST server's \"") + field + "\" is not base64url");
  return Bytes(b->begin(), b->end());
}

// The REST API's class and type names, and the tool's.
CK_OBJECT_CLASS class_of(const std::string& c) {
  return c == "private" ? CKO_PRIVATE_KEY : c == "public" ? CKO_PUBLIC_KEY : c == "secret" ? CKO_SECRET_KEY : CKO_DATA;
}

std::optional<CK_KEY_TYPE> type_of(const std::string& t) {
  static constexpr std::pair<const char*, CK_KEY_TYPE> kTypes[] = {
      {"rsa", CKK_RSA}, {"ec", CKK_EC}, {"eddsa", CKK_EC_EDWARDS}, {"montgomery", CKK_EC_MONTGOMERY},
      {"aes", CKK_AES}, {"generic-secret", CKK_GENERIC_SECRET}};
  for (const auto& [n, k] : kTypes)
    if (t == n) return k;
  return std::nullopt;
}

// Key size in bits from a SubjectPublicKeyInfo, as the embedded `key list` counts it
// (Edwards curves by their name: 255 and 448).
CK_ULONG spki_bits(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) return 0;
  CK_ULONG bits = EVP_PKEY_is_a(k, "ED25519") ? 255 : EVP_PKEY_is_a(k, "ED448") ? 448 : EVP_PKEY_get_bits(k);
  EVP_PKEY_free(k);
  return bits;
}

// The generate body of a --type (keygen.h), with the usages the embedded tool gives.
json generate_body(const KeySpec& spec, const std::string& label) {
  json b = {{"label", label}};
  switch (spec.key_type) {
    case CKK_RSA:
      b.update({{"type", "rsa"}, {"bits", spec.size}, {"usages", {"sign", "verify", "encrypt", "decrypt"}}});
      break;
    case CKK_EC: {
      const std::string curve = spec.curve;
      b.update({{"type", "ec"}, {"curve", curve == "prime256v1" ? "P-256" : curve == "secp384r1" ? "P-384" : "P-521"}});
      break;
    }
    case CKK_EC_EDWARDS: b["type"] = std::string(spec.name); break;
    case CKK_AES: b.update({{"type", "aes"}, {"bits", spec.size * 8}}); break;
    default: b.update({{"type", "hmac"}, {"bits", spec.size * 8}}); break;
  }
  return b;
}

CK_ULONG spec_bits(const KeySpec& spec) {
  if (spec.key_type == CKK_RSA) return spec.size;
  if (spec.key_type == CKK_AES || spec.key_type == CKK_GENERIC_SECRET) return spec.size * 8;
  const std::string c = spec.curve;
  return c == "prime256v1" ? 256 : c == "secp384r1" ? 384 : c == "secp521r1" ? 521 : c == "ED25519" ? 255 : 448;
}

// The mechanism and its parameters as the REST API takes them.
json mechanism_body(const CryptoMech& m) {
  json b = {{"mechanism", mechanism_name(m.type)}};
  if (auto pss = pss_params(m.type)) {
    b["parameters"] = {{"hash", pss->hash_name}, {"mgf", pss->mgf_name}, {"salt_length", pss->salt}};
  } else if (m.type == CKM_RSA_PKCS_OAEP) {
    b["parameters"] = {{"hash", "SHA256"}, {"mgf", "MGF1_SHA256"}};
  } else if (iv_length(m.type) != 0) {
    json p = json::object();
    if (!m.iv.empty()) p["iv"] = b64(m.iv);
    if (!m.aad.empty()) p["aad"] = b64(m.aad);
    b["parameters"] = p;
  }
  return b;
}

class RestKeys final : public KeyService {
 public:
  RestKeys(RestClient& http, TokenRef token, std::string bearer)
      : http_(http), token_(std::move(token)), bearer_(std::move(bearer)),
        keys_("/v1/tokens/" + url_escape(token_.label) + "/keys") {}
  ~RestKeys() override { (void)http_.call("POST", "/v1/tokens/" + url_escape(token_.label) + "/logout", nullptr, bearer_); }

  const TokenRef& token() const override { return token_; }

  Result<std::vector<KeyEntry>> list(const KeySelector& sel) override {
    if (sel.uri && sel.uri->id)
      return make_error(CKR_ARGUMENTS_BAD, "a URI's id= (CKA_ID) does not name a key through the REST API: use --id "
                                           "with the id `key list` shows");
    std::vector<json> found;
    if (!sel.id.empty()) {
      auto k = http_.call("GET", keys_ + "/" + url_escape(sel.id), nullptr, bearer_);
      if (!k && k.error().rv != CKR_KEY_HANDLE_INVALID) return k.error();
      if (k) found.push_back(*k);
    } else {
      std::string label = sel.label.empty() && sel.uri && sel.uri->object ? *sel.uri->object : sel.label;
      // Every page (next_page_token), each as large as the server allows.
      const std::string q = keys_ + "?page_size=1000" + (label.empty() ? "" : "&label=" + url_escape(label));
      std::string next;
      do {
        FH_ASSIGN_OR_RETURN(json page,
                            http_.call("GET", next.empty() ? q : q + "&page_token=" + url_escape(next), nullptr, bearer_));
        for (const json& k : page.value("keys", json::array())) found.push_back(k);
        next = page.value("next_page_token", "");
      } while (!next.empty());
    }
    std::vector<KeyEntry> out;
    for (const json& k : found) {
      KeyEntry e = entry(k);
      if (!sel.label.empty() && e.label != sel.label) continue;
      if (sel.cls && e.cls != *sel.cls) continue;
      if (e.cls == CKO_PRIVATE_KEY) {
        // The size of a pair is its public key's; a secret key's is not in the API.
        auto der = http_.get_raw(keys_ + "/" + url_escape(e.id) + "/public?format=der", bearer_);
        if (der) e.bits = spki_bits(*der);
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::vector<KeyEntry>> generate(const KeySpec& spec, const std::string& label,
                                         const std::string& id_hex) override {
    if (!id_hex.empty())
      return make_error(CKR_ARGUMENTS_BAD, "--id cannot be chosen through the REST API: the server names the key");
    FH_ASSIGN_OR_RETURN(json k, http_.call("POST", keys_, generate_body(spec, label), bearer_));
    KeyEntry e = entry(k);
    e.bits = spec_bits(spec);
    return std::vector<KeyEntry>{e};
  }

  Status remove(const KeyEntry& e) override {
    FH_TRY(http_.call("DELETE", keys_ + "/" + url_escape(e.id), nullptr, bearer_));
    return {};
  }

  Result<Bytes> public_key(const KeySelector& sel) override {
    FH_ASSIGN_OR_RETURN(std::string id, one_key(sel));
    FH_ASSIGN_OR_RETURN(std::string der, http_.get_raw(keys_ + "/" + url_escape(id) + "/public?format=der", bearer_));
    return Bytes(der.begin(), der.end());
  }

  Result<Bytes> sign(const KeySelector& sel, const CryptoMech& m, ByteView data) override {
    json body = mechanism_body(m);
    body["data"] = b64(data);
    FH_ASSIGN_OR_RETURN(json r, op(sel, "sign", body));
    return unb64(r, "signature");
  }

  Result<bool> verify(const KeySelector& sel, const CryptoMech& m, ByteView data, ByteView sig) override {
    json body = mechanism_body(m);
    body["data"] = b64(data);
    body["signature"] = b64(sig);
    FH_ASSIGN_OR_RETURN(json r, op(sel, "verify", body));
    if (!r.is_object() || !r.contains("valid") || !r["valid"].is_boolean())
      return make_error(CKR_DEVICE_ERROR, "the REST server's verify answer has no \"valid\"");
    return r["valid"].get<bool>();
  }

  Result<Bytes> encrypt(const KeySelector& sel, CryptoMech& m, ByteView plaintext) override {
    json body = mechanism_body(m);
    body["plaintext"] = b64(plaintext);
    FH_ASSIGN_OR_RETURN(json r, op(sel, "encrypt", body));
    if (r.contains("iv")) {
      FH_ASSIGN_OR_RETURN(m.iv, unb64(r, "iv"));
    }
    return unb64(r, "ciphertext");
  }

  Result<Bytes> decrypt(const KeySelector& sel, const CryptoMech& m, ByteView ciphertext) override {
    json body = mechanism_body(m);
    body["ciphertext"] = b64(ciphertext);
    FH_ASSIGN_OR_RETURN(json r, op(sel, "decrypt", body));
    return unb64(r, "plaintext");
  }

 private:
  KeyEntry entry(const json& k) const {
    KeyEntry e;
    e.cls = class_of(k.value("class", ""));
    e.label = k.value("label", "");
    e.id = k.value("id", "");
    e.key_type = type_of(k.value("type", ""));
    e.uri = http_.url() + keys_ + "/" + url_escape(e.id);
    return e;
  }

  // The id of the one key `sel` names (a private or secret key: the server finds a
  // pair's public half itself).
  Result<std::string> one_key(const KeySelector& sel) {
    if (sel.empty()) return make_error(CKR_ARGUMENTS_BAD, "name the key with --label or --id");
    if (!sel.id.empty()) return sel.id;
    FH_ASSIGN_OR_RETURN(std::vector<KeyEntry> found, list(sel));
    if (found.empty()) return make_error(CKR_KEY_HANDLE_INVALID, "no key on token '" + token_.label + "' matches");
    if (found.size() > 1)
      return make_error(CKR_ARGUMENTS_BAD, std::to_string(found.size()) + " keys match on token '" + token_.label +
                                               "': name one with --id");
    return found.front().id;
  }

  Result<json> op(const KeySelector& sel, const char* what, const json& body) {
    FH_ASSIGN_OR_RETURN(std::string id, one_key(sel));
    return http_.call("POST", keys_ + "/" + url_escape(id) + "/" + what, body, bearer_);
  }

  RestClient& http_;
  TokenRef token_;
  std::string bearer_;
  std::string keys_;
};

class RestBackend final : public Backend {
 public:
  explicit RestBackend(std::unique_ptr<RestClient> http) : Backend(true), http_(std::move(http)) {}
  std::string config_source() const override { return ""; }
  std::string store() const override { return http_->url() + " (REST API)"; }

  Result<std::vector<TokenRef>> tokens() override {
    FH_ASSIGN_OR_RETURN(json j, http_->call("GET", "/v1/tokens", nullptr));
    std::vector<TokenRef> out;
    for (const json& t : j.value("tokens", json::array())) {
      TokenRef r;
      r.slot = t.value("slot", CK_SLOT_ID{0});
      r.initialized = t.value("initialized", false);
      r.label = t.value("label", "");
      r.serial = t.value("serial", "");
      r.flags = r.initialized ? CKF_TOKEN_INITIALIZED : 0;  // the API shows no other flag
      out.push_back(std::move(r));
    }
    return out;
  }

  Result<std::optional<ObjectCounts>> object_counts(const TokenRef&) override { return std::optional<ObjectCounts>(); }

  Result<std::unique_ptr<KeyService>> login(const TokenOptions& tok, const PinFiles& pins, bool,
                                            const std::string& what) override {
    std::optional<Pkcs11Uri> uri;
    if (!tok.uri.empty()) {
      auto u = parse_pkcs11_uri(tok.uri);
      if (!u) return context(what, u.error());
      uri = std::move(*u);
    }
    auto all = tokens();
    if (!all) return context(what, all.error());
    auto chosen = select_token(*all, tok, uri ? &*uri : nullptr);
    if (!chosen) return context(what, chosen.error());
    FH_ASSIGN_OR_RETURN(Secret pin, obtain_pin(user_pin(pins), what));
    auto r = http_->call("POST", "/v1/tokens/" + url_escape(chosen->label) + "/login", json{{"pin", pin.view()}});
    if (!r) return context(what + ": log in as user", r.error());
    if (!r->is_object() || !r->contains("session") || !(*r)["session"].is_string())
      return make_error(CKR_DEVICE_ERROR, what + ": the REST server's login answer has no session");
    return std::unique_ptr<KeyService>(std::make_unique<RestKeys>(*http_, *chosen, (*r)["session"].get<std::string>()));
  }

 private:
  std::unique_ptr<RestClient> http_;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_rest_backend(const RemoteOptions& o) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<RestClient> http, RestClient::create(o));
  return std::unique_ptr<Backend>(std::make_unique<RestBackend>(std::move(http)));
}

}  // namespace ferrohsm::cli
