// C_WrapKey / C_UnwrapKey with the mechanisms that do not pad themselves: AES and
// 3DES in ECB and CBC mode, and CKM_AES_KEY_WRAP (RFC 3394). PKCS#11 3.0 wraps a key
// with them "padded on the trailing end with up to block size minus one null bytes"
// (for KW: zero-padded to the 8-byte semiblock), and unwraps by truncating "according
// to the CKA_KEY_TYPE attribute of the template and, if it has one, … the
// CKA_VALUE_LEN attribute". A private key travels as its PKCS#8 PrivateKeyInfo, whose
// DER encoding says where it ends. The registry entry's wrap_pad_block says which
// mechanisms these are.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <ferrohsm/cryptoki.h>

namespace ferrohsm::mech {

// `key` followed by zeros up to a multiple of `block` (nothing added when it is one).
SecureBytes zero_pad(ByteView key, size_t block);

// A secret key's value out of an unwrapped, zero-padded block: `value_len` bytes
// (the template's CKA_VALUE_LEN; 0 when it gave none: the key type's one length,
// else every byte). Only zeros, fewer than `block` of them, may be cut:
// CKR_WRAPPED_KEY_LEN_RANGE when the length does not fit, CKR_WRAPPED_KEY_INVALID
// when a cut byte is not zero.
Result<ByteView> unpad_secret(ByteView unwrapped, size_t block, CK_KEY_TYPE type, CK_ULONG value_len);

// The DER PrivateKeyInfo at the front of an unwrapped, zero-padded block; what
// follows it must be fewer than `block` zeros (CKR_WRAPPED_KEY_INVALID otherwise).
Result<ByteView> unpad_der(ByteView unwrapped, size_t block);

}  // namespace ferrohsm::mech
