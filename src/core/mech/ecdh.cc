// Key agreement as C_DeriveKey entries: CKM_ECDH1_DERIVE and
// CKM_ECDH1_COFACTOR_DERIVE (CK_ECDH1_DERIVE_PARAMS) over CKK_EC keys (every curve
// of curves.h has cofactor 1, so both compute the same secret) and over
// CKK_EC_MONTGOMERY keys (X25519, X448). The peer's public value may come raw or
// DER-wrapped (OCTET STRING). KDFs: CKD_NULL (the secret itself, truncated to
// CKA_VALUE_LEN when given) and the ANSI X9.63 KDFs CKD_SHA*_KDF / CKD_SHA3_*_KDF
// (EVP_KDF "X963KDF"). Also CKM_EC_MONTGOMERY_KEY_PAIR_GEN's entry.
#include "core/mech/key_internal.h"
#include "core/mech/hash.h"
#include "core/mech/ossl.h"
#include "core/mech/prehash.h"
#include "core/mech/registry.h"

#include <openssl/kdf.h>

#include <array>

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kMinBits = 255;  // X25519
constexpr CK_ULONG kMaxBits = 521;  // P-521
constexpr CK_FLAGS kEcFlags = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS | CKF_EC_COMPRESS;
constexpr size_t kMaxKdfOutput = 1024;

struct KdfHash {
  CK_EC_KDF_TYPE kdf;
  CK_MECHANISM_TYPE hash;
};

constexpr std::array<KdfHash, 9> kKdfs = {{
    {CKD_SHA1_KDF, CKM_SHA_1},
    {CKD_SHA224_KDF, CKM_SHA224},
    {CKD_SHA256_KDF, CKM_SHA256},
    {CKD_SHA384_KDF, CKM_SHA384},
    {CKD_SHA512_KDF, CKM_SHA512},
    {CKD_SHA3_224_KDF, CKM_SHA3_224},
    {CKD_SHA3_256_KDF, CKM_SHA3_256},
    {CKD_SHA3_384_KDF, CKM_SHA3_384},
    {CKD_SHA3_512_KDF, CKM_SHA3_512},
}};

// The peer's public key on the base key's curve.
Result<PkeyPtr> peer_key(const Key& base, const Curve& c, ByteView public_data) {
  auto unwrapped = unwrap_ec_point(public_data, c);
  if (!unwrapped.ok()) return make_error(CKR_MECHANISM_PARAM_INVALID, "ECDH public data is not a point of the key's curve");
  ByteView raw = *unwrapped;
  if (base.key_type == CKK_EC_MONTGOMERY) {
    return raw_pkey(c.ossl_name, false, raw, CKR_MECHANISM_PARAM_INVALID, "ECDH public data is not a valid public key");
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(c.ossl_name), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(raw.data()), raw.size()),
      OSSL_PARAM_construct_end()};
  return pkey_from_params("EC", EVP_PKEY_PUBLIC_KEY, params, CKR_MECHANISM_PARAM_INVALID,
                          "ECDH public data is not a point of the key's curve");
}

Result<SecureBytes> shared_secret(const Key& base, const CK_ECDH1_DERIVE_PARAMS& p, bool cofactor) {
  const Curve* c = key_curve(base);
  if (c == nullptr) return make_error(CKR_KEY_TYPE_INCONSISTENT, "key of an unknown curve");
  if (p.pPublicData == nullptr || p.ulPublicDataLen == 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "ECDH needs the peer's public data");
  FH_ASSIGN_OR_RETURN(PkeyPtr peer, peer_key(base, *c, ByteView(p.pPublicData, p.ulPublicDataLen)));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, base.pkey, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return ossl_error(CKR_FUNCTION_FAILED, "ECDH init failed");
  if (cofactor && base.key_type == CKK_EC && EVP_PKEY_CTX_set_ecdh_cofactor_mode(ctx.get(), 1) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "ECDH cofactor mode failed");
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1)
    return ossl_error(CKR_MECHANISM_PARAM_INVALID, "ECDH public data is not a valid public key of the curve");
  size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return ossl_error(CKR_FUNCTION_FAILED, "ECDH failed");
  SecureBytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1)  // X25519/X448: refuses an all-zero (low-order) result
    return ossl_error(CKR_MECHANISM_PARAM_INVALID, "ECDH failed on the given public data");
  z.resize(len);
  return z;
}

Result<SecureBytes> x963(const Hash& h, ByteView z, ByteView shared_info, size_t out_len) {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "X963KDF", nullptr);
  std::unique_ptr<EVP_KDF_CTX, OsslDeleter<EVP_KDF_CTX_free>> ctx(kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(h.name), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(z.data()), z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(shared_info.data()), shared_info.size()),
      OSSL_PARAM_construct_end()};
  SecureBytes out(out_len);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "X9.63 KDF failed");
  return out;
}

Result<SecureBytes> derive(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len, const DeriveContext&) {
  if (!base || base->cls != CKO_PRIVATE_KEY || (base->key_type != CKK_EC && base->key_type != CKK_EC_MONTGOMERY))
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "ECDH needs an EC or Montgomery private key");
  FH_ASSIGN_OR_RETURN(const CK_ECDH1_DERIVE_PARAMS* p, mech_param<CK_ECDH1_DERIVE_PARAMS>(mech));
  if (p->ulSharedDataLen != 0 && p->pSharedData == nullptr)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "ECDH shared data pointer is NULL");
  const Hash* h = nullptr;
  if (p->kdf != CKD_NULL) {
    for (const KdfHash& k : kKdfs)
      if (k.kdf == p->kdf) h = hash_by_mech(k.hash);
    if (h == nullptr) return make_error(CKR_MECHANISM_PARAM_INVALID, "unsupported ECDH KDF");
  } else if (p->ulSharedDataLen != 0) {
    return make_error(CKR_MECHANISM_PARAM_INVALID, "CKD_NULL takes no shared data");
  }
  FH_ASSIGN_OR_RETURN(SecureBytes z, shared_secret(*base, *p, mech.mechanism == CKM_ECDH1_COFACTOR_DERIVE));
  if (h == nullptr) {
    if (value_len > z.size())
      return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN is longer than the ECDH shared secret");
    if (value_len != 0) z.resize(value_len);
    return z;
  }
  const size_t out_len = value_len != 0 ? value_len : h->size;
  if (out_len > kMaxKdfOutput) return make_error(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN too large for the KDF");
  return x963(*h, z, ByteView(p->pSharedData, p->ulSharedDataLen), out_len);
}

}  // namespace

void register_ecdh(Registry& r) {
  for (CK_MECHANISM_TYPE t : {CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE}) {
    Entry e;
    e.type = t;
    e.info = {kMinBits, kMaxBits, CKF_DERIVE | kEcFlags};
    e.key_types = {CKK_EC, CKK_EC_MONTGOMERY};
    e.derive = derive;
    r.add(std::move(e));
  }
  Entry gen;
  gen.type = CKM_EC_MONTGOMERY_KEY_PAIR_GEN;
  gen.info = {255, 448, CKF_GENERATE_KEY_PAIR | CKF_EC_NAMEDCURVE};
  gen.key_types = {CKK_EC_MONTGOMERY};
  gen.generate_key_pair = montgomery_generate_key_pair;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
