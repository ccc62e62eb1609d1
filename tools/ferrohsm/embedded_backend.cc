// The embedded backend: the commands work on the store itself through core::App, as
// the PKCS#11 module does (one App per command run, admin, in process).
#include "backend.h"
#include "backend_factory.h"
#include "crypto_mech.h"
#include "key_common.h"

#include "core/mech/curves.h"

#include <array>

namespace ferrohsm::cli {
namespace {

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

// The search template of a selector.
Result<AttrMap> selection(const KeySelector& sel) {
  AttrMap tmpl;
  if (sel.uri) {
    if (sel.uri->object) tmpl.set(CKA_LABEL, as_bytes(*sel.uri->object));
    if (sel.uri->id) tmpl.set(CKA_ID, *sel.uri->id);
    if (sel.uri->type) tmpl.set_ulong(CKA_CLASS, *sel.uri->type);
  }
  if (!sel.label.empty()) tmpl.set(CKA_LABEL, as_bytes(sel.label));
  if (!sel.id.empty()) {
    FH_ASSIGN_OR_RETURN(Bytes id, parse_id(sel.id));
    tmpl.set(CKA_ID, id);
  }
  if (sel.cls) tmpl.set_ulong(CKA_CLASS, *sel.cls);
  return tmpl;
}

// A session on the chosen token, logged in as its user, that logs out when it closes.
class EmbeddedKeys final : public KeyService {
 public:
  EmbeddedKeys(App& hsm, KeyTarget t) : hsm_(hsm), t_(std::move(t)) {}
  const TokenRef& token() const override { return t_.token; }

