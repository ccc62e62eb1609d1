#include "keygen.h"

#include "core/mech/curves.h"
#include "key_common.h"
#include "base/pkcs11_uri.h"

#include <array>

namespace ferrohsm::cli {
namespace {

constexpr std::array<KeySpec, 11> kSpecs = {{
    {"rsa:2048", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 2048, nullptr},
    {"rsa:3072", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 3072, nullptr},
    {"rsa:4096", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 4096, nullptr},
    {"ec:p256", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "prime256v1"},
    {"ec:p384", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "secp384r1"},
    {"ec:p521", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "secp521r1"},
    {"ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, "ED25519"},
    {"ed448", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, "ED448"},
    {"aes:128", CKM_AES_KEY_GEN, CKK_AES, 16, nullptr},
    {"aes:256", CKM_AES_KEY_GEN, CKK_AES, 32, nullptr},
    {"generic:32", CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, nullptr},
}};

constexpr uint8_t kF4[] = {0x01, 0x00, 0x01};  // public exponent 65537
constexpr size_t kDefaultIdBytes = 8;

// The public and private templates of a key pair.
Status pair_templates(const KeySpec& spec, AttrMap& pub, AttrMap& priv) {
  set_public_usage(pub, spec.key_type);
  set_private_usage(priv, spec.key_type);
  if (spec.key_type == CKK_RSA) {
    pub.set_ulong(CKA_MODULUS_BITS, spec.size);
    pub.set(CKA_PUBLIC_EXPONENT, ByteView(kF4));
    return {};
  }
  const mech::Curve* c = mech::curve_by_ossl_name(spec.curve);
  if (c == nullptr) return make_error(CKR_CURVE_NOT_SUPPORTED, std::string("curve ") + spec.curve + " is not known");
  pub.set(CKA_EC_PARAMS, c->oid_der);
  return {};
}

}  // namespace

const KeySpec* find_key_spec(std::string_view name) {
  for (const KeySpec& s : kSpecs)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> key_spec_names() {
  std::vector<std::string> out;
  for (const KeySpec& s : kSpecs) out.emplace_back(s.name);
  return out;
}

Status run_generate(Context& ctx, const GenerateOptions& o) {
  const KeySpec* spec = find_key_spec(o.type);
  if (spec == nullptr) return make_error(CKR_ARGUMENTS_BAD, "key generate: unknown --type '" + o.type + "'");
  if (o.label.empty()) return make_error(CKR_ARGUMENTS_BAD, "key generate: --label must not be empty");
  FH_ASSIGN_OR_RETURN(Bytes id, parse_id(o.id_hex));
  FH_ASSIGN_OR_RETURN(KeyTarget t, user_session(ctx, o.token, o.pins, true, "key generate"));
  App& hsm = ctx.hsm();
  if (id.empty()) {
    id.resize(kDefaultIdBytes);
    if (Status s = hsm.generate_random(t.handle(), id); !s) return context("key generate: random id", s.error());
  }
  CK_MECHANISM m{spec->mechanism, nullptr, 0};
  nlohmann::json made = nlohmann::json::array();
  if (spec->key_type == CKK_AES || spec->key_type == CKK_GENERIC_SECRET) {
    AttrMap tmpl;
    set_storage(tmpl, o.label, id);
    tmpl.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
    tmpl.set_ulong(CKA_KEY_TYPE, spec->key_type);
    tmpl.set_ulong(CKA_VALUE_LEN, spec->size);
    tmpl.set_bool(CKA_PRIVATE, true);
    tmpl.set_bool(CKA_SENSITIVE, true);
    tmpl.set_bool(CKA_EXTRACTABLE, false);
    bool aes = spec->key_type == CKK_AES;
    tmpl.set_bool(CKA_ENCRYPT, aes);
    tmpl.set_bool(CKA_DECRYPT, aes);
    tmpl.set_bool(CKA_SIGN, !aes);
    tmpl.set_bool(CKA_VERIFY, !aes);
    auto h = hsm.generate_key(t.handle(), m, tmpl);
    if (!h) return context("key generate " + o.type + " (C_GenerateKey)", h.error());
    made.push_back(object_summary(t.token, CKO_SECRET_KEY, o.label, id));
  } else {
    AttrMap pub, priv;
    set_storage(pub, o.label, id);
    set_storage(priv, o.label, id);
    FH_TRY(pair_templates(*spec, pub, priv));
    auto h = hsm.generate_key_pair(t.handle(), m, pub, priv);
    if (!h) return context("key generate " + o.type + " (C_GenerateKeyPair)", h.error());
    made.push_back(object_summary(t.token, CKO_PRIVATE_KEY, o.label, id));
    made.push_back(object_summary(t.token, CKO_PUBLIC_KEY, o.label, id));
  }
  ctx.out().doc() = {{"token", t.token.label}, {"type", o.type}, {"objects", made}};
  for (const auto& j : made) ctx.out().line("generated " + j["class"].get<std::string>() + "  " + j["uri"].get<std::string>());
  return {};
}

}  // namespace ferrohsm::cli
