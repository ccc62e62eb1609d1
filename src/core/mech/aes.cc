// AES block modes: CKM_AES_ECB and CKM_AES_CBC (no padding: input a multiple of 16
// bytes) and CKM_AES_CBC_PAD (PKCS #7 padding), multi-part; plus the registry
// entries of the AES family (CKM_AES_GCM lives in aes_gcm.cc, CKM_AES_KEY_GEN in
// secret_key.cc). Key sizes count bytes.
#include "core/mech/aes_internal.h"
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <array>
#include <climits>

namespace ferrohsm::mech {
namespace {

constexpr size_t kBlock = 16;
constexpr CK_ULONG kMinBytes = 16;
constexpr CK_ULONG kMaxBytes = 32;

struct Ciphers {
  // [mode][0: AES-128, 1: AES-192, 2: AES-256]
  std::array<std::array<EVP_CIPHER*, 3>, 3> c{};
  Ciphers() {
    static constexpr const char* kNames[3][3] = {{"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"},
                                                 {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"},
                                                 {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"}};
    for (size_t m = 0; m < 3; ++m)
      for (size_t k = 0; k < 3; ++k) c[m][k] = EVP_CIPHER_fetch(nullptr, kNames[m][k], nullptr);
  }
  ~Ciphers() {
    for (auto& row : c)
      for (EVP_CIPHER* x : row) EVP_CIPHER_free(x);
  }
};

struct BlockMech {
  CK_MECHANISM_TYPE type;
  AesMode mode;
  bool pad;
};

constexpr BlockMech kBlockMechs[] = {
    {CKM_AES_ECB, AesMode::kEcb, false},
    {CKM_AES_CBC, AesMode::kCbc, false},
    {CKM_AES_CBC_PAD, AesMode::kCbc, true},
};

// ECB / CBC / CBC_PAD in one direction. OpenSSL buffers partial blocks (and, when
// decrypting with padding, the last full block); `total_` tracks the input so the
// output of each step is known exactly.
class BlockCipherOp final : public CipherOp {
 public:
  BlockCipherOp(KeyPtr key, CipherCtxPtr ctx, bool encrypt, bool pad)
      : key_(std::move(key)), ctx_(std::move(ctx)), encrypt_(encrypt), pad_(pad) {}

  size_t update_size(size_t in_len) const override { return produced(total_ + in_len) - produced(total_); }
  size_t final_size() const override { return pad_ ? kBlock : 0; }
  size_t one_shot_size(size_t in_len) const override {
    return pad_ && encrypt_ ? (in_len / kBlock + 1) * kBlock : in_len;
  }

  Result<size_t> update(ByteView in, MutableByteView out) override {
    if (in.size() > INT_MAX - kBlock) return make_error(len_error(), "input too long for one call");
    int len = 0;
    if (EVP_CipherUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
      return ossl_error(CKR_FUNCTION_FAILED, "AES update failed");
    total_ += in.size();
    return static_cast<size_t>(len);
  }

  Result<size_t> final(MutableByteView out) override {
    if (!encrypt_ && pad_ && (total_ == 0 || total_ % kBlock != 0))
      return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-empty multiple of 16 bytes");
    if (!pad_ && total_ % kBlock != 0) return make_error(len_error(), "input must be a multiple of 16 bytes");
    uint8_t block[kBlock];
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), block, &len) != 1) {
      if (encrypt_) return ossl_error(CKR_FUNCTION_FAILED, "AES final failed");
      ossl_clear_errors();
      return make_error(CKR_ENCRYPTED_DATA_INVALID, "CBC_PAD padding is invalid");
    }
    std::copy(block, block + len, out.begin());
    OPENSSL_cleanse(block, sizeof block);
    return static_cast<size_t>(len);
  }

  Result<size_t> one_shot(ByteView in, MutableByteView out) override {
    if (!pad_ && in.size() % kBlock != 0) return make_error(len_error(), "input must be a multiple of 16 bytes");
    if (pad_ && !encrypt_ && (in.empty() || in.size() % kBlock != 0))
      return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-empty multiple of 16 bytes");
    FH_ASSIGN_OR_RETURN(size_t n, update(in, out));
    Result<size_t> tail = final(out.subspan(n));
    if (!tail.ok()) {
      OPENSSL_cleanse(out.data(), n);  // release no unpadded plaintext on a padding error
      return tail.error();
    }
    return n + *tail;
  }

 private:
  CK_RV len_error() const { return encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE; }
  // Bytes update() has produced in all after `total` input bytes.
  size_t produced(size_t total) const {
    size_t whole = total - total % kBlock;
    if (pad_ && !encrypt_ && total != 0 && total % kBlock == 0) whole -= kBlock;  // last block held for final
    return whole;
  }

  KeyPtr key_;
  CipherCtxPtr ctx_;
  bool encrypt_;
  bool pad_;
  size_t total_ = 0;
};

Result<std::unique_ptr<CipherOp>> make_block(const CK_MECHANISM& mech, KeyPtr key, bool encrypt) {
  const BlockMech* m = nullptr;
  for (const BlockMech& b : kBlockMechs)
    if (b.type == mech.mechanism) m = &b;
  if (m == nullptr) return make_error(CKR_MECHANISM_INVALID, "not an AES block mode");
  FH_TRY(check_aes_key(key));
  const uint8_t* iv = nullptr;
  if (m->mode == AesMode::kCbc) {
    if (mech.pParameter == nullptr || mech.ulParameterLen != kBlock)
      return make_error(CKR_MECHANISM_PARAM_INVALID, "AES-CBC needs a 16-byte IV parameter");
    iv = static_cast<const uint8_t*>(mech.pParameter);
  } else {
    FH_TRY(no_mech_param(mech));
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* cipher = aes_cipher(m->mode, key->secret.size());
  if (!ctx || cipher == nullptr ||
      EVP_CipherInit_ex2(ctx.get(), cipher, key->secret.data(), iv, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), m->pad ? 1 : 0) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "AES init failed");
  return std::unique_ptr<CipherOp>(std::make_unique<BlockCipherOp>(std::move(key), std::move(ctx), encrypt, m->pad));
}

Result<std::unique_ptr<CipherOp>> block_encrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make_block(mech, std::move(key), true);
}
Result<std::unique_ptr<CipherOp>> block_decrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make_block(mech, std::move(key), false);
}
Result<std::unique_ptr<CipherOp>> gcm_encrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make_gcm(mech, std::move(key), true);
}
Result<std::unique_ptr<CipherOp>> gcm_decrypt(const CK_MECHANISM& mech, KeyPtr key) {
  return make_gcm(mech, std::move(key), false);
}

}  // namespace

