// Private keys as PKCS#8 PrivateKeyInfo DER, the form C_WrapKey wraps them in and
// C_UnwrapKey takes them back from (RSA, EC, Edwards and Montgomery keys).
#pragma once

#include "core/attributes.h"
#include "core/mech/key.h"

namespace ferrohsm::mech {

// DER PrivateKeyInfo of a private key.
Result<SecureBytes> private_key_to_pkcs8(const Key& key);

// The class, key type and private material (CKA_MODULUS … CKA_COEFFICIENT, or
// CKA_EC_PARAMS and CKA_VALUE) of a DER PrivateKeyInfo; CKR_WRAPPED_KEY_INVALID when
// it is not one, CKR_CURVE_NOT_SUPPORTED / CKR_WRAPPED_KEY_INVALID for other algorithms.
Result<AttrMap> private_key_from_pkcs8(ByteView der);

}  // namespace ferrohsm::mech
