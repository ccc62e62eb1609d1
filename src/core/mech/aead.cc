// Single-pass AEADs over the whole input (multi-part calls are buffered, because no
// plaintext may leave before the tag is checked): CKM_AES_CCM (CK_CCM_PARAMS: nonce
// 7..13 bytes, MAC 4..16 bytes even, ulDataLen the plaintext length — for
// decryption the ciphertext length with or without the MAC is accepted) and
// CKM_CHACHA20_POLY1305 (CK_SALSA20_CHACHA20_POLY1305_PARAMS: RFC 8439, 96-bit
// nonce; the 64-bit nonce variant is refused with CKR_MECHANISM_PARAM_INVALID).
// Encryption outputs ciphertext || tag. Also CKM_CHACHA20_KEY_GEN.
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/key_internal.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kChachaTag = 16;
constexpr size_t kChachaNonce = 12;
constexpr size_t kChachaKey = 32;

Error param_error(const char* what) { return make_error(CKR_MECHANISM_PARAM_INVALID, what); }

const EVP_CIPHER* chacha_cipher() {
  static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return c;
}

struct AeadSetup {
  const EVP_CIPHER* cipher = nullptr;
  bool ccm = false;
  Bytes nonce, aad;
  size_t tag_len = 0;
  size_t data_len = 0;  // CCM: the announced plaintext length
};

class AeadOp final : public BufferedCipherOp {
 public:
  AeadOp(KeyPtr key, AeadSetup s, bool encrypt) : BufferedCipherOp(encrypt), key_(std::move(key)), s_(std::move(s)) {}
  bool multipart() const override { return true; }
  size_t one_shot_size(size_t in) const override {
    return encrypt_ ? in + s_.tag_len : (in > s_.tag_len ? in - s_.tag_len : 0);
  }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    const CK_RV len_rv = encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (!encrypt_ && in.size() < s_.tag_len) return make_error(len_rv, "input is shorter than the tag");
    const size_t data_len = encrypt_ ? in.size() : in.size() - s_.tag_len;
    if (data_len > INT_MAX) return make_error(len_rv, "input too long");
    if (s_.ccm && s_.data_len != data_len && (encrypt_ || s_.data_len != in.size()))
      return make_error(len_rv, "CCM input length differs from ulDataLen");
    const int enc = encrypt_ ? 1 : 0;
    size_t iv_len = s_.nonce.size();
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    OSSL_PARAM p1[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
                       OSSL_PARAM_construct_octet_string(
                           OSSL_CIPHER_PARAM_AEAD_TAG,
                           encrypt_ ? nullptr : const_cast<uint8_t*>(in.data() + data_len), s_.tag_len),
                       OSSL_PARAM_construct_end()};
    if (!ctx || EVP_CipherInit_ex2(ctx.get(), s_.cipher, nullptr, nullptr, enc, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_params(ctx.get(), p1) != 1 ||
        EVP_CipherInit_ex2(ctx.get(), nullptr, key_->secret.data(), s_.nonce.data(), enc, nullptr) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AEAD init failed");
    int len = 0;
    if ((s_.ccm && EVP_CipherUpdate(ctx.get(), nullptr, &len, nullptr, static_cast<int>(data_len)) != 1) ||
        (!s_.aad.empty() &&
         EVP_CipherUpdate(ctx.get(), nullptr, &len, s_.aad.data(), static_cast<int>(s_.aad.size())) != 1))
      return ossl_error(CKR_FUNCTION_FAILED, "AEAD AAD failed");
    SecureBytes tmp(data_len + 16);
    int n = 0, fin = 0;
    // The data step always runs (CCM checks its tag there): an empty input gets a non-null pointer.
    const uint8_t* src = data_len != 0 ? in.data() : tmp.data();
    bool ok = EVP_CipherUpdate(ctx.get(), tmp.data(), &n, src, static_cast<int>(data_len)) == 1;
    if (ok && !(s_.ccm && !encrypt_)) ok = EVP_CipherFinal_ex(ctx.get(), tmp.data() + n, &fin) == 1;
    if (!ok) {
      if (encrypt_) return ossl_error(CKR_FUNCTION_FAILED, "AEAD encryption failed");
      ossl_clear_errors();
      return make_error(CKR_ENCRYPTED_DATA_INVALID, "AEAD tag does not verify");
    }
    const size_t produced = static_cast<size_t>(n + fin);
    std::copy_n(tmp.begin(), produced, out.begin());
    if (!encrypt_) return produced;
    OSSL_PARAM p2[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + produced, s_.tag_len),
                       OSSL_PARAM_construct_end()};
    if (EVP_CIPHER_CTX_get_params(ctx.get(), p2) != 1) return ossl_error(CKR_FUNCTION_FAILED, "AEAD tag failed");
    return produced + s_.tag_len;
  }

 private:
  KeyPtr key_;
  AeadSetup s_;
};

