// AES stream-like modes: CKM_AES_CTR (CK_AES_CTR_PARAMS: a 16-byte counter block of
// which the low ulCounterBits bits count; an operation that would wrap that counter
// is refused with CKR_DATA_LEN_RANGE rather than silently carried into the nonce)
// and CKM_AES_CTS (CBC with ciphertext stealing, variant CS3 as in RFC 3962 /
// Kerberos: input of at least one block, output of the same length; the whole
// input is processed at final).
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/registry.h"

namespace ferrohsm::mech {
namespace {

constexpr size_t kAesBlock = 16;
__extension__ typedef unsigned __int128 u128;

class CtrOp final : public StreamCipherOp {
 public:
  CtrOp(KeyPtr key, CipherCtxPtr ctx, bool encrypt, u128 blocks_left, bool unlimited)
      : StreamCipherOp(std::move(key), std::move(ctx), encrypt), left_(blocks_left), unlimited_(unlimited) {}

 private:
  Status admit(size_t n) override {
    total_ += n;
    if (!unlimited_ && (u128{total_} + kAesBlock - 1) / kAesBlock > left_)
      return make_error(CKR_DATA_LEN_RANGE, "the data would wrap the CTR counter (ulCounterBits)");
    return {};
  }
  u128 left_;
  bool unlimited_;
  uint64_t total_ = 0;
};

Result<std::unique_ptr<CipherOp>> make_ctr(const CK_MECHANISM& mech, KeyPtr key, bool encrypt) {
  FH_TRY(check_aes_key(key));
  FH_ASSIGN_OR_RETURN(const CK_AES_CTR_PARAMS* p, mech_param<CK_AES_CTR_PARAMS>(mech));
  if (p->ulCounterBits < 1 || p->ulCounterBits > 128)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "ulCounterBits must be 1 to 128");
  u128 counter = 0;
  for (uint8_t b : p->cb) counter = counter << 8 | b;
  const bool unlimited = p->ulCounterBits == 128 && counter == 0;
  u128 left = 0;
  if (p->ulCounterBits == 128) {
    left = ~counter + 1;
  } else {
    const u128 mod = u128{1} << p->ulCounterBits;
    left = mod - (counter & (mod - 1));
  }
  FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx,
                      init_cipher_ctx(aes_cipher(AesMode::kCtr, key->secret.size()), key->secret, p->cb, encrypt));
  return std::unique_ptr<CipherOp>(std::make_unique<CtrOp>(std::move(key), std::move(ctx), encrypt, left, unlimited));
}

class CtsOp final : public BufferedCipherOp {
 public:
  CtsOp(KeyPtr key, Bytes iv, bool encrypt) : BufferedCipherOp(encrypt), key_(std::move(key)), iv_(std::move(iv)) {}
  size_t one_shot_size(size_t in_len) const override { return in_len; }
  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    if (in.size() < kAesBlock)
      return make_error(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "CTS needs at least 16 bytes");
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_CIPHER_PARAM_CTS_MODE, const_cast<char*>("CS3"), 0),
                           OSSL_PARAM_construct_end()};
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx || EVP_CipherInit_ex2(ctx.get(), aes_cipher(AesMode::kCts, key_->secret.size()), key_->secret.data(),
                                   iv_.data(), encrypt_ ? 1 : 0, params) != 1 ||
        in.size() > INT_MAX ||
        EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AES-CTS failed");
    return static_cast<size_t>(len);
  }

 private:
  KeyPtr key_;
  Bytes iv_;
};

Result<std::unique_ptr<CipherOp>> make_cts(const CK_MECHANISM& mech, KeyPtr key, bool encrypt) {
  FH_TRY(check_aes_key(key));
  if (mech.pParameter == nullptr || mech.ulParameterLen != kAesBlock)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "AES-CTS needs a 16-byte IV parameter");
  const auto* iv = static_cast<const uint8_t*>(mech.pParameter);
  return std::unique_ptr<CipherOp>(std::make_unique<CtsOp>(std::move(key), Bytes(iv, iv + kAesBlock), encrypt));
}

Result<std::unique_ptr<CipherOp>> ctr_encrypt(const CK_MECHANISM& m, KeyPtr k) { return make_ctr(m, std::move(k), true); }
Result<std::unique_ptr<CipherOp>> ctr_decrypt(const CK_MECHANISM& m, KeyPtr k) { return make_ctr(m, std::move(k), false); }
Result<std::unique_ptr<CipherOp>> cts_encrypt(const CK_MECHANISM& m, KeyPtr k) { return make_cts(m, std::move(k), true); }
Result<std::unique_ptr<CipherOp>> cts_decrypt(const CK_MECHANISM& m, KeyPtr k) { return make_cts(m, std::move(k), false); }

}  // namespace

void register_aes_modes(Registry& r) {
  Entry ctr;
  ctr.type = CKM_AES_CTR;
  ctr.info = {16, 32, CKF_ENCRYPT | CKF_DECRYPT};
  ctr.key_types = {CKK_AES};
  ctr.encrypt = ctr_encrypt;
  ctr.decrypt = ctr_decrypt;
  r.add(std::move(ctr));
  Entry cts;
  cts.type = CKM_AES_CTS;
  cts.info = {16, 32, CKF_ENCRYPT | CKF_DECRYPT};
  cts.key_types = {CKK_AES};
  cts.encrypt = cts_encrypt;
  cts.decrypt = cts_decrypt;
  r.add(std::move(cts));
}

}  // namespace ferrohsm::mech
