// Message-based AES-GCM, AES-CCM and ChaCha20-Poly1305 over OpenSSL's EVP AEADs
// (see message_aead.h). One EVP_CIPHER_CTX per context, re-keyed per message.
#include "core/mech/message_aead.h"

#include "core/mech/aes_internal.h"
#include "core/mech/ossl.h"
#include "core/seal.h"

#include <openssl/crypto.h>

#include <climits>

namespace ferrohsm::mech {
namespace {

enum class Kind { kGcm, kCcm, kChacha };

Error param_error(const char* what) { return make_error(CKR_MECHANISM_PARAM_INVALID, what); }

const EVP_CIPHER* chacha20_poly1305() {
  static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return c;
}

// The three parameter blocks, seen through one shape.
struct MsgParams {
  uint8_t* iv = nullptr;
  size_t iv_len = 0;
  CK_ULONG fixed_bits = 0;
  CK_GENERATOR_FUNCTION gen = CKG_NO_GENERATE;
  uint8_t* tag = nullptr;
  size_t tag_len = 0;
  CK_ULONG data_len = 0;  // CCM only
};

template <typename T>
Result<T*> block(void* param, CK_ULONG len) {
  if (param == nullptr || len != sizeof(T)) return param_error("message parameter block missing or of the wrong size");
  return static_cast<T*>(param);
}

Result<MsgParams> parse(Kind kind, void* param, CK_ULONG len) {
  MsgParams m;
  switch (kind) {
    case Kind::kGcm: {
      FH_ASSIGN_OR_RETURN(CK_GCM_MESSAGE_PARAMS * p, block<CK_GCM_MESSAGE_PARAMS>(param, len));
      // OpenSSL 3.0's GCM takes IVs of at most 128 bytes (PKCS#11 allows 256).
      if (p->pIv == nullptr || p->ulIvLen < 1 || p->ulIvLen > 128) return param_error("GCM IV must be 1 to 128 bytes");
      if (p->pTag == nullptr) return param_error("GCM pTag is NULL");
      if (p->ulTagBits < 32 || p->ulTagBits > 128 || p->ulTagBits % 8 != 0)
        return param_error("GCM tag length must be 32 to 128 bits, a multiple of 8");
      m = {p->pIv, p->ulIvLen, p->ulIvFixedBits, p->ivGenerator, p->pTag, p->ulTagBits / 8, 0};
      break;
    }
    case Kind::kCcm: {
      FH_ASSIGN_OR_RETURN(CK_CCM_MESSAGE_PARAMS * p, block<CK_CCM_MESSAGE_PARAMS>(param, len));
      if (p->pNonce == nullptr || p->ulNonceLen < 7 || p->ulNonceLen > 13) return param_error("CCM nonce must be 7 to 13 bytes");
      if (p->pMAC == nullptr) return param_error("CCM pMAC is NULL");
      if (p->ulMACLen < 4 || p->ulMACLen > 16 || p->ulMACLen % 2 != 0)
        return param_error("CCM MAC length must be 4, 6, 8, 10, 12, 14 or 16 bytes");
      const size_t l = 15 - p->ulNonceLen;
      if (p->ulDataLen > INT_MAX || (l < sizeof(CK_ULONG) && p->ulDataLen >> (8 * l) != 0))
        return param_error("ulDataLen too large for the nonce length");
      m = {p->pNonce, p->ulNonceLen, p->ulNonceFixedBits, p->nonceGenerator, p->pMAC, p->ulMACLen, p->ulDataLen};
      break;
    }
    case Kind::kChacha: {
      FH_ASSIGN_OR_RETURN(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS * p,
                          block<CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS>(param, len));
      if (p->pNonce == nullptr || p->ulNonceLen != 12) return param_error("ChaCha20-Poly1305 nonce must be 12 bytes");
      if (p->pTag == nullptr) return param_error("ChaCha20-Poly1305 pTag is NULL");
      m = {p->pNonce, p->ulNonceLen, 0, CKG_NO_GENERATE, p->pTag, 16, 0};
      break;
    }
  }
  if (m.fixed_bits > m.iv_len * 8) return param_error("more fixed IV bits than the IV has");
  return m;
}

// Makes the IV's non-fixed bits (the low-order end) as the generator asks.
class IvGenerator {
 public:
  Status apply(const MsgParams& m) {
    const size_t var_bits = m.iv_len * 8 - m.fixed_bits;
    switch (m.gen) {
      case CKG_NO_GENERATE: return {};
      case CKG_GENERATE:
      case CKG_GENERATE_COUNTER:
      case CKG_GENERATE_COUNTER_XOR: {
        if (var_bits < 64 && counter_ >> var_bits != 0)
          return make_error(CKR_FUNCTION_FAILED, "the IV counter is exhausted: start a new context with a new key");
        if (m.gen == CKG_GENERATE_COUNTER_XOR) {
          // XOR into the IV of the context's first message, not into the last one written back.
          if (base_.empty()) base_.assign(m.iv, m.iv + m.iv_len);
          if (base_.size() != m.iv_len) return param_error("the IV length changed within the context");
          std::copy(base_.begin(), base_.end(), m.iv);
        }
        put_bits(m, var_bits, counter_, m.gen == CKG_GENERATE_COUNTER_XOR);
        ++counter_;
        return {};
      }
      case CKG_GENERATE_RANDOM: {
        FH_ASSIGN_OR_RETURN(SecureBytes r, random_bytes(m.iv_len));
        for (size_t i = 0; i < var_bits; ++i) set_bit(m, i, (r[i / 8] >> (i % 8)) & 1U, false);
        return {};
      }
      default: return param_error("unknown IV generator");
    }
  }

