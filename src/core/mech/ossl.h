// Small helpers around OpenSSL 3 for the mechanism files: owning pointers for the
// EVP/BN/param objects, an Error built from OpenSSL's error queue (the queue is
// always cleared so that a failure never leaks into the next call on the thread),
// and big-number <-> byte conversions that wipe what they held.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string_view>

namespace ferrohsm::mech {

template <auto Fn>
struct OsslDeleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslDeleter<EVP_CIPHER_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OsslDeleter<EVP_MAC_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, OsslDeleter<BN_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, OsslDeleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, OsslDeleter<EC_POINT_clear_free>>;

// An Error with `what` and the reason of OpenSSL's latest error, if any. Clears the queue.
Error ossl_error(CK_RV rv, std::string_view what);
// Drops whatever OpenSSL queued (after a failure that is an expected outcome, e.g. a bad signature).
void ossl_clear_errors();

// Key import and generation that an ENGINE in the host process cannot take over.
// OpenSSL 3.0 asks ENGINE_get_pkey_meth_engine() first whenever a key type name maps to
// a legacy NID ("RSA", "EC", "ED25519" …): a process that set an ENGINE as default for
// that NID (`openssl -engine pkcs11`, libp11) gets the engine's legacy EVP_PKEY_METHOD,
// which has no EVP_KEYMGMT, so EVP_PKEY_fromdata fails ("operation not supported for
// this keytype") and keygen makes a legacy key. A private OSSL_LIB_CTX or a property
// query does not help (the engine tables are process-wide). The provider's own alias of
// the type that OpenSSL's NID tables do not know — its dotted OID, e.g.
// "1.2.840.113549.1.1.1" for RSA — makes int_ctx_new skip the engine lookup and fetch
// the EVP_KEYMGMT, so the ctx and the keys it makes are provider-native.
// (Operation contexts made later from such a key by EVP_PKEY_CTX_new_from_pkey still
// go through an ENGINE registered for the NID; OpenSSL 3.0 has no public API against
// that, and libp11's methods pass keys that are not theirs to OpenSSL's own code. Such a
// legacy context ignores the OSSL_PARAMs of EVP_PKEY_*_init_ex and EVP_PKEY_CTX_set_params;
// the EVP_PKEY_CTX_set_rsa_padding / set_signature_md / … calls work on both kinds.)
// An EVP_PKEY_CTX for fromdata/keygen of `keytype` ("RSA", "EC", "ED25519" …); nullptr on failure.
PkeyCtxPtr provider_pkey_ctx(const char* keytype);
// A new key of `keytype` (of `group`, for "EC"; else nullptr) from a provider keygen
// context prepared once per thread and reused (EVP_PKEY_keygen_init, group): a fresh
// context per key rebuilt the EC group every time, 15 % of a P-256 generation.
// `keytype` and `group` must outlive the thread (string literals, the curve table).
Result<PkeyPtr> generate_pkey(const char* keytype, const char* group);
// A provider-native key of `keytype` from `params` (EVP_PKEY_fromdata with `selection`);
// on failure an Error with `rv` and `what`.
Result<PkeyPtr> pkey_from_params(const char* keytype, int selection, const OSSL_PARAM* params, CK_RV rv,
                                 std::string_view what);
// A provider-native X25519/X448/Ed25519/Ed448 key ("X25519" …) from its raw public or
// private encoding (EVP_PKEY_new_raw_*_key_ex would ask the ENGINE tables too).
Result<PkeyPtr> raw_pkey(const char* keytype, bool priv, ByteView raw, CK_RV rv, std::string_view what);

// Big-endian bytes of `bn`, left-padded with zeros to `pad` bytes when pad > 0
// (a number longer than `pad` is returned unpadded; callers size `pad` correctly).
SecureBytes bn_to_bytes(const BIGNUM* bn, size_t pad = 0);
// Unsigned big-endian bytes to a BIGNUM (empty input reads as zero); `secret` numbers
// live in OpenSSL's secure heap, so that OSSL_PARAM blocks built from them are wiped.
// nullptr on allocation failure.
BnPtr bn_from_bytes(ByteView b, bool secret = false);
// A BIGNUM parameter of a key (OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_PRIV_KEY …).
Result<BnPtr> pkey_bn_param(const EVP_PKEY* pkey, const char* name);

// The parameter struct of a mechanism, or CKR_MECHANISM_PARAM_INVALID when it is
// absent or has the wrong size. With `optional`, an absent parameter gives nullptr.
template <typename T>
Result<const T*> mech_param(const CK_MECHANISM& m, bool optional = false) {
  if (m.pParameter == nullptr && m.ulParameterLen == 0 && optional) return static_cast<const T*>(nullptr);
  if (m.pParameter == nullptr || m.ulParameterLen != sizeof(T))
    return make_error(CKR_MECHANISM_PARAM_INVALID, "mechanism parameter missing or of the wrong size");
  return static_cast<const T*>(m.pParameter);
}

// For mechanisms that take no parameter: CKR_MECHANISM_PARAM_INVALID when one is given.
inline Status no_mech_param(const CK_MECHANISM& m) {
  if (m.pParameter != nullptr || m.ulParameterLen != 0)
    return make_error(CKR_MECHANISM_PARAM_INVALID, "this mechanism takes no parameter");
  return {};
}

}  // namespace ferrohsm::mech
