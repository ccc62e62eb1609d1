// AES key wrap, usable by C_Encrypt/C_Decrypt and (CKF_WRAP / CKF_UNWRAP) by
// C_WrapKey/C_UnwrapKey:
//  - CKM_AES_KEY_WRAP (RFC 3394 / SP 800-38F KW): input a multiple of 8 bytes, at
//    least 16; optional 8-byte IV parameter (default A6A6A6A6A6A6A6A6). C_WrapKey
//    zero-pads a key to a multiple of 8 first, as PKCS#11 defines (wrap_padding.h),
//    so every key of 9 bytes or more wraps, a private key's PKCS#8 of any length too;
//  - CKM_AES_KEY_WRAP_KWP (RFC 5649 / SP 800-38F KWP): any non-empty input; optional
//    4-byte IV parameter (default A65959A6);
//  - CKM_AES_KEY_WRAP_PAD: PKCS #7 padding to a multiple of the AES block (16 bytes,
//    as CKM_AES_CBC_PAD pads), then KW.
// The whole input is processed at final; unwrapping checks the integrity value.
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kSemiblock = 8;
constexpr size_t kPadBlock = 16;

enum class Kw { kKw, kKwp, kPad };

struct KwMech {
  CK_MECHANISM_TYPE type;
  Kw kind;
  size_t iv_len;  // the optional parameter's length
};

constexpr KwMech kKwMechs[] = {
    {CKM_AES_KEY_WRAP, Kw::kKw, 8},
    {CKM_AES_KEY_WRAP_KWP, Kw::kKwp, 4},
    {CKM_AES_KEY_WRAP_PAD, Kw::kPad, 8},
};

class KwOp final : public BufferedCipherOp {
 public:
  KwOp(KeyPtr key, Kw kind, Bytes iv, bool encrypt)
      : BufferedCipherOp(encrypt), key_(std::move(key)), kind_(kind), iv_(std::move(iv)) {}
  size_t one_shot_size(size_t in) const override {
    if (!encrypt_) return in >= kSemiblock ? in - kSemiblock : 0;
    const size_t padded = kind_ == Kw::kKw    ? in
                          : kind_ == Kw::kPad ? (in / kPadBlock + 1) * kPadBlock
                                              : (in + kSemiblock - 1) / kSemiblock * kSemiblock;
    return padded + kSemiblock;
  }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    const CK_RV len_rv = encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (in.size() > INT_MAX - 2 * kSemiblock) return make_error(len_rv, "input too long");
    SecureBytes padded;
    if (encrypt_ && kind_ == Kw::kPad) {
      const size_t pad = kPadBlock - in.size() % kPadBlock;
      padded.assign(in.begin(), in.end());
      padded.insert(padded.end(), pad, static_cast<uint8_t>(pad));
      in = padded;
    }
    const bool kwp = kind_ == Kw::kKwp;
    if (kwp ? in.empty() || (!encrypt_ && (in.size() < 16 || in.size() % kSemiblock != 0))
            : in.size() % kSemiblock != 0 || in.size() < (encrypt_ ? 16u : 24u))
      return make_error(len_rv, kwp ? "KWP input has an invalid length"
                                    : "KW input must be a multiple of 8 bytes (at least 16 to wrap, 24 to unwrap)");
    const AesMode mode = kwp ? AesMode::kWrapPad : AesMode::kWrap;
    FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx, init_cipher_ctx(aes_cipher(mode, key_->secret.size()), key_->secret,
                                                          iv_.empty() ? nullptr : iv_.data(), encrypt_));
    SecureBytes tmp(in.size() + 2 * kSemiblock);
    int len = 0, fin = 0;
    if (EVP_CipherUpdate(ctx.get(), tmp.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), tmp.data() + len, &fin) != 1) {
      if (encrypt_) return ossl_error(CKR_FUNCTION_FAILED, "AES key wrap failed");
      ossl_clear_errors();
      return make_error(CKR_ENCRYPTED_DATA_INVALID, "the wrapped key's integrity check failed");
    }
    size_t n = static_cast<size_t>(len + fin);
    if (!encrypt_ && kind_ == Kw::kPad) {
      const size_t pad = n == 0 ? 0 : tmp[n - 1];
      bool ok = pad >= 1 && pad <= kPadBlock && pad <= n;
      for (size_t i = 0; ok && i < pad; ++i) ok = tmp[n - 1 - i] == pad;
      if (!ok) return make_error(CKR_ENCRYPTED_DATA_INVALID, "AES_KEY_WRAP_PAD padding is invalid");
      n -= pad;
    }
    std::copy_n(tmp.begin(), n, out.begin());
    return n;
  }

 private:
  KeyPtr key_;
  Kw kind_;
  Bytes iv_;
};

template <bool Encrypt>
Result<std::unique_ptr<CipherOp>> make(const CK_MECHANISM& mech, KeyPtr key) {
  const KwMech* m = nullptr;
  for (const KwMech& k : kKwMechs)
    if (k.type == mech.mechanism) m = &k;
  if (m == nullptr) return make_error(CKR_MECHANISM_INVALID, "not an AES key wrap mechanism");
  FH_TRY(check_aes_key(key));
  Bytes iv;
  if (mech.pParameter != nullptr || mech.ulParameterLen != 0) {
    if (mech.pParameter == nullptr || mech.ulParameterLen != m->iv_len)
      return make_error(CKR_MECHANISM_PARAM_INVALID, "the key wrap IV parameter has the wrong length");
    const auto* p = static_cast<const uint8_t*>(mech.pParameter);
    iv.assign(p, p + m->iv_len);
  }
  return std::unique_ptr<CipherOp>(std::make_unique<KwOp>(std::move(key), m->kind, std::move(iv), Encrypt));
}

}  // namespace

void register_aes_kw(Registry& r) {
  for (const KwMech& m : kKwMechs) {
    Entry e;
    e.type = m.type;
    e.info = {16, 32, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP};
    if (m.kind == Kw::kKw) e.wrap_pad_block = kSemiblock;
    e.key_types = {CKK_AES};
    e.encrypt = make<true>;
    e.decrypt = make<false>;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
