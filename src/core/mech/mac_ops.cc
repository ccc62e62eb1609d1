// mac_ops.h: truncating MAC sign / verify operations.
#include "core/mech/mac_ops.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace ferrohsm::mech {
namespace {

class MacSignOp final : public SignOp {
 public:
  MacSignOp(std::unique_ptr<MacEngine> e, size_t len, MacRearm rearm) : e_(std::move(e)), len_(len), rearm_(rearm) {}
  size_t signature_size() const override { return len_; }
  bool reusable() const override { return rearm_.reusable; }
  Status rearm(const CK_MECHANISM& mech) override {
    FH_ASSIGN_OR_RETURN(len_, mac_length(mech, rearm_.general, e_->full_size()));
    return e_->restart();
  }
  Status update(ByteView data) override { return e_->update(data); }
  Result<size_t> final(MutableByteView out) override {
    uint8_t tag[EVP_MAX_MD_SIZE];
    FH_TRY(e_->final(tag));
    std::copy_n(tag, len_, out.begin());
    OPENSSL_cleanse(tag, sizeof tag);
    return len_;
  }
  Result<size_t> sign(ByteView data, MutableByteView out) override {
    FH_TRY(e_->update(data));
    return final(out);
  }

 private:
  std::unique_ptr<MacEngine> e_;
  size_t len_;
  MacRearm rearm_;
};

class MacVerifyOp final : public VerifyOp {
 public:
  MacVerifyOp(std::unique_ptr<MacEngine> e, size_t len, MacRearm rearm) : e_(std::move(e)), len_(len), rearm_(rearm) {}
  size_t signature_size() const override { return len_; }
  bool reusable() const override { return rearm_.reusable; }
  Status rearm(const CK_MECHANISM& mech) override {
    FH_ASSIGN_OR_RETURN(len_, mac_length(mech, rearm_.general, e_->full_size()));
    return e_->restart();
  }
  Status update(ByteView data) override { return e_->update(data); }
  Status final(ByteView sig) override {
    if (sig.size() != len_) return make_error(CKR_SIGNATURE_LEN_RANGE, "MAC has the wrong length");
    uint8_t tag[EVP_MAX_MD_SIZE];
    FH_TRY(e_->final(tag));
    const bool ok = CRYPTO_memcmp(tag, sig.data(), len_) == 0;
    OPENSSL_cleanse(tag, sizeof tag);
    if (!ok) return make_error(CKR_SIGNATURE_INVALID, "MAC does not verify");
    return {};
  }
  Status verify(ByteView data, ByteView sig) override {
    if (sig.size() != len_) return make_error(CKR_SIGNATURE_LEN_RANGE, "MAC has the wrong length");
    FH_TRY(e_->update(data));
    return final(sig);
  }

 private:
  std::unique_ptr<MacEngine> e_;
  size_t len_;
  MacRearm rearm_;
};

}  // namespace

Status EvpMacEngine::update(ByteView data) {
  if (EVP_MAC_update(ctx_.get(), data.data(), data.size()) != 1) return ossl_error(CKR_FUNCTION_FAILED, "MAC failed");
  return {};
}

Status EvpMacEngine::final(uint8_t* out) {
  size_t len = 0;
  if (EVP_MAC_final(ctx_.get(), out, &len, EVP_MAX_MD_SIZE) != 1 || len != size_)
    return ossl_error(CKR_FUNCTION_FAILED, "MAC failed");
  return {};
}

Status EvpMacEngine::restart() {
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1) return ossl_error(CKR_FUNCTION_FAILED, "MAC init failed");
  return {};
}

std::unique_ptr<SignOp> make_mac_sign(std::unique_ptr<MacEngine> engine, size_t tag_len, MacRearm rearm) {
  return std::make_unique<MacSignOp>(std::move(engine), tag_len, rearm);
}

std::unique_ptr<VerifyOp> make_mac_verify(std::unique_ptr<MacEngine> engine, size_t tag_len, MacRearm rearm) {
  return std::make_unique<MacVerifyOp>(std::move(engine), tag_len, rearm);
}

Result<size_t> mac_length(const CK_MECHANISM& mech, bool general, size_t full) {
  if (!general) {
    FH_TRY(no_mech_param(mech));
    return full;
  }
  FH_ASSIGN_OR_RETURN(const CK_MAC_GENERAL_PARAMS* p, mech_param<CK_MAC_GENERAL_PARAMS>(mech));
  if (*p < 1 || *p > full) return make_error(CKR_MECHANISM_PARAM_INVALID, "MAC length out of range for the mechanism");
  return static_cast<size_t>(*p);
}

}  // namespace ferrohsm::mech
