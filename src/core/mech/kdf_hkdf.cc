// HKDF (RFC 5869) as C_DeriveKey entries: CKM_HKDF_DERIVE (a secret key) and
// CKM_HKDF_DATA (the same computation, for a data object), CK_HKDF_PARAMS:
// bExtract / bExpand (either or both), prfHashMechanism (SHA-1/SHA-2/SHA-3), salt
// CKF_HKDF_SALT_NULL / _DATA / _KEY (a secret key named by handle), info. Extract
// alone yields the PRK (hash length); expand needs CKA_VALUE_LEN (≤ 255 × hash).
// Also CKM_HKDF_KEY_GEN (a random CKK_HKDF key of CKA_VALUE_LEN bytes), and the
// helpers of kdf_internal.h.
#include "core/mech/hash.h"
#include "core/mech/kdf_internal.h"
#include "core/mech/key_internal.h"
#include "core/mech/registry.h"

#include <cstring>
#include <string>

namespace ferrohsm::mech {

Result<KdfCtxPtr> new_kdf_ctx(const char* name) {
  // Fetched once, held for the life of the process (plain pointers: never released,
  // so that no exit-time destructor drops them while OpenSSL still counts them).
  static EVP_KDF* const hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  static EVP_KDF* const pbkdf2 = EVP_KDF_fetch(nullptr, "PBKDF2", nullptr);
  EVP_KDF* kdf = std::strcmp(name, "HKDF") == 0 ? hkdf : std::strcmp(name, "PBKDF2") == 0 ? pbkdf2 : nullptr;
  KdfCtxPtr ctx(kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr);
  if (!ctx) return ossl_error(CKR_GENERAL_ERROR, std::string("KDF unavailable: ") + name);
  return ctx;
}

Result<size_t> required_length(CK_ULONG value_len, size_t max) {
  if (value_len == 0) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required for this derivation");
  if (value_len > max) return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN is too large for this derivation");
  return static_cast<size_t>(value_len);
}

Result<ByteView> secret_of(const KeyPtr& key, const char* what) {
  if (!key || key->cls != CKO_SECRET_KEY || key->secret.empty())
    return make_error(CKR_KEY_TYPE_INCONSISTENT, std::string(what) + " must be a secret key");
  return ByteView(key->secret);
}

namespace {

constexpr CK_ULONG kMaxKeyGen = 512;

Result<SecureBytes> hkdf(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len, const DeriveContext& ctx) {
  FH_ASSIGN_OR_RETURN(const CK_HKDF_PARAMS* p, mech_param<CK_HKDF_PARAMS>(mech));
  FH_ASSIGN_OR_RETURN(ByteView ikm, secret_of(base, "the HKDF base key"));
  if (p->bExtract == CK_FALSE && p->bExpand == CK_FALSE)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "HKDF needs bExtract, bExpand or both");
  const Hash* h = strong_hash_by_mech(p->prfHashMechanism);
  if (h == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "HKDF prfHashMechanism is not a supported hash");
  if (p->pInfo == nullptr && p->ulInfoLen != 0) return make_error(CKR_MECHANISM_PARAM_INVALID, "HKDF info pointer is NULL");

  ByteView salt;
  KeyPtr salt_key;
  if (p->bExtract != CK_FALSE) {
    switch (p->ulSaltType) {
      case CKF_HKDF_SALT_NULL: break;
      case CKF_HKDF_SALT_DATA:
        if (p->pSalt == nullptr || p->ulSaltLen == 0)
          return make_error(CKR_MECHANISM_PARAM_INVALID, "CKF_HKDF_SALT_DATA needs salt bytes");
        salt = ByteView(p->pSalt, p->ulSaltLen);
        break;
      case CKF_HKDF_SALT_KEY: {
        if (!ctx.resolve_key) return make_error(CKR_MECHANISM_PARAM_INVALID, "no key resolver for the salt key");
        FH_ASSIGN_OR_RETURN(salt_key, ctx.resolve_key(p->hSaltKey));
        FH_ASSIGN_OR_RETURN(salt, secret_of(salt_key, "the HKDF salt key"));
        break;
      }
      default: return make_error(CKR_MECHANISM_PARAM_INVALID, "unknown HKDF ulSaltType");
    }
  }
  const bool expand = p->bExpand != CK_FALSE;
  size_t out_len = h->size;
  if (expand) {
    FH_ASSIGN_OR_RETURN(out_len, required_length(value_len, 255 * h->size));
  } else if (value_len != 0 && value_len != h->size) {
    return make_error(CKR_TEMPLATE_INCONSISTENT, "HKDF extract yields exactly the hash length");
  }
  int mode = p->bExtract == CK_FALSE ? EVP_KDF_HKDF_MODE_EXPAND_ONLY
             : expand               ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND
                                    : EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  OSSL_PARAM params[6];
  OSSL_PARAM* q = params;
  *q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(h->name), 0);
  *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size());
  if (!salt.empty()) *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  if (expand && p->ulInfoLen != 0) *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, p->pInfo, p->ulInfoLen);
  *q = OSSL_PARAM_construct_end();
  FH_ASSIGN_OR_RETURN(KdfCtxPtr kctx, new_kdf_ctx("HKDF"));
  SecureBytes out(out_len);
  if (EVP_KDF_derive(kctx.get(), out.data(), out.size(), params) != 1) return ossl_error(CKR_FUNCTION_FAILED, "HKDF failed");
  return out;
}

Result<AttrMap> hkdf_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_TRY(no_mech_param(mech));
  FH_ASSIGN_OR_RETURN(CK_ULONG len, template_value_len(tmpl));
  if (len < 1 || len > kMaxKeyGen) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be 1 to 512 bytes");
  return random_secret_key(CKK_HKDF, len);
}

}  // namespace

void register_hkdf(Registry& r) {
  for (CK_MECHANISM_TYPE t : {CKM_HKDF_DERIVE, CKM_HKDF_DATA}) {
    Entry e;
    e.type = t;
    e.info = {1, 512, CKF_DERIVE};
    e.key_types = {CKK_GENERIC_SECRET, CKK_HKDF};
    e.derive = hkdf;
    r.add(std::move(e));
  }
  Entry gen;
  gen.type = CKM_HKDF_KEY_GEN;
  gen.info = {1, kMaxKeyGen, CKF_GENERATE};
  gen.key_types = {CKK_HKDF};
  gen.generate_key = hkdf_generate_key;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
