// AES block modes: CKM_AES_ECB and CKM_AES_CBC (no padding: input a multiple of 16
// bytes) and CKM_AES_CBC_PAD (PKCS #7 padding), multi-part, each also a key wrap
// (ECB and CBC zero-pad the key, mech/wrap_padding.h); plus the registry
// entries of the AES family (CKM_AES_GCM lives in aes_gcm.cc, CKM_AES_KEY_GEN in
// secret_key.cc). Key sizes count bytes.
#include "core/mech/aes_internal.h"
#include "core/mech/cipher_ops.h"
#include "core/mech/key_internal.h"
#include "core/mech/ossl.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <array>
#include <climits>
#include <string>

namespace ferrohsm::mech {
namespace {

constexpr size_t kBlock = 16;
constexpr CK_ULONG kMinBytes = 16;
constexpr CK_ULONG kMaxBytes = 32;

struct Ciphers {
  // [mode][0: AES-128, 1: AES-192, 2: AES-256], in AesMode order
  static constexpr size_t kModes = 8;
  std::array<std::array<EVP_CIPHER*, 3>, kModes> c{};
  Ciphers() {
    static constexpr const char* kSuffix[kModes] = {"ECB", "CBC", "GCM", "CTR", "CBC-CTS", "CCM", "WRAP", "WRAP-PAD"};
    static constexpr const char* kPrefix[3] = {"AES-128-", "AES-192-", "AES-256-"};
    for (size_t m = 0; m < kModes; ++m)
      for (size_t k = 0; k < 3; ++k)
        c[m][k] = EVP_CIPHER_fetch(nullptr, (std::string(kPrefix[k]) + kSuffix[m]).c_str(), nullptr);
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
  FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx,
                      init_cipher_ctx(aes_cipher(m->mode, key->secret.size()), key->secret, iv, encrypt, m->pad));
  return make_block_cipher_op(std::move(key), std::move(ctx), encrypt, m->pad, kBlock,
                              BlockRearm{true, m->mode == AesMode::kCbc ? kBlock : 0});
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
    // All three wrap and unwrap: CBC_PAD any key length thanks to its padding, ECB
    // and CBC the key zero-padded to the block, as PKCS#11 defines for them.
    e.info = {kMinBytes, kMaxBytes, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP};
    e.wrap_pad_block = m.pad ? 0 : kBlock;
    e.key_types = {CKK_AES};
    e.encrypt = block_encrypt;
    e.decrypt = block_decrypt;
    r.add(std::move(e));
  }
  Entry gcm;
  gcm.type = CKM_AES_GCM;
  // Also message-based (message_aead.cc), single- and multi-part, and a key wrap
  // (the wrapped form is ciphertext || tag).
  gcm.info = {kMinBytes, kMaxBytes,
              CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT |
                  CKF_MULTI_MESSAGE};
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
