// HMAC signatures with SHA-1, SHA-2 and SHA-3 (CKM_SHA256_HMAC …, full-length tags)
// and their _GENERAL forms (CK_MAC_GENERAL_PARAMS: a tag truncated to 1..hash
// bytes), with CKK_GENERIC_SECRET keys or the matching CKK_SHAx_HMAC type; and the
// legacy CKM_MD5_HMAC(_GENERAL), with generic secrets (there is no MD5 key type). One
// EVP_MAC context per hash, with its digest set, is prepared once; each operation
// duplicates it and keys the copy, so no algorithm is fetched per operation. A
// finished operation is re-armed by the session for the next message on the same key
// (EVP_MAC_init without a key: the padded key stays), so most messages duplicate
// nothing.
#include "core/mech/hash.h"
#include "core/mech/mac_ops.h"
#include "core/mech/registry.h"

#include <array>

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kHmacMinBytes = 1;
constexpr CK_ULONG kHmacMaxBytes = 512;

struct HmacMech {
  CK_MECHANISM_TYPE type;
  CK_MECHANISM_TYPE general;
  CK_MECHANISM_TYPE hash;
  CK_KEY_TYPE key_type;  // the dedicated key type, besides CKK_GENERIC_SECRET
  bool legacy = false;
};

constexpr std::array<HmacMech, 10> kHmacMechs = {{
    {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKM_SHA_1, CKK_SHA_1_HMAC},
    {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, CKM_SHA224, CKK_SHA224_HMAC},
    {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKM_SHA256, CKK_SHA256_HMAC},
    {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, CKM_SHA384, CKK_SHA384_HMAC},
    {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, CKM_SHA512, CKK_SHA512_HMAC},
    {CKM_SHA3_224_HMAC, CKM_SHA3_224_HMAC_GENERAL, CKM_SHA3_224, CKK_SHA3_224_HMAC},
    {CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, CKM_SHA3_256, CKK_SHA3_256_HMAC},
    {CKM_SHA3_384_HMAC, CKM_SHA3_384_HMAC_GENERAL, CKM_SHA3_384, CKK_SHA3_384_HMAC},
    {CKM_SHA3_512_HMAC, CKM_SHA3_512_HMAC_GENERAL, CKM_SHA3_512, CKK_SHA3_512_HMAC},
    {CKM_MD5_HMAC, CKM_MD5_HMAC_GENERAL, CKM_MD5, CKK_GENERIC_SECRET, /*legacy=*/true},
}};

// The unkeyed template context of each entry of kHmacMechs (read-only once built).
struct Templates {
  std::array<EVP_MAC_CTX*, kHmacMechs.size()> ctx{};
  Templates() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    for (size_t i = 0; mac != nullptr && i < kHmacMechs.size(); ++i) {
      ctx[i] = EVP_MAC_CTX_new(mac);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(hash_by_mech(kHmacMechs[i].hash)->name), 0),
          OSSL_PARAM_construct_end()};
      if (ctx[i] != nullptr && EVP_MAC_CTX_set_params(ctx[i], params) != 1) {
        EVP_MAC_CTX_free(ctx[i]);
        ctx[i] = nullptr;
      }
    }
    EVP_MAC_free(mac);
  }
  ~Templates() {
    for (EVP_MAC_CTX* c : ctx) EVP_MAC_CTX_free(c);
  }
};

struct HmacSetup {
  size_t index = 0;
  size_t full = 0;
  size_t tag_len = 0;
  bool general = false;
};

Result<HmacSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key) {
  HmacSetup s;
  for (; s.index < kHmacMechs.size(); ++s.index) {
    if (kHmacMechs[s.index].type == mech.mechanism) break;
    if (kHmacMechs[s.index].general == mech.mechanism) {
      s.general = true;
      break;
    }
  }
  if (s.index == kHmacMechs.size()) return make_error(CKR_MECHANISM_INVALID, "not an HMAC mechanism");
  s.full = hash_by_mech(kHmacMechs[s.index].hash)->size;
  FH_ASSIGN_OR_RETURN(s.tag_len, mac_length(mech, s.general, s.full));
  if (!key || key->cls != CKO_SECRET_KEY ||
      (key->key_type != CKK_GENERIC_SECRET && key->key_type != kHmacMechs[s.index].key_type))
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "HMAC needs a generic secret (or matching HMAC) key");
  if (key->secret.empty()) return make_error(CKR_KEY_SIZE_RANGE, "HMAC key is empty");
  return s;
}

Result<std::unique_ptr<MacEngine>> engine(const HmacSetup& s, const Key& key) {
  static const Templates templates;
  const EVP_MAC_CTX* tmpl = templates.ctx[s.index];
  MacCtxPtr ctx(tmpl != nullptr ? EVP_MAC_CTX_dup(tmpl) : nullptr);
  if (!ctx || EVP_MAC_init(ctx.get(), key.secret.data(), key.secret.size(), nullptr) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "HMAC init failed");
  return std::unique_ptr<MacEngine>(std::make_unique<EvpMacEngine>(std::move(ctx), s.full));
}

Result<std::unique_ptr<SignOp>> make_hmac_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(HmacSetup s, setup(mech, key));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<MacEngine> e, engine(s, *key));
  return make_mac_sign(std::move(e), s.tag_len, MacRearm{true, s.general});
}

Result<std::unique_ptr<VerifyOp>> make_hmac_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(HmacSetup s, setup(mech, key));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<MacEngine> e, engine(s, *key));
  return make_mac_verify(std::move(e), s.tag_len, MacRearm{true, s.general});
}

}  // namespace

void register_hmac(Registry& r) {
  for (const HmacMech& m : kHmacMechs) {
    for (CK_MECHANISM_TYPE t : {m.type, m.general}) {
      Entry e;
      e.type = t;
      e.info = {kHmacMinBytes, kHmacMaxBytes, CKF_SIGN | CKF_VERIFY};
      e.key_types = {CKK_GENERIC_SECRET, m.key_type};
      e.sign = make_hmac_sign;
      e.verify = make_hmac_verify;
      e.legacy = m.legacy;
      r.add(std::move(e));
    }
  }
}

}  // namespace ferrohsm::mech
