#include "ferrohsm/signer/pkcs11_provider.h"

#include <ferrohsm/client/module.h>
#include <ferrohsm/client/secret.h>
#include <ferrohsm/client/session.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace ferrohsm::signer {

namespace {
// DER of the Ed25519 curve OID 1.3.101.112 (RFC 8410), for CKA_EC_PARAMS.
constexpr CK_BYTE kEd25519Params[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

// The client layer's error as a domain error: no CKR_* type crosses this line.
Error from_client(const client::Error& e, std::string_view what) {
  std::string msg = "PKCS#11 " + std::string(what) + " failed: " + e.message;
  switch (e.kind) {
    case client::ErrorKind::key_not_found: return Error::key_not_found(msg);
    case client::ErrorKind::invalid_argument:
    case client::ErrorKind::config: return Error::invalid(msg);
    default: return Error::unavailable(msg);
  }
}

Result<client::Secret> read_pin(const Pkcs11Settings& s) {
  if (!s.pin_file.empty()) {
    std::ifstream in(s.pin_file, std::ios::binary);
    if (!in) return Error::invalid("cannot read the PIN file " + s.pin_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string pin = ss.str();
    while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
    client::Secret secret(pin);
    std::fill(pin.begin(), pin.end(), '\0');
    if (secret.empty()) return Error::invalid("the PIN file " + s.pin_file + " is empty");
    return secret;
  }
  if (s.pin) return client::Secret(*s.pin);
  return Error::invalid("the pkcs11 provider needs --pkcs11-pin-file (or --pkcs11-pin for local development)");
}

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(size)};
}
}  // namespace

std::string Pkcs11Provider::label_for(std::string_view label, const Scope& scope, const KeyId& key_id) {
  return std::string(label) + ":" + scope.str() + ":" + key_id.str();
}

std::string Pkcs11Provider::mechanism_problem(std::span<const CK_MECHANISM_TYPE> mechanisms) {
  auto has = [&](CK_MECHANISM_TYPE m) { return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end(); };
  if (!has(CKM_EDDSA)) return "the token does not list CKM_EDDSA; ferrohsm-signer needs a PKCS#11 3.0 module with EdDSA";
  if (!has(CKM_EC_EDWARDS_KEY_PAIR_GEN)) return "the token does not list CKM_EC_EDWARDS_KEY_PAIR_GEN";
  return {};
}

Pkcs11Provider::Pkcs11Provider(std::shared_ptr<client::Module> module, std::unique_ptr<client::Session> session,
                               std::string label)
    : module_(std::move(module)), session_(std::move(session)), label_(std::move(label)) {}

Pkcs11Provider::~Pkcs11Provider() {
  std::lock_guard lock(mu_);
  session_.reset();  // closes the session before the module may be finalized
}

Result<std::unique_ptr<Pkcs11Provider>> Pkcs11Provider::open(const Pkcs11Settings& settings) {
  if (settings.module.empty()) return Error::invalid("the pkcs11 provider needs --pkcs11-module");
  if (!settings.slot) return Error::invalid("the pkcs11 provider needs --pkcs11-slot");
  if (settings.label.empty() || settings.label.find(':') != std::string::npos)
    return Error::invalid("--pkcs11-label must be non-empty and contain no ':'");
  auto module = client::Module::load(settings.module);
  if (!module) return from_client(module.error(), "module load");
  CK_SLOT_ID slot = *settings.slot;
  auto* fn = (*module)->functions();
  CK_ULONG count = 0;
  if (fn->C_GetMechanismList(slot, nullptr, &count) != CKR_OK)
    return Error::unavailable("cannot list the mechanisms of slot " + std::to_string(slot) + " of " + settings.module);
  std::vector<CK_MECHANISM_TYPE> mechanisms(count);
  if (fn->C_GetMechanismList(slot, mechanisms.data(), &count) != CKR_OK)
    return Error::unavailable("cannot list the mechanisms of slot " + std::to_string(slot));
  mechanisms.resize(count);
  if (auto problem = mechanism_problem(mechanisms); !problem.empty())
    return Error::invalid(settings.module + " slot " + std::to_string(slot) + ": " + problem);
  auto pin = read_pin(settings);
  if (!pin) return pin.error();
  auto session = (*module)->open_session(slot, true);
  if (!session) return from_client(session.error(), "open session");
  auto owned = std::make_unique<client::Session>(std::move(*session));
  if (auto s = owned->login(CKU_USER, *pin); !s) return from_client(s.error(), "login");
  return std::unique_ptr<Pkcs11Provider>(new Pkcs11Provider(std::move(*module), std::move(owned), settings.label));
}

std::optional<std::string> Pkcs11Provider::label_of(const std::string& handle) const {
  std::string_view h = handle;
  if (!h.starts_with(kHandlePrefix)) return std::nullopt;
  h.remove_prefix(kHandlePrefix.size());
  if (!h.starts_with(label_) || h.size() <= label_.size() || h[label_.size()] != ':') return std::nullopt;
  std::string_view rest = h.substr(label_.size() + 1);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto scope = Scope::parse(rest.substr(0, colon));
  auto key_id = KeyId::parse(rest.substr(colon + 1));
  if (!scope || !key_id) return std::nullopt;
  return label_for(label_, *scope, *key_id);
}

Result<std::optional<CK_OBJECT_HANDLE>> Pkcs11Provider::find_locked(CK_OBJECT_CLASS cls, const std::string& label) {
  CK_ATTRIBUTE templ[] = {attr(CKA_CLASS, &cls, sizeof cls), attr(CKA_LABEL, label.data(), label.size())};
  auto found = session_->find(templ, 2);
  if (!found) return from_client(found.error(), "find");
  if (found->empty()) return std::optional<CK_OBJECT_HANDLE>{};
  return std::optional<CK_OBJECT_HANDLE>(found->front());
}