  Result<std::vector<KeyEntry>> list(const KeySelector& sel) override {
    FH_ASSIGN_OR_RETURN(AttrMap tmpl, selection(sel));
    FH_ASSIGN_OR_RETURN(std::vector<ObjectPtr> objs, find_objects(hsm_, t_.handle(), tmpl));
    std::vector<KeyEntry> out;
    for (const ObjectPtr& obj : objs) {
      const AttrMap& a = obj->attrs();
      KeyEntry e;
      e.cls = obj->cls();
      e.label = std::string(as_chars(a.view(CKA_LABEL)));
      e.id = to_hex(a.view(CKA_ID));
      if (auto kt = a.get_ulong(CKA_KEY_TYPE); kt && e.cls != CKO_CERTIFICATE && e.cls != CKO_DATA) e.key_type = *kt;
      e.bits = key_bits(a);
      e.uri = format_object_uri(t_.token.label, e.label, a.view(CKA_ID), e.cls);
      e.handle = obj->handle();
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::vector<KeyEntry>> generate(const KeySpec& spec, const std::string& label,
                                         const std::string& id_hex) override {
    FH_ASSIGN_OR_RETURN(Bytes id, parse_id(id_hex));
    if (id.empty()) {
      id.resize(kDefaultIdBytes);
      if (Status s = hsm_.generate_random(t_.handle(), id); !s) return context("random id", s.error());
    }
    CK_MECHANISM m{spec.mechanism, nullptr, 0};
    const std::string type(spec.name);
    if (spec.key_type == CKK_AES || spec.key_type == CKK_GENERIC_SECRET) {
      AttrMap tmpl;
      set_storage(tmpl, label, id);
      tmpl.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
      tmpl.set_ulong(CKA_KEY_TYPE, spec.key_type);
      tmpl.set_ulong(CKA_VALUE_LEN, spec.size);
      tmpl.set_bool(CKA_PRIVATE, true);
      tmpl.set_bool(CKA_SENSITIVE, true);
      tmpl.set_bool(CKA_EXTRACTABLE, false);
      bool aes = spec.key_type == CKK_AES;
      tmpl.set_bool(CKA_ENCRYPT, aes);
      tmpl.set_bool(CKA_DECRYPT, aes);
      tmpl.set_bool(CKA_SIGN, !aes);
      tmpl.set_bool(CKA_VERIFY, !aes);
      auto h = hsm_.generate_key(t_.handle(), m, tmpl);
      if (!h) return context(type + " (C_GenerateKey)", h.error());
    } else {
      AttrMap pub, priv;
      set_storage(pub, label, id);
      set_storage(priv, label, id);
      FH_TRY(pair_templates(spec, pub, priv));
      auto h = hsm_.generate_key_pair(t_.handle(), m, pub, priv);
      if (!h) return context(type + " (C_GenerateKeyPair)", h.error());
    }
    std::vector<KeyEntry> made;
    const bool secret = spec.key_type == CKK_AES || spec.key_type == CKK_GENERIC_SECRET;
    for (CK_OBJECT_CLASS cls : secret ? std::vector<CK_OBJECT_CLASS>{CKO_SECRET_KEY}
                                      : std::vector<CK_OBJECT_CLASS>{CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
      KeyEntry e;
      e.cls = cls;
      e.label = label;
      e.id = to_hex(id);
      e.key_type = spec.key_type;
      e.uri = format_object_uri(t_.token.label, label, id, cls);
      made.push_back(std::move(e));
    }
    return made;
  }

  Status remove(const KeyEntry& e) override { return hsm_.destroy_object(t_.handle(), e.handle); }

  Result<Bytes> public_key(const KeySelector& sel) override {
    FH_ASSIGN_OR_RETURN(KeyEntry k, one_key(sel, {CKO_PUBLIC_KEY, CKO_PRIVATE_KEY}));
    CK_ATTRIBUTE a{CKA_PUBLIC_KEY_INFO, nullptr, 0};
    FH_TRY(hsm_.get_attributes(t_.handle(), k.handle, std::span<CK_ATTRIBUTE>(&a, 1)));
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0)
      return make_error(CKR_KEY_TYPE_INCONSISTENT, "key '" + k.label + "' has no public key");
    Bytes spki(a.ulValueLen);
    a.pValue = spki.data();
    FH_TRY(hsm_.get_attributes(t_.handle(), k.handle, std::span<CK_ATTRIBUTE>(&a, 1)));
    spki.resize(a.ulValueLen);
    return spki;
  }

  Result<Bytes> sign(const KeySelector& sel, const CryptoMech& m, ByteView data) override {
    FH_ASSIGN_OR_RETURN(KeyEntry k, one_key(sel, {CKO_PRIVATE_KEY, CKO_SECRET_KEY}));
    Params p(m);
    FH_TRY(hsm_.sign_init(t_.handle(), p.mech, k.handle));
    CK_ULONG len = 0;
    FH_TRY(hsm_.sign(t_.handle(), data, OutBuf{nullptr, &len}));
    Bytes sig(len);
    FH_TRY(hsm_.sign(t_.handle(), data, OutBuf{sig.data(), &len}));
    sig.resize(len);
    return sig;
  }

  Result<bool> verify(const KeySelector& sel, const CryptoMech& m, ByteView data, ByteView sig) override {
    FH_ASSIGN_OR_RETURN(KeyEntry k, one_key(sel, {CKO_PUBLIC_KEY, CKO_SECRET_KEY}));
    Params p(m);
    FH_TRY(hsm_.verify_init(t_.handle(), p.mech, k.handle));
    Status st = hsm_.verify(t_.handle(), data, sig);
    if (!st && st.error().rv != CKR_SIGNATURE_INVALID && st.error().rv != CKR_SIGNATURE_LEN_RANGE) return st.error();
    return st.ok();
  }

  Result<Bytes> encrypt(const KeySelector& sel, CryptoMech& m, ByteView plaintext) override {
    FH_ASSIGN_OR_RETURN(KeyEntry k, one_key(sel, {CKO_PUBLIC_KEY, CKO_SECRET_KEY}));
    if (m.iv.empty() && iv_length(m.type) != 0) {
      m.iv.resize(iv_length(m.type));
      if (Status s = hsm_.generate_random(t_.handle(), m.iv); !s) return context("random IV", s.error());
    }
    return crypt(CipherDir::Encrypt, k, m, plaintext);
  }

  Result<Bytes> decrypt(const KeySelector& sel, const CryptoMech& m, ByteView ciphertext) override {
    FH_ASSIGN_OR_RETURN(KeyEntry k, one_key(sel, {CKO_PRIVATE_KEY, CKO_SECRET_KEY}));
    return crypt(CipherDir::Decrypt, k, m, ciphertext);
  }

 private:
  // CK_MECHANISM with the parameters crypto_mech.h describes.
  struct Params {
    explicit Params(const CryptoMech& m) {
      mech.mechanism = m.type;
      if (auto pss = pss_params(m.type)) {
        this->pss = {pss->hash, pss->mgf, pss->salt};
        mech.pParameter = &this->pss;
        mech.ulParameterLen = sizeof this->pss;
      } else if (m.type == CKM_RSA_PKCS_OAEP) {
        oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
        mech.pParameter = &oaep;
        mech.ulParameterLen = sizeof oaep;
      } else if (m.type == CKM_AES_GCM) {
        iv = m.iv;
        aad = m.aad;
        gcm.pIv = iv.data();
        gcm.ulIvLen = iv.size();
        gcm.ulIvBits = iv.size() * 8;
        gcm.pAAD = aad.empty() ? nullptr : aad.data();
        gcm.ulAADLen = aad.size();
        gcm.ulTagBits = 128;
        mech.pParameter = &gcm;
        mech.ulParameterLen = sizeof gcm;
      } else if (iv_length(m.type) != 0) {
        iv = m.iv;
        mech.pParameter = iv.data();
        mech.ulParameterLen = iv.size();
      }
    }
    CK_MECHANISM mech{};
    CK_RSA_PKCS_PSS_PARAMS pss{};
    CK_RSA_PKCS_OAEP_PARAMS oaep{};
    CK_GCM_PARAMS gcm{};
    Bytes iv, aad;
  };

  Result<Bytes> crypt(CipherDir dir, const KeyEntry& k, const CryptoMech& m, ByteView in) {
    Params p(m);
    FH_TRY(hsm_.cipher_init(dir, t_.handle(), p.mech, k.handle));
    CK_ULONG len = 0;
    FH_TRY(hsm_.cipher(dir, t_.handle(), in, OutBuf{nullptr, &len}));
    Bytes out(len);
    FH_TRY(hsm_.cipher(dir, t_.handle(), in, OutBuf{out.data(), &len}));
    out.resize(len);
    return out;
  }

  // The one key `sel` names, of the first class in `classes` that has a match (a pair's
  // label names both halves: signing means the private one, verifying the public one).
  Result<KeyEntry> one_key(const KeySelector& sel, std::initializer_list<CK_OBJECT_CLASS> classes) {
    if (sel.empty()) return make_error(CKR_ARGUMENTS_BAD, "name the key with --label or --id");
    FH_ASSIGN_OR_RETURN(std::vector<KeyEntry> all, list(sel));
    for (CK_OBJECT_CLASS cls : classes) {
      std::vector<KeyEntry> of;
      for (KeyEntry& e : all)
        if (e.cls == cls) of.push_back(e);
      if (of.size() == 1) return of.front();
      if (of.size() > 1)
        return make_error(CKR_ARGUMENTS_BAD, std::to_string(of.size()) + " keys of class " + class_name(cls) +
                                                 " match on token '" + t_.token.label + "': name one with --id");
    }
    return make_error(CKR_KEY_HANDLE_INVALID, "no key on token '" + t_.token.label + "' matches");
  }

  App& hsm_;
  KeyTarget t_;
};

Result<size_t> public_object_count(App& hsm, CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(SessionGuard s, open_session(hsm, slot, false));
  FH_TRY(hsm.find_init(s.handle(), AttrMap()));
  size_t n = 0;
  for (int round = 0; round < 1'000'000; ++round) {
    FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> batch, hsm.find_next(s.handle(), 256));
    if (batch.empty()) break;
    n += batch.size();
  }
  FH_TRY(hsm.find_final(s.handle()));
  return n;
}

class EmbeddedBackend final : public Backend {
 public:
  explicit EmbeddedBackend(Context& ctx) : Backend(false), ctx_(ctx) {}
  std::string config_source() const override { return ctx_.config().source; }
  std::string store() const override { return store_where(ctx_.config()); }
  Result<std::vector<TokenRef>> tokens() override { return list_slots(ctx_.hsm()); }

  Result<std::optional<ObjectCounts>> object_counts(const TokenRef& t) override {
    FH_ASSIGN_OR_RETURN(std::shared_ptr<Token> tok, ctx_.hsm().keystore().token(t.slot));
    auto total = ctx_.core().store().count_objects(tok->id());
    if (!total) return context("count the objects of token '" + t.label + "'", total.error());
    auto visible = public_object_count(ctx_.hsm(), t.slot);
    if (!visible) return context("count the public objects of token '" + t.label + "'", visible.error());
    return std::optional<ObjectCounts>(ObjectCounts{static_cast<size_t>(*total), *visible});
  }

  Result<std::unique_ptr<KeyService>> login(const TokenOptions& tok, const PinFiles& pins, bool rw,
                                            const std::string& what) override {
    FH_ASSIGN_OR_RETURN(KeyTarget t, user_session(ctx_, tok, pins, rw, what));
    return std::unique_ptr<KeyService>(std::make_unique<EmbeddedKeys>(ctx_.hsm(), std::move(t)));
  }

 private:
  Context& ctx_;
};

}  // namespace

std::unique_ptr<Backend> make_embedded_backend(Context& ctx) { return std::make_unique<EmbeddedBackend>(ctx); }

}  // namespace ferrohsm::cli
