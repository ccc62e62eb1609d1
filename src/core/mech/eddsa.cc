// EdDSA signatures (CKM_EDDSA, single-part): pure Ed25519 and Ed448 (empty context).
// OpenSSL 3.0 offers neither the pre-hash variants (Ed25519ph / Ed448ph) nor context
// strings, so CK_EDDSA_PARAMS with phFlag set or a context is refused with
// CKR_MECHANISM_PARAM_INVALID. Also CKM_EC_EDWARDS_KEY_PAIR_GEN's entry.
#include "core/mech/key_internal.h"
#include "core/mech/prehash.h"
#include "core/mech/registry.h"

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kEdMinBits = 255;
constexpr CK_ULONG kEdMaxBits = 448;

Status check_params(const CK_MECHANISM& mech) {
  FH_ASSIGN_OR_RETURN(const CK_EDDSA_PARAMS* p, mech_param<CK_EDDSA_PARAMS>(mech, /*optional=*/true));
  if (p == nullptr) return {};
  if (p->phFlag != CK_FALSE)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "pre-hash EdDSA (Ed25519ph / Ed448ph) is not supported");
  if (p->ulContextDataLen != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "EdDSA context strings are not supported");
  return {};
}

Result<MdCtxPtr> make_ed_ctx(const Key& key, bool sign) {
  MdCtxPtr md(EVP_MD_CTX_new());
  int rc = 0;
  if (md) {
    rc = sign ? EVP_DigestSignInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, key.pkey, nullptr)
              : EVP_DigestVerifyInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, key.pkey, nullptr);
  }
  if (rc != 1) return ossl_error(CKR_FUNCTION_FAILED, "EdDSA init failed");
  return md;
}

class EddsaSignOp final : public SignOp {
 public:
  EddsaSignOp(KeyPtr key, size_t sig_size, MdCtxPtr md) : key_(std::move(key)), size_(sig_size), md_(std::move(md)) {}
  size_t signature_size() const override { return size_; }
  bool multipart() const override { return false; }
  Status update(ByteView) override { return single_part_error(); }
  Result<size_t> final(MutableByteView) override { return single_part_error(); }
  Result<size_t> sign(ByteView data, MutableByteView out) override {
    size_t len = out.size();
    if (EVP_DigestSign(md_.get(), out.data(), &len, data.data(), data.size()) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "EdDSA signing failed");
    return len;
  }

 private:
  KeyPtr key_;
  size_t size_;
  MdCtxPtr md_;
};

class EddsaVerifyOp final : public VerifyOp {
 public:
  EddsaVerifyOp(KeyPtr key, size_t sig_size, MdCtxPtr md) : key_(std::move(key)), size_(sig_size), md_(std::move(md)) {}
  size_t signature_size() const override { return size_; }
  bool multipart() const override { return false; }
  Status update(ByteView) override { return single_part_error(); }
  Status final(ByteView) override { return single_part_error(); }
  Status verify(ByteView data, ByteView sig) override {
    if (sig.size() != size_) return make_error(CKR_SIGNATURE_LEN_RANGE, "EdDSA signature has the wrong length");
    if (EVP_DigestVerify(md_.get(), sig.data(), sig.size(), data.data(), data.size()) != 1) {
      ossl_clear_errors();
      return make_error(CKR_SIGNATURE_INVALID, "EdDSA signature does not verify");
    }
    return {};
  }

 private:
  KeyPtr key_;
  size_t size_;
  MdCtxPtr md_;
};

Result<size_t> signature_size(const Key& key) {
  const Curve* c = key_curve(key);
  if (c == nullptr) return make_error(CKR_KEY_TYPE_INCONSISTENT, "key of an unknown curve");
  return c->signature_bytes;
}

Result<std::unique_ptr<SignOp>> make_ed_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_TRY(check_asym_key(key, CKK_EC_EDWARDS, true));
  FH_TRY(check_params(mech));
  FH_ASSIGN_OR_RETURN(size_t size, signature_size(*key));
  FH_ASSIGN_OR_RETURN(MdCtxPtr md, make_ed_ctx(*key, true));
  return std::unique_ptr<SignOp>(std::make_unique<EddsaSignOp>(std::move(key), size, std::move(md)));
}

Result<std::unique_ptr<VerifyOp>> make_ed_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_TRY(check_asym_key(key, CKK_EC_EDWARDS, false));
  FH_TRY(check_params(mech));
  FH_ASSIGN_OR_RETURN(size_t size, signature_size(*key));
  FH_ASSIGN_OR_RETURN(MdCtxPtr md, make_ed_ctx(*key, false));
  return std::unique_ptr<VerifyOp>(std::make_unique<EddsaVerifyOp>(std::move(key), size, std::move(md)));
}

}  // namespace

void register_eddsa(Registry& r) {
  Entry e;
  e.type = CKM_EDDSA;
  e.info = {kEdMinBits, kEdMaxBits, CKF_SIGN | CKF_VERIFY | CKF_EC_NAMEDCURVE};
  e.key_types = {CKK_EC_EDWARDS};
  e.sign = make_ed_sign;
  e.verify = make_ed_verify;
  r.add(std::move(e));

  Entry gen;
  gen.type = CKM_EC_EDWARDS_KEY_PAIR_GEN;
  gen.info = {kEdMinBits, kEdMaxBits, CKF_GENERATE_KEY_PAIR | CKF_EC_NAMEDCURVE};
  gen.key_types = {CKK_EC_EDWARDS};
  gen.generate_key_pair = edwards_generate_key_pair;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
