// ECDSA signatures (CKM_ECDSA over a digest of any length, single-part;
// CKM_ECDSA_SHAx, multi-part) in the PKCS#11 format: r || s, each left-padded to the
// field size (OpenSSL's DER form is converted both ways). Also the EC family's
// registry entries, CKM_EC_KEY_PAIR_GEN included.
#include "core/mech/key_internal.h"
#include "core/mech/prehash.h"
#include "core/mech/registry.h"

#include <openssl/ec.h>

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kEcMinBits = 256;
constexpr CK_ULONG kEcMaxBits = 521;
constexpr CK_FLAGS kEcdsaFlags = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
constexpr size_t kMaxDer = 160;  // DER ECDSA-Sig-Value of P-521 is at most 139 bytes

struct EcdsaMech {
  CK_MECHANISM_TYPE type;
  CK_MECHANISM_TYPE prehash;  // 0: CKM_ECDSA, over the caller's digest
};

constexpr EcdsaMech kEcdsaMechs[] = {
    {CKM_ECDSA, 0},
    {CKM_ECDSA_SHA1, CKM_SHA_1},
    {CKM_ECDSA_SHA224, CKM_SHA224},
    {CKM_ECDSA_SHA256, CKM_SHA256},
    {CKM_ECDSA_SHA384, CKM_SHA384},
    {CKM_ECDSA_SHA512, CKM_SHA512},
    {CKM_ECDSA_SHA3_224, CKM_SHA3_224},
    {CKM_ECDSA_SHA3_256, CKM_SHA3_256},
    {CKM_ECDSA_SHA3_384, CKM_SHA3_384},
    {CKM_ECDSA_SHA3_512, CKM_SHA3_512},
};

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OsslDeleter<ECDSA_SIG_free>>;

struct EcdsaSetup {
  const Hash* prehash = nullptr;
  size_t field_bytes = 0;
};

Result<EcdsaSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key, bool sign) {
  FH_TRY(check_asym_key(key, CKK_EC, sign));
  FH_TRY(no_mech_param(mech));
  const Curve* c = key_curve(*key);
  if (c == nullptr) return make_error(CKR_KEY_TYPE_INCONSISTENT, "key of an unknown curve");
  EcdsaSetup s;
  s.field_bytes = c->field_bytes;
  for (const EcdsaMech& m : kEcdsaMechs)
    if (m.type == mech.mechanism) s.prehash = hash_by_mech(m.prehash);
  return s;
}

Result<PkeyCtxPtr> make_ctx(const Key& key, bool sign) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey, nullptr));
  if (!ctx || (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "ECDSA init failed");
  return ctx;
}

class EcdsaSignOp final : public PrehashSignOp {
 public:
  EcdsaSignOp(KeyPtr key, EcdsaSetup s) : key_(std::move(key)), s_(s) {}
  Status start() {
    FH_TRY(init_prehash(s_.prehash));
    FH_ASSIGN_OR_RETURN(ctx_, make_ctx(*key_, true));
    return {};
  }
  size_t signature_size() const override { return 2 * s_.field_bytes; }

 private:
  Result<size_t> sign_tbs(ByteView tbs, MutableByteView out) override {
    uint8_t der[kMaxDer];
    size_t der_len = sizeof der;
    if (EVP_PKEY_sign(ctx_.get(), der, &der_len, tbs.data(), tbs.size()) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "ECDSA signing failed");
    const unsigned char* p = der;
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
    if (!sig) return ossl_error(CKR_FUNCTION_FAILED, "cannot decode the ECDSA signature");
    const int n = static_cast<int>(s_.field_bytes);
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), n) != n ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + n, n) != n)
      return ossl_error(CKR_FUNCTION_FAILED, "cannot encode the ECDSA signature");
    return 2 * s_.field_bytes;
  }

  KeyPtr key_;
  EcdsaSetup s_;
  PkeyCtxPtr ctx_;
};

class EcdsaVerifyOp final : public PrehashVerifyOp {
 public:
  EcdsaVerifyOp(KeyPtr key, EcdsaSetup s) : key_(std::move(key)), s_(s) {}
  Status start() {
    FH_TRY(init_prehash(s_.prehash));
    FH_ASSIGN_OR_RETURN(ctx_, make_ctx(*key_, false));
    return {};
  }
  size_t signature_size() const override { return 2 * s_.field_bytes; }

 private:
  Status verify_tbs(ByteView tbs, ByteView sig) override {
    const size_t n = s_.field_bytes;
    if (sig.size() != 2 * n) return make_error(CKR_SIGNATURE_LEN_RANGE, "ECDSA signature must be 2 × field size");
    EcdsaSigPtr es(ECDSA_SIG_new());
    BnPtr r = bn_from_bytes(sig.first(n)), s = bn_from_bytes(sig.subspan(n));
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r.get(), s.get()) != 1)
      return ossl_error(CKR_HOST_MEMORY, "ECDSA_SIG allocation failed");
    r.release();  // owned by es now
    s.release();
    uint8_t der[kMaxDer];
    unsigned char* p = der;
    int der_len = i2d_ECDSA_SIG(es.get(), nullptr);
    if (der_len <= 0 || static_cast<size_t>(der_len) > sizeof der || i2d_ECDSA_SIG(es.get(), &p) != der_len)
      return ossl_error(CKR_FUNCTION_FAILED, "cannot encode the ECDSA signature");
    if (EVP_PKEY_verify(ctx_.get(), der, static_cast<size_t>(der_len), tbs.data(), tbs.size()) != 1) {
      ossl_clear_errors();
      return make_error(CKR_SIGNATURE_INVALID, "ECDSA signature does not verify");
    }
    return {};
  }

  KeyPtr key_;
  EcdsaSetup s_;
  PkeyCtxPtr ctx_;
};

Result<std::unique_ptr<SignOp>> make_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(EcdsaSetup s, setup(mech, key, true));
  auto op = std::make_unique<EcdsaSignOp>(std::move(key), s);
  FH_TRY(op->start());
  return std::unique_ptr<SignOp>(std::move(op));
}

Result<std::unique_ptr<VerifyOp>> make_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(EcdsaSetup s, setup(mech, key, false));
  auto op = std::make_unique<EcdsaVerifyOp>(std::move(key), s);
  FH_TRY(op->start());
  return std::unique_ptr<VerifyOp>(std::move(op));
}

}  // namespace

void register_ecdsa(Registry& r) {
  for (const EcdsaMech& m : kEcdsaMechs) {
    Entry e;
    e.type = m.type;
    e.info = {kEcMinBits, kEcMaxBits, CKF_SIGN | CKF_VERIFY | kEcdsaFlags};
    e.key_types = {CKK_EC};
    e.sign = make_sign;
    e.verify = make_verify;
    r.add(std::move(e));
  }
  Entry gen;
  gen.type = CKM_EC_KEY_PAIR_GEN;
  gen.info = {kEcMinBits, kEcMaxBits, CKF_GENERATE_KEY_PAIR | kEcdsaFlags};
  gen.key_types = {CKK_EC};
  gen.generate_key_pair = ec_generate_key_pair;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
