// Secret key material (CKK_AES, CKK_GENERIC_SECRET, CKK_SHA*_HMAC, CKK_SHA3_*_HMAC,
// CKK_DES/DES2/DES3, CKK_CHACHA20, CKK_HKDF): import from CKA_VALUE, with the fixed
// lengths checked; CKM_AES_KEY_GEN and CKM_GENERIC_SECRET_KEY_GEN. Sizes count bytes.
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"

#include <openssl/rand.h>

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kMaxGenericSecret = 512;

bool aes_length(size_t n) { return n == 16 || n == 24 || n == 32; }

}  // namespace

size_t secret_key_fixed_length(CK_KEY_TYPE kt) {
  switch (kt) {
    case CKK_DES: return 8;
    case CKK_DES2: return 16;
    case CKK_DES3: return 24;
    case CKK_CHACHA20: return 32;
    default: return 0;
  }
}

Result<CK_ULONG> template_value_len(const AttrMap& tmpl) {
  if (!tmpl.has(CKA_VALUE_LEN)) return make_error(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required");
  std::optional<CK_ULONG> len = tmpl.get_ulong(CKA_VALUE_LEN);
  if (!len) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be a CK_ULONG");
  return *len;
}

Result<AttrMap> random_secret_key(CK_KEY_TYPE kt, CK_ULONG len) {
  SecureBytes value(len);
  if (RAND_priv_bytes(value.data(), static_cast<int>(value.size())) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "random generator failed");
  AttrMap out;
  out.set_ulong(CKA_KEY_TYPE, kt);
  out.set(CKA_VALUE, std::move(value));
  out.set_ulong(CKA_VALUE_LEN, len);
  return out;
}

Result<KeyPtr> secret_key_from_attributes(CK_KEY_TYPE kt, const AttrMap& attrs) {
  FH_ASSIGN_OR_RETURN(ByteView value, required_attr(attrs, CKA_VALUE, "CKA_VALUE"));
  if (kt == CKK_AES && !aes_length(value.size()))
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "an AES key must be 16, 24 or 32 bytes");
  if (size_t n = secret_key_fixed_length(kt); n != 0 && value.size() != n)
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE has the wrong length for the key type");
  if (attrs.has(CKA_VALUE_LEN) && attrs.get_ulong(CKA_VALUE_LEN) != CK_ULONG{value.size()})
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN does not match CKA_VALUE");
  auto key = std::make_shared<Key>();
  key->cls = CKO_SECRET_KEY;
  key->key_type = kt;
  key->secret = to_secure(value);
  key->bits = value.size();  // bytes for secret keys, as CK_MECHANISM_INFO counts them
  return KeyPtr(std::move(key));
}

Result<AttrMap> aes_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_TRY(no_mech_param(mech));
  FH_ASSIGN_OR_RETURN(CK_ULONG len, template_value_len(tmpl));
  if (!aes_length(len)) return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be 16, 24 or 32 for AES");
  return random_secret_key(CKK_AES, len);
}

Result<AttrMap> generic_secret_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_TRY(no_mech_param(mech));
  FH_ASSIGN_OR_RETURN(CK_ULONG len, template_value_len(tmpl));
  if (len < 1 || len > kMaxGenericSecret)
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be between 1 and 512 bytes");
  return random_secret_key(CKK_GENERIC_SECRET, len);
}

void register_generic_secret(Registry& r) {
  Entry e;
  e.type = CKM_GENERIC_SECRET_KEY_GEN;
  e.info = {1, kMaxGenericSecret, CKF_GENERATE};
  e.key_types = {CKK_GENERIC_SECRET};
  e.generate_key = generic_secret_generate_key;
  r.add(std::move(e));
}

}  // namespace ferrohsm::mech