 private:
  // Bit i counts from the least significant bit of the IV's last byte.
  static void set_bit(const MsgParams& m, size_t i, unsigned v, bool xor_in) {
    uint8_t& byte = m.iv[m.iv_len - 1 - i / 8];
    const uint8_t mask = static_cast<uint8_t>(1U << (i % 8));
    if (xor_in) {
      if (v != 0) byte ^= mask;
    } else {
      byte = static_cast<uint8_t>(v != 0 ? (byte | mask) : (byte & ~mask));
    }
  }
  static void put_bits(const MsgParams& m, size_t var_bits, uint64_t value, bool xor_in) {
    for (size_t i = 0; i < var_bits; ++i) set_bit(m, i, i < 64 ? static_cast<unsigned>((value >> i) & 1U) : 0U, xor_in);
  }

  uint64_t counter_ = 0;
  Bytes base_;
};

class EvpMessageAead final : public MessageAead {
 public:
  EvpMessageAead(Kind kind, const EVP_CIPHER* cipher, KeyPtr key, bool encrypt)
      : kind_(kind), cipher_(cipher), key_(std::move(key)), encrypt_(encrypt), ctx_(EVP_CIPHER_CTX_new()) {}

  bool multipart() const override { return kind_ != Kind::kCcm; }

  Status begin(void* param, CK_ULONG param_len, ByteView aad) override {
    abort();
    FH_ASSIGN_OR_RETURN(MsgParams m, parse(kind_, param, param_len));
    if (aad.size() > INT_MAX) return make_error(CKR_ARGUMENTS_BAD, "associated data too long");
    if (encrypt_) FH_TRY(gen_.apply(m));
    const int enc = encrypt_ ? 1 : 0;
    size_t iv_len = m.iv_len;
    OSSL_PARAM p[3] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len), OSSL_PARAM_construct_end(),
                       OSSL_PARAM_construct_end()};
    // CCM fixes its tag length (and, decrypting, its tag) before the key.
    if (kind_ == Kind::kCcm)
      p[1] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, encrypt_ ? nullptr : m.tag, m.tag_len);
    if (!ctx_ || EVP_CipherInit_ex2(ctx_.get(), cipher_, nullptr, nullptr, enc, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_params(ctx_.get(), p) != 1 ||
        EVP_CipherInit_ex2(ctx_.get(), nullptr, key_->secret.data(), m.iv, enc, nullptr) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AEAD message init failed");
    int len = 0;
    if (kind_ == Kind::kCcm &&
        EVP_CipherUpdate(ctx_.get(), nullptr, &len, nullptr, static_cast<int>(m.data_len)) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "CCM length step failed");
    if (!aad.empty() && EVP_CipherUpdate(ctx_.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AEAD associated data step failed");
    ccm_len_ = m.data_len;
    in_message_ = true;
    return {};
  }

  Result<size_t> next(void* param, CK_ULONG param_len, ByteView in, MutableByteView out, bool last) override {
    if (!in_message_) return make_error(CKR_OPERATION_NOT_INITIALIZED, "no message was begun");
    FH_ASSIGN_OR_RETURN(MsgParams m, parse(kind_, param, param_len));
    const CK_RV len_rv = encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (in.size() > INT_MAX) return make_error(len_rv, "input too long");
    if (kind_ == Kind::kCcm && (!last || in.size() != ccm_len_))
      return make_error(len_rv, "a CCM message is one call of exactly ulDataLen bytes");
    if (!encrypt_ && last && kind_ != Kind::kCcm) {
      OSSL_PARAM t[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, m.tag, m.tag_len),
                        OSSL_PARAM_construct_end()};
      if (EVP_CIPHER_CTX_set_params(ctx_.get(), t) != 1) return ossl_error(CKR_FUNCTION_FAILED, "AEAD tag setup failed");
    }
    int n = 0, fin = 0;
    uint8_t empty = 0;
    const uint8_t* src = in.empty() ? &empty : in.data();
    uint8_t* dst = in.empty() ? &empty : out.data();
    bool ok = (in.empty() && kind_ != Kind::kCcm) ||
              EVP_CipherUpdate(ctx_.get(), dst, &n, src, static_cast<int>(in.size())) == 1;
    if (ok && last && !(kind_ == Kind::kCcm && !encrypt_)) ok = EVP_CipherFinal_ex(ctx_.get(), dst + n, &fin) == 1;
    if (last) in_message_ = false;
    if (!ok) {
      OPENSSL_cleanse(out.data(), std::min(out.size(), in.size()));
      if (encrypt_) return ossl_error(CKR_FUNCTION_FAILED, "AEAD encryption failed");
      ossl_clear_errors();
      return make_error(CKR_AEAD_DECRYPT_FAILED, "the message's tag does not verify");
    }
    if (encrypt_ && last) {
      OSSL_PARAM t[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, m.tag, m.tag_len),
                        OSSL_PARAM_construct_end()};
      if (EVP_CIPHER_CTX_get_params(ctx_.get(), t) != 1) return ossl_error(CKR_FUNCTION_FAILED, "AEAD tag failed");
    }
    return static_cast<size_t>(n + fin);
  }

  void abort() override { in_message_ = false; }

 private:
  const Kind kind_;
  const EVP_CIPHER* const cipher_;
  const KeyPtr key_;
  const bool encrypt_;
  CipherCtxPtr ctx_;
  IvGenerator gen_;
  bool in_message_ = false;
  CK_ULONG ccm_len_ = 0;
};

}  // namespace