Result<AeadSetup> ccm_setup(const CK_MECHANISM& mech, const KeyPtr& key) {
  FH_TRY(check_aes_key(key));
  FH_ASSIGN_OR_RETURN(const CK_CCM_PARAMS* p, mech_param<CK_CCM_PARAMS>(mech));
  if (p->pNonce == nullptr || p->ulNonceLen < 7 || p->ulNonceLen > 13) return param_error("CCM nonce must be 7 to 13 bytes");
  if (p->ulMACLen < 4 || p->ulMACLen > 16 || p->ulMACLen % 2 != 0)
    return param_error("CCM MAC length must be 4, 6, 8, 10, 12, 14 or 16 bytes");
  if (p->pAAD == nullptr && p->ulAADLen != 0) return param_error("CCM AAD pointer is NULL");
  if (p->ulAADLen > INT_MAX) return param_error("CCM AAD too long");
  const size_t l = 15 - p->ulNonceLen;  // bytes of the length field
  if (l < sizeof(CK_ULONG) && p->ulDataLen >> (8 * l) != 0) return param_error("ulDataLen too large for the nonce length");
  AeadSetup s;
  s.cipher = aes_cipher(AesMode::kCcm, key->secret.size());
  s.ccm = true;
  s.nonce.assign(p->pNonce, p->pNonce + p->ulNonceLen);
  if (p->ulAADLen != 0) s.aad.assign(p->pAAD, p->pAAD + p->ulAADLen);
  s.tag_len = p->ulMACLen;
  s.data_len = p->ulDataLen;
  return s;
}

Result<AeadSetup> chacha_setup(const CK_MECHANISM& mech, const KeyPtr& key) {
  if (!key || key->cls != CKO_SECRET_KEY || key->key_type != CKK_CHACHA20 || key->secret.size() != kChachaKey)
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "the mechanism needs a 32-byte CKK_CHACHA20 key");
  FH_ASSIGN_OR_RETURN(const CK_SALSA20_CHACHA20_POLY1305_PARAMS* p,
                      mech_param<CK_SALSA20_CHACHA20_POLY1305_PARAMS>(mech));
  if (p->pNonce == nullptr || p->ulNonceLen != kChachaNonce)
    return param_error("ChaCha20-Poly1305 nonce must be 12 bytes (RFC 8439)");
  if (p->pAAD == nullptr && p->ulAADLen != 0) return param_error("ChaCha20-Poly1305 AAD pointer is NULL");
  if (p->ulAADLen > INT_MAX) return param_error("ChaCha20-Poly1305 AAD too long");
  AeadSetup s;
  s.cipher = chacha_cipher();
  s.nonce.assign(p->pNonce, p->pNonce + p->ulNonceLen);
  if (p->ulAADLen != 0) s.aad.assign(p->pAAD, p->pAAD + p->ulAADLen);
  s.tag_len = kChachaTag;
  return s;
}

template <Result<AeadSetup> (*Setup)(const CK_MECHANISM&, const KeyPtr&), bool Encrypt>
Result<std::unique_ptr<CipherOp>> make(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(AeadSetup s, Setup(mech, key));
  if (s.cipher == nullptr) return make_error(CKR_GENERAL_ERROR, "cipher unavailable");
  return std::unique_ptr<CipherOp>(std::make_unique<AeadOp>(std::move(key), std::move(s), Encrypt));
}

Result<AttrMap> chacha_generate_key(const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_TRY(no_mech_param(mech));
  if (tmpl.has(CKA_VALUE_LEN) && tmpl.get_ulong(CKA_VALUE_LEN) != CK_ULONG{kChachaKey})
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN must be 32 for ChaCha20");
  return random_secret_key(CKK_CHACHA20, kChachaKey);
}

}  // namespace

void register_aead(Registry& r) {
  Entry ccm;
  ccm.type = CKM_AES_CCM;
  // Also message-based (message_aead.cc), single-part messages only.
  ccm.info = {16, 32, CKF_ENCRYPT | CKF_DECRYPT | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT};
  ccm.key_types = {CKK_AES};
  ccm.encrypt = make<ccm_setup, true>;
  ccm.decrypt = make<ccm_setup, false>;
  r.add(std::move(ccm));

  Entry chacha;
  chacha.type = CKM_CHACHA20_POLY1305;
  chacha.info = {kChachaKey, kChachaKey,
                 CKF_ENCRYPT | CKF_DECRYPT | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE};
  chacha.key_types = {CKK_CHACHA20};
  chacha.encrypt = make<chacha_setup, true>;
  chacha.decrypt = make<chacha_setup, false>;
  r.add(std::move(chacha));

  Entry gen;
  gen.type = CKM_CHACHA20_KEY_GEN;
  gen.info = {kChachaKey, kChachaKey, CKF_GENERATE};
  gen.key_types = {CKK_CHACHA20};
  gen.generate_key = chacha_generate_key;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