Result<PublicKey> Pkcs11Provider::read_public_locked(CK_OBJECT_HANDLE pub) {
  auto point = session_->attribute(pub, CKA_EC_POINT);
  if (!point) return from_client(point.error(), "read public key");
  // DER OCTET STRING (04 20 ‖ key) per PKCS#11 3.0, or the raw 32 bytes some tokens give.
  const auto& b = *point;
  PublicKey out{};
  if (b.size() == 34 && b[0] == 0x04 && b[1] == 0x20) std::copy(b.begin() + 2, b.end(), out.begin());
  else if (b.size() == 32) std::copy(b.begin(), b.end(), out.begin());
  else return Error::unavailable("the token returned an Ed25519 public key in an unknown encoding");
  return out;
}

Result<GeneratedKey> Pkcs11Provider::generate(const Context& ctx, const Scope& scope, const KeyId& key_id) {
  if (auto s = ctx.check(); !s) return s.error();
  std::string label = label_for(label_, scope, key_id);
  std::string handle = std::string(kHandlePrefix) + label;
  std::lock_guard lock(mu_);
  auto priv = find_locked(CKO_PRIVATE_KEY, label);
  if (!priv) return priv.error();
  auto pub = find_locked(CKO_PUBLIC_KEY, label);
  if (!pub) return pub.error();
  if (*pub) {
    if (!*priv) return Error::retired("key " + handle + " was retired; pick a new key_id");
    auto key = read_public_locked(**pub);
    if (!key) return key.error();
    return GeneratedKey{handle, *key};
  }
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_KEY_TYPE type = CKK_EC_EDWARDS;
  CK_ATTRIBUTE pub_t[] = {
      attr(CKA_TOKEN, &yes, sizeof yes),          attr(CKA_KEY_TYPE, &type, sizeof type),
      attr(CKA_VERIFY, &yes, sizeof yes),         attr(CKA_LABEL, label.data(), label.size()),
      attr(CKA_ID, label.data(), label.size()),   attr(CKA_EC_PARAMS, kEd25519Params, sizeof kEd25519Params),
  };
  CK_ATTRIBUTE priv_t[] = {
      attr(CKA_TOKEN, &yes, sizeof yes),       attr(CKA_KEY_TYPE, &type, sizeof type),
      attr(CKA_PRIVATE, &yes, sizeof yes),     attr(CKA_SENSITIVE, &yes, sizeof yes),
      attr(CKA_EXTRACTABLE, &no, sizeof no),   attr(CKA_SIGN, &yes, sizeof yes),
      attr(CKA_LABEL, label.data(), label.size()), attr(CKA_ID, label.data(), label.size()),
  };
  auto pair = session_->generate_key_pair(client::Mechanism{CKM_EC_EDWARDS_KEY_PAIR_GEN, {}}, pub_t, priv_t);
  if (!pair) return from_client(pair.error(), "key generation");
  auto key = read_public_locked(pair->first);
  if (!key) return key.error();
  return GeneratedKey{handle, *key};
}

Result<Signature> Pkcs11Provider::sign(const Context& ctx, const std::string& handle_id, const Digest& digest) {
  if (auto s = ctx.check(); !s) return s.error();
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  std::lock_guard lock(mu_);
  auto priv = find_locked(CKO_PRIVATE_KEY, *label);
  if (!priv) return priv.error();
  if (!*priv) {
    auto pub = find_locked(CKO_PUBLIC_KEY, *label);
    if (pub && *pub) return Error::retired("key " + handle_id + " is retired");
    return Error::key_not_found("no key labelled " + *label + " on the token");
  }
  auto sig = session_->sign(client::Mechanism{CKM_EDDSA, {}}, **priv, digest);
  if (!sig) return from_client(sig.error(), "sign");
  if (sig->size() != 64) return Error::unavailable("the token returned a signature of the wrong length");
  Signature out{};
  std::copy(sig->begin(), sig->end(), out.begin());
  return out;
}

Result<PublicKey> Pkcs11Provider::public_key(const Context& ctx, const std::string& handle_id) {
  if (auto s = ctx.check(); !s) return s.error();
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  std::lock_guard lock(mu_);
  auto pub = find_locked(CKO_PUBLIC_KEY, *label);
  if (!pub) return pub.error();
  if (!*pub) return Error::key_not_found("no key labelled " + *label + " on the token");
  return read_public_locked(**pub);
}

Status Pkcs11Provider::retire(const Context& ctx, const std::string& handle_id) {
  if (auto s = ctx.check(); !s) return s;
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  std::lock_guard lock(mu_);
  auto pub = find_locked(CKO_PUBLIC_KEY, *label);
  if (!pub) return pub.error();
  auto priv = find_locked(CKO_PRIVATE_KEY, *label);
  if (!priv) return priv.error();
  if (!*pub && !*priv) return Error::key_not_found("no key labelled " + *label + " on the token");
  if (*priv) {
    if (auto s = session_->destroy_object(**priv); !s) return from_client(s.error(), "retire");
  }
  return {};
}

Result<std::unique_ptr<KeyProvider>> make_pkcs11_provider(const Pkcs11Settings& settings) {
  auto p = Pkcs11Provider::open(settings);
  if (!p) return p.error();
  return std::unique_ptr<KeyProvider>(std::move(*p));
}

}  // namespace ferrohsm::signer