Result<std::unique_ptr<MessageAead>> MessageAead::create(CK_MECHANISM_TYPE type, KeyPtr key, bool encrypt) {
  Kind kind;
  const EVP_CIPHER* cipher = nullptr;
  switch (type) {
    case CKM_AES_GCM:
    case CKM_AES_CCM:
      FH_TRY(check_aes_key(key));
      kind = type == CKM_AES_GCM ? Kind::kGcm : Kind::kCcm;
      cipher = aes_cipher(type == CKM_AES_GCM ? AesMode::kGcm : AesMode::kCcm, key->secret.size());
      break;
    case CKM_CHACHA20_POLY1305:
      if (!key || key->cls != CKO_SECRET_KEY || key->key_type != CKK_CHACHA20 || key->secret.size() != 32)
        return make_error(CKR_KEY_TYPE_INCONSISTENT, "the mechanism needs a 32-byte CKK_CHACHA20 key");
      kind = Kind::kChacha;
      cipher = chacha20_poly1305();
      break;
    default: return make_error(CKR_MECHANISM_INVALID, "the mechanism has no message-based form");
  }
  if (cipher == nullptr) return make_error(CKR_GENERAL_ERROR, "cipher unavailable");
  return std::unique_ptr<MessageAead>(std::make_unique<EvpMessageAead>(kind, cipher, std::move(key), encrypt));
}

}  // namespace ferrohsm::mech
