// Internal to the AES files: the once-fetched EVP_CIPHERs, the key check, and the
// GCM operation factory (aes_gcm.cc) that aes.cc registers. The other AES files
// (aes_modes.cc, aes_ccm.cc, aes_kw.cc, aes_mac.cc) register their own entries.
#pragma once

#include "core/mech/key.h"
#include "core/mech/operation.h"

#include <openssl/evp.h>

namespace ferrohsm::mech {

enum class AesMode { kEcb, kCbc, kGcm, kCtr, kCts, kCcm, kWrap, kWrapPad };

// CKR_KEY_TYPE_INCONSISTENT unless an AES secret key of 16, 24 or 32 bytes.
Status check_aes_key(const KeyPtr& key);
// The cipher for `mode` and the key's length (fetched once per process).
const EVP_CIPHER* aes_cipher(AesMode mode, size_t key_len);

Result<std::unique_ptr<CipherOp>> make_gcm(const CK_MECHANISM& mech, KeyPtr key, bool encrypt);

}  // namespace ferrohsm::mech