Status check_aes_key(const KeyPtr& key) {
  if (!key || key->cls != CKO_SECRET_KEY || key->key_type != CKK_AES)
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "the mechanism needs an AES key");
  const size_t n = key->secret.size();
  if (n != 16 && n != 24 && n != 32) return make_error(CKR_KEY_SIZE_RANGE, "an AES key must be 16, 24 or 32 bytes");
  return {};
}

const EVP_CIPHER* aes_cipher(AesMode mode, size_t key_len) {
  static const Ciphers ciphers;
  const size_t k = key_len == 16 ? 0 : key_len == 24 ? 1 : 2;
  return ciphers.c[static_cast<size_t>(mode)][k];
}

void register_aes(Registry& r) {
  for (const BlockMech& m : kBlockMechs) {
    Entry e;
    e.type = m.type;
    e.info = {kMinBytes, kMaxBytes, CKF_ENCRYPT | CKF_DECRYPT};
    e.key_types = {CKK_AES};
    e.encrypt = block_encrypt;
    e.decrypt = block_decrypt;
    r.add(std::move(e));
  }
  Entry gcm;
  gcm.type = CKM_AES_GCM;
  gcm.info = {kMinBytes, kMaxBytes, CKF_ENCRYPT | CKF_DECRYPT};
  gcm.key_types = {CKK_AES};
  gcm.encrypt = gcm_encrypt;
  gcm.decrypt = gcm_decrypt;
  r.add(std::move(gcm));

  Entry gen;
  gen.type = CKM_AES_KEY_GEN;
  gen.info = {kMinBytes, kMaxBytes, CKF_GENERATE};
  gen.key_types = {CKK_AES};
  gen.generate_key = aes_generate_key;
  r.add(std::move(gen));
}

}  // namespace ferrohsm::mech
