// AES MACs as signatures: CKM_AES_CMAC (16-byte tag) and CKM_AES_CMAC_GENERAL
// (CK_MAC_GENERAL_PARAMS: 1..16 bytes) over EVP_MAC "CMAC"; CKM_AES_MAC (CBC-MAC,
// 8-byte tag — half the block, as PKCS#11 defines it) and CKM_AES_MAC_GENERAL
// (1..16 bytes): CBC with a zero IV over the data zero-padded to whole blocks (an
// empty message is one zero block); the tag is the start of the last block.
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/mac_ops.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kMacBlock = 16;

// A keyed CMAC context. (An unkeyed CMAC context cannot be duplicated, so each
// operation starts from the once-fetched EVP_MAC.)
Result<MacCtxPtr> cmac_ctx(const Key& key) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  static constexpr const char* kCiphers[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                          const_cast<char*>(kCiphers[(key.secret.size() - 16) / 8]), 0),
                         OSSL_PARAM_construct_end()};
  MacCtxPtr ctx(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
  if (!ctx || EVP_MAC_init(ctx.get(), key.secret.data(), key.secret.size(), params) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "CMAC init failed");
  return ctx;
}

class CbcMacEngine final : public MacEngine {
 public:
  explicit CbcMacEngine(CipherCtxPtr ctx) : ctx_(std::move(ctx)) {}
  ~CbcMacEngine() override { OPENSSL_cleanse(part_, sizeof part_); }
  size_t full_size() const override { return kMacBlock; }
  Status update(ByteView data) override {
    while (!data.empty()) {
      const size_t take = std::min(kMacBlock - used_, data.size());
      std::copy_n(data.begin(), take, part_ + used_);
      used_ += take;
      data = data.subspan(take);
      if (used_ == kMacBlock) FH_TRY(block());
    }
    return {};
  }
  Status final(uint8_t* out) override {
    if (used_ != 0 || !any_) {
      std::fill(part_ + used_, part_ + kMacBlock, 0);
      FH_TRY(block());
    }
    std::copy_n(last_, kMacBlock, out);
    return {};
  }

 private:
  Status block() {
    int len = 0;
    if (EVP_EncryptUpdate(ctx_.get(), last_, &len, part_, kMacBlock) != 1 || len != kMacBlock)
      return ossl_error(CKR_FUNCTION_FAILED, "CBC-MAC failed");
    used_ = 0;
    any_ = true;
    return {};
  }
  CipherCtxPtr ctx_;
  uint8_t part_[kMacBlock] = {};
  uint8_t last_[kMacBlock] = {};
  size_t used_ = 0;
  bool any_ = false;
};

struct AesMacSetup {
  std::unique_ptr<MacEngine> engine;
  size_t tag_len = 0;
};

Result<AesMacSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key) {
  FH_TRY(check_aes_key(key));
  const CK_MECHANISM_TYPE t = mech.mechanism;
  const bool general = t == CKM_AES_CMAC_GENERAL || t == CKM_AES_MAC_GENERAL;
  AesMacSetup s;
  if (t == CKM_AES_CMAC || t == CKM_AES_CMAC_GENERAL) {
    FH_ASSIGN_OR_RETURN(s.tag_len, mac_length(mech, general, kMacBlock));
    FH_ASSIGN_OR_RETURN(MacCtxPtr ctx, cmac_ctx(*key));
    s.engine = std::make_unique<EvpMacEngine>(std::move(ctx), kMacBlock);
    return s;
  }
  if (t == CKM_AES_MAC) {
    FH_TRY(no_mech_param(mech));
    s.tag_len = kMacBlock / 2;
  } else {
    FH_ASSIGN_OR_RETURN(s.tag_len, mac_length(mech, true, kMacBlock));
  }
  const uint8_t zero_iv[kMacBlock] = {};
  FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx,
                      init_cipher_ctx(aes_cipher(AesMode::kCbc, key->secret.size()), key->secret, zero_iv, true));
  s.engine = std::make_unique<CbcMacEngine>(std::move(ctx));
  return s;
}

Result<std::unique_ptr<SignOp>> make_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(AesMacSetup s, setup(mech, key));
  return make_mac_sign(std::move(s.engine), s.tag_len);
}

Result<std::unique_ptr<VerifyOp>> make_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(AesMacSetup s, setup(mech, key));
  return make_mac_verify(std::move(s.engine), s.tag_len);
}

}  // namespace

void register_aes_mac(Registry& r) {
  for (CK_MECHANISM_TYPE t : {CKM_AES_CMAC, CKM_AES_CMAC_GENERAL, CKM_AES_MAC, CKM_AES_MAC_GENERAL}) {
    Entry e;
    e.type = t;
    e.info = {16, 32, CKF_SIGN | CKF_VERIFY};
    e.key_types = {CKK_AES};
    e.sign = make_sign;
    e.verify = make_verify;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
