// CKM_PKCS5_PBKD2 as a key generation (C_GenerateKey) with CK_PKCS5_PBKD2_PARAMS2:
// salt source CKZ_SALT_SPECIFIED, PRF HMAC-SHA-1 / SHA-224 / SHA-256 / SHA-384 /
// SHA-512 / SHA-512/224 / SHA-512/256, ulPasswordLen a value. The pre-3.0
// CK_PKCS5_PBKD2_PARAMS has the same size but a pointer where PARAMS2 has the
// password length, so the two cannot be told apart safely: only PARAMS2 is taken.
// The key type comes from the template (CKA_KEY_TYPE, default CKK_GENERIC_SECRET),
// the length from CKA_VALUE_LEN (or the type's fixed length).
#include "core/mech/hash.h"
#include "core/mech/kdf_internal.h"
#include "core/mech/key_internal.h"
#include "core/mech/registry.h"

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kMaxIterations = 10'000'000;
constexpr CK_ULONG kMaxLen = 512;

struct Prf {
  CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE prf;
  CK_MECHANISM_TYPE hash;
};

constexpr Prf kPrfs[] = {
    {CKP_PKCS5_PBKD2_HMAC_SHA1, CKM_SHA_1},           {CKP_PKCS5_PBKD2_HMAC_SHA224, CKM_SHA224},
    {CKP_PKCS5_PBKD2_HMAC_SHA256, CKM_SHA256},        {CKP_PKCS5_PBKD2_HMAC_SHA384, CKM_SHA384},
    {CKP_PKCS5_PBKD2_HMAC_SHA512, CKM_SHA512},        {CKP_PKCS5_PBKD2_HMAC_SHA512_224, CKM_SHA512_224},
    {CKP_PKCS5_PBKD2_HMAC_SHA512_256, CKM_SHA512_256},
};

Result<size_t> output_length(CK_KEY_TYPE kt, const AttrMap& tmpl) {
  size_t fixed = kt == CKK_DES3 ? 24 : kt == CKK_DES2 ? 16 : kt == CKK_CHACHA20 ? 32 : 0;
  if (!tmpl.has(CKA_VALUE_LEN)) {
    if (fixed != 0) return fixed;
    return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required");
  }
  std::optional<CK_ULONG> len = tmpl.get_ulong(CKA_VALUE_LEN);
  if (!len || *len < 1 || *len > kMaxLen) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN out of range");
  if ((fixed != 0 && *len != fixed) || (kt == CKK_AES && *len != 16 && *len != 24 && *len != 32))
    return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN does not fit the key type");
  return static_cast<size_t>(*len);
}

Result<AttrMap> pbkdf2(const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(const CK_PKCS5_PBKD2_PARAMS2* p, mech_param<CK_PKCS5_PBKD2_PARAMS2>(mech));
  if (p->saltSource != CKZ_SALT_SPECIFIED) return make_error(CKR_MECHANISM_PARAM_INVALID, "saltSource must be CKZ_SALT_SPECIFIED");
  if (p->pSaltSourceData == nullptr && p->ulSaltSourceDataLen != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "salt pointer is NULL");
  if (p->pPassword == nullptr && p->ulPasswordLen != 0) return make_error(CKR_MECHANISM_PARAM_INVALID, "password pointer is NULL");
  if (p->iterations < 1 || p->iterations > kMaxIterations)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "iterations must be 1 to 10,000,000");
  const Hash* h = nullptr;
  for (const Prf& f : kPrfs)
    if (f.prf == p->prf) h = hash_by_mech(f.hash);
  if (h == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "unsupported PBKDF2 PRF");
  if (p->pPrfData != nullptr || p->ulPrfDataLen != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "the HMAC PRFs take no pPrfData");
  const CK_KEY_TYPE kt = tmpl.get_ulong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
  FH_ASSIGN_OR_RETURN(size_t len, output_length(kt, tmpl));

  uint64_t iter = p->iterations;
  int no_check = 0;  // lengths and iteration counts are checked here, not by SP 800-132 minima
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, p->pPassword, p->ulPasswordLen),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, p->pSaltSourceData, p->ulSaltSourceDataLen),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(h->name), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_check),
      OSSL_PARAM_construct_end()};
  no_check = 1;
  FH_ASSIGN_OR_RETURN(KdfCtxPtr ctx, new_kdf_ctx("PBKDF2"));
  SecureBytes out(len);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return ossl_error(CKR_FUNCTION_FAILED, "PBKDF2 failed");
  AttrMap attrs;
  attrs.set_ulong(CKA_KEY_TYPE, kt);
  attrs.set(CKA_VALUE, std::move(out));
  attrs.set_ulong(CKA_VALUE_LEN, len);
  FH_TRY(key_from_attributes(CKO_SECRET_KEY, attrs));  // the key type must accept the bytes
  return attrs;
}

}  // namespace

void register_pbkdf2(Registry& r) {
  Entry e;
  e.type = CKM_PKCS5_PBKD2;
  e.info = {1, kMaxLen, CKF_GENERATE};
  e.key_types = {CKK_GENERIC_SECRET, CKK_AES, CKK_SHA256_HMAC};
  e.generate_key = pbkdf2;
  r.add(std::move(e));
}

}  // namespace ferrohsm::mech
