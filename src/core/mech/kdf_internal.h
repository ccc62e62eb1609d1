// Internal to the key-derivation files (kdf_hkdf.cc, kdf_sp800_108.cc,
// kdf_pbkdf2.cc, derive_simple.cc): output length rules and a once-fetched EVP_KDF.
#pragma once

#include "core/mech/key.h"
#include "core/mech/ossl.h"

#include <openssl/kdf.h>

namespace ferrohsm::mech {

using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OsslDeleter<EVP_KDF_CTX_free>>;

// A new context of the named EVP_KDF ("HKDF" or "PBKDF2"); the algorithm is fetched once.
Result<KdfCtxPtr> new_kdf_ctx(const char* name);
// CKR_TEMPLATE_INCOMPLETE when `value_len` is 0 (the mechanism has no natural length),
// CKR_TEMPLATE_INCONSISTENT above `max`.
Result<size_t> required_length(CK_ULONG value_len, size_t max);
// The secret bytes of a secret key (CKR_KEY_TYPE_INCONSISTENT otherwise).
Result<ByteView> secret_of(const KeyPtr& key, const char* what);

}  // namespace ferrohsm::mech
