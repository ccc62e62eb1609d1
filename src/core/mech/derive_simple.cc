// Simple derivations as C_DeriveKey entries: CKM_CONCATENATE_BASE_AND_KEY (the
// parameter is a CK_OBJECT_HANDLE of a second secret key; value = base || other),
// CKM_AES_ECB_ENCRYPT_DATA (CK_KEY_DERIVATION_STRING_DATA) and
// CKM_AES_CBC_ENCRYPT_DATA (CK_AES_CBC_ENCRYPT_DATA_PARAMS): the base AES key
// encrypts the data (whole blocks, no padding) and the ciphertext is the value.
// CKA_VALUE_LEN, when given, truncates to the leading bytes.
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/kdf_internal.h"
#include "core/mech/registry.h"

#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kDeriveBlock = 16;

Result<SecureBytes> truncate(SecureBytes v, CK_ULONG value_len) {
  if (value_len > v.size()) return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN exceeds the derived length");
  if (value_len != 0) v.resize(value_len);
  return v;
}

Result<SecureBytes> concatenate(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len, const DeriveContext& ctx) {
  FH_ASSIGN_OR_RETURN(const CK_OBJECT_HANDLE* h, mech_param<CK_OBJECT_HANDLE>(mech));
  FH_ASSIGN_OR_RETURN(ByteView a, secret_of(base, "the base key"));
  if (!ctx.resolve_key) return make_error(CKR_MECHANISM_PARAM_INVALID, "no key resolver");
  FH_ASSIGN_OR_RETURN(KeyPtr other, ctx.resolve_key(*h));
  FH_ASSIGN_OR_RETURN(ByteView b, secret_of(other, "the key to concatenate"));
  SecureBytes v(a.begin(), a.end());
  v.insert(v.end(), b.begin(), b.end());
  return truncate(std::move(v), value_len);
}

Result<SecureBytes> encrypt_data(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len, const DeriveContext&) {
  FH_TRY(check_aes_key(base));
  const uint8_t* iv = nullptr;
  ByteView data;
  if (mech.mechanism == CKM_AES_CBC_ENCRYPT_DATA) {
    FH_ASSIGN_OR_RETURN(const CK_AES_CBC_ENCRYPT_DATA_PARAMS* p, mech_param<CK_AES_CBC_ENCRYPT_DATA_PARAMS>(mech));
    iv = p->iv;
    if (p->pData == nullptr && p->length != 0) return make_error(CKR_MECHANISM_PARAM_INVALID, "data pointer is NULL");
    data = ByteView(p->pData, p->length);
  } else {
    FH_ASSIGN_OR_RETURN(const CK_KEY_DERIVATION_STRING_DATA* p, mech_param<CK_KEY_DERIVATION_STRING_DATA>(mech));
    if (p->pData == nullptr && p->ulLen != 0) return make_error(CKR_MECHANISM_PARAM_INVALID, "data pointer is NULL");
    data = ByteView(p->pData, p->ulLen);
  }
  if (data.empty() || data.size() % kDeriveBlock != 0 || data.size() > INT_MAX - kDeriveBlock)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "the data must be a non-empty multiple of 16 bytes");
  const AesMode mode = iv != nullptr ? AesMode::kCbc : AesMode::kEcb;
  FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx, init_cipher_ctx(aes_cipher(mode, base->secret.size()), base->secret, iv, true));
  SecureBytes out(data.size() + kDeriveBlock);
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, data.data(), static_cast<int>(data.size())) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "AES encryption failed");
  out.resize(static_cast<size_t>(len));
  return truncate(std::move(out), value_len);
}

}  // namespace

void register_simple_derive(Registry& r) {
  Entry cat;
  cat.type = CKM_CONCATENATE_BASE_AND_KEY;
  cat.info = {1, 512, CKF_DERIVE};
  cat.key_types = {CKK_GENERIC_SECRET, CKK_AES, CKK_HKDF};
  cat.derive = concatenate;
  r.add(std::move(cat));
  for (CK_MECHANISM_TYPE t : {CKM_AES_ECB_ENCRYPT_DATA, CKM_AES_CBC_ENCRYPT_DATA}) {
    Entry e;
    e.type = t;
    e.info = {16, 32, CKF_DERIVE};
    e.key_types = {CKK_AES};
    e.derive = encrypt_data;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
