#include "wire/mechanism_params.h"

#include <cstddef>
#include <map>

namespace ferrohsm::wire {
namespace {

using K = FieldKind;

// Field helpers: the table below reads like the structures it describes.
#define FH_U(T, f) FieldSpec{K::Ulong, offsetof(T, f)}
#define FH_B(T, f) FieldSpec{K::Bool, offsetof(T, f)}
#define FH_INLINE(T, f) FieldSpec{K::Inline, offsetof(T, f), 0, sizeof(T::f)}
#define FH_BYTES(T, p, len) FieldSpec{K::Bytes, offsetof(T, p), offsetof(T, len)}
#define FH_BYTES_OUT(T, p, len) FieldSpec{K::BytesOut, offsetof(T, p), offsetof(T, len)}

const Layout kUlong{"CK_ULONG", sizeof(CK_ULONG), {FieldSpec{K::Ulong, 0}}};

const Layout kPss{"CK_RSA_PKCS_PSS_PARAMS", sizeof(CK_RSA_PKCS_PSS_PARAMS),
                  {FH_U(CK_RSA_PKCS_PSS_PARAMS, hashAlg), FH_U(CK_RSA_PKCS_PSS_PARAMS, mgf),
                   FH_U(CK_RSA_PKCS_PSS_PARAMS, sLen)}};
const Layout kOaep{"CK_RSA_PKCS_OAEP_PARAMS", sizeof(CK_RSA_PKCS_OAEP_PARAMS),
                   {FH_U(CK_RSA_PKCS_OAEP_PARAMS, hashAlg), FH_U(CK_RSA_PKCS_OAEP_PARAMS, mgf),
                    FH_U(CK_RSA_PKCS_OAEP_PARAMS, source),
                    FH_BYTES(CK_RSA_PKCS_OAEP_PARAMS, pSourceData, ulSourceDataLen)}};
const Layout kEddsa{"CK_EDDSA_PARAMS", sizeof(CK_EDDSA_PARAMS),
                    {FH_B(CK_EDDSA_PARAMS, phFlag), FH_BYTES(CK_EDDSA_PARAMS, pContextData, ulContextDataLen)}};
const Layout kGcm{"CK_GCM_PARAMS", sizeof(CK_GCM_PARAMS),
                  {FH_BYTES(CK_GCM_PARAMS, pIv, ulIvLen), FH_U(CK_GCM_PARAMS, ulIvBits),
                   FH_BYTES(CK_GCM_PARAMS, pAAD, ulAADLen), FH_U(CK_GCM_PARAMS, ulTagBits)}};
const Layout kCcm{"CK_CCM_PARAMS", sizeof(CK_CCM_PARAMS),
                  {FH_U(CK_CCM_PARAMS, ulDataLen), FH_BYTES(CK_CCM_PARAMS, pNonce, ulNonceLen),
                   FH_BYTES(CK_CCM_PARAMS, pAAD, ulAADLen), FH_U(CK_CCM_PARAMS, ulMACLen)}};
const Layout kChacha{"CK_SALSA20_CHACHA20_POLY1305_PARAMS", sizeof(CK_SALSA20_CHACHA20_POLY1305_PARAMS),
                     {FH_BYTES(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pNonce, ulNonceLen),
                      FH_BYTES(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pAAD, ulAADLen)}};
const Layout kCtr{"CK_AES_CTR_PARAMS", sizeof(CK_AES_CTR_PARAMS),
                  {FH_U(CK_AES_CTR_PARAMS, ulCounterBits), FH_INLINE(CK_AES_CTR_PARAMS, cb)}};
const Layout kEcdh{"CK_ECDH1_DERIVE_PARAMS", sizeof(CK_ECDH1_DERIVE_PARAMS),
                   {FH_U(CK_ECDH1_DERIVE_PARAMS, kdf), FH_BYTES(CK_ECDH1_DERIVE_PARAMS, pSharedData, ulSharedDataLen),
                    FH_BYTES(CK_ECDH1_DERIVE_PARAMS, pPublicData, ulPublicDataLen)}};
const Layout kHkdf{"CK_HKDF_PARAMS", sizeof(CK_HKDF_PARAMS),
                   {FH_B(CK_HKDF_PARAMS, bExtract), FH_B(CK_HKDF_PARAMS, bExpand),
                    FH_U(CK_HKDF_PARAMS, prfHashMechanism), FH_U(CK_HKDF_PARAMS, ulSaltType),
                    FH_BYTES(CK_HKDF_PARAMS, pSalt, ulSaltLen), FH_U(CK_HKDF_PARAMS, hSaltKey),
                    FH_BYTES(CK_HKDF_PARAMS, pInfo, ulInfoLen)}};
const Layout kStringData{"CK_KEY_DERIVATION_STRING_DATA", sizeof(CK_KEY_DERIVATION_STRING_DATA),
                         {FH_BYTES(CK_KEY_DERIVATION_STRING_DATA, pData, ulLen)}};
const Layout kAesCbcData{"CK_AES_CBC_ENCRYPT_DATA_PARAMS", sizeof(CK_AES_CBC_ENCRYPT_DATA_PARAMS),
                         {FH_INLINE(CK_AES_CBC_ENCRYPT_DATA_PARAMS, iv),
                          FH_BYTES(CK_AES_CBC_ENCRYPT_DATA_PARAMS, pData, length)}};
const Layout kDesCbcData{"CK_DES_CBC_ENCRYPT_DATA_PARAMS", sizeof(CK_DES_CBC_ENCRYPT_DATA_PARAMS),
                         {FH_INLINE(CK_DES_CBC_ENCRYPT_DATA_PARAMS, iv),
                          FH_BYTES(CK_DES_CBC_ENCRYPT_DATA_PARAMS, pData, length)}};
const Layout kPbkdf2{"CK_PKCS5_PBKD2_PARAMS2", sizeof(CK_PKCS5_PBKD2_PARAMS2),
                     {FH_U(CK_PKCS5_PBKD2_PARAMS2, saltSource),
                      FH_BYTES(CK_PKCS5_PBKD2_PARAMS2, pSaltSourceData, ulSaltSourceDataLen),
                      FH_U(CK_PKCS5_PBKD2_PARAMS2, iterations), FH_U(CK_PKCS5_PBKD2_PARAMS2, prf),
                      FH_BYTES(CK_PKCS5_PBKD2_PARAMS2, pPrfData, ulPrfDataLen),
                      FH_BYTES(CK_PKCS5_PBKD2_PARAMS2, pPassword, ulPasswordLen)}};

// SP 800-108: arrays of data parameters (each a tagged pointer) and of derived keys.
const Layout kCounterFormat{"CK_SP800_108_COUNTER_FORMAT", sizeof(CK_SP800_108_COUNTER_FORMAT),
                            {FH_B(CK_SP800_108_COUNTER_FORMAT, bLittleEndian),
                             FH_U(CK_SP800_108_COUNTER_FORMAT, ulWidthInBits)}};
const Layout kDkmFormat{"CK_SP800_108_DKM_LENGTH_FORMAT", sizeof(CK_SP800_108_DKM_LENGTH_FORMAT),
                        {FH_U(CK_SP800_108_DKM_LENGTH_FORMAT, dkmLengthMethod),
                         FH_B(CK_SP800_108_DKM_LENGTH_FORMAT, bLittleEndian),
                         FH_U(CK_SP800_108_DKM_LENGTH_FORMAT, ulWidthInBits)}};
const Layout* prf_data_value(CK_ULONG type) {
  switch (type) {
    case CK_SP800_108_ITERATION_VARIABLE:
    case CK_SP800_108_OPTIONAL_COUNTER: return &kCounterFormat;
    case CK_SP800_108_DKM_LENGTH: return &kDkmFormat;
    default: return nullptr;  // CK_SP800_108_BYTE_ARRAY and anything else: bytes
  }
}
const Layout kPrfData{"CK_PRF_DATA_PARAM", sizeof(CK_PRF_DATA_PARAM),
                      {FH_U(CK_PRF_DATA_PARAM, type),
                       FieldSpec{K::Tagged, offsetof(CK_PRF_DATA_PARAM, pValue), offsetof(CK_PRF_DATA_PARAM, ulValueLen),
                                 0, false, nullptr, offsetof(CK_PRF_DATA_PARAM, type), prf_data_value}}};
const Layout kDerivedKey{"CK_DERIVED_KEY", sizeof(CK_DERIVED_KEY),
                         {FieldSpec{K::Template, offsetof(CK_DERIVED_KEY, pTemplate), offsetof(CK_DERIVED_KEY, ulAttributeCount)},
                          FieldSpec{K::HandleOut, offsetof(CK_DERIVED_KEY, phKey)}}};
#define FH_ARRAY(T, p, count, sub) FieldSpec{K::Array, offsetof(T, p), offsetof(T, count), 0, false, &sub}
const Layout kSp800Counter{"CK_SP800_108_KDF_PARAMS", sizeof(CK_SP800_108_KDF_PARAMS),
                           {FH_U(CK_SP800_108_KDF_PARAMS, prfType),
                            FH_ARRAY(CK_SP800_108_KDF_PARAMS, pDataParams, ulNumberOfDataParams, kPrfData),
                            FH_ARRAY(CK_SP800_108_KDF_PARAMS, pAdditionalDerivedKeys, ulAdditionalDerivedKeys, kDerivedKey)}};
const Layout kSp800Feedback{
    "CK_SP800_108_FEEDBACK_KDF_PARAMS", sizeof(CK_SP800_108_FEEDBACK_KDF_PARAMS),
    {FH_U(CK_SP800_108_FEEDBACK_KDF_PARAMS, prfType),
     FH_ARRAY(CK_SP800_108_FEEDBACK_KDF_PARAMS, pDataParams, ulNumberOfDataParams, kPrfData),
     FH_BYTES(CK_SP800_108_FEEDBACK_KDF_PARAMS, pIV, ulIVLen),
     FH_ARRAY(CK_SP800_108_FEEDBACK_KDF_PARAMS, pAdditionalDerivedKeys, ulAdditionalDerivedKeys, kDerivedKey)}};

// Per-message parameters: the IV or nonce may be generated, the tag is written on
// encryption — outputs the caller gets back.
const Layout kGcmMessage{"CK_GCM_MESSAGE_PARAMS", sizeof(CK_GCM_MESSAGE_PARAMS),
                         {FH_BYTES_OUT(CK_GCM_MESSAGE_PARAMS, pIv, ulIvLen), FH_U(CK_GCM_MESSAGE_PARAMS, ulIvFixedBits),
                          FH_U(CK_GCM_MESSAGE_PARAMS, ivGenerator),
                          FieldSpec{K::BytesOut, offsetof(CK_GCM_MESSAGE_PARAMS, pTag),
                                    offsetof(CK_GCM_MESSAGE_PARAMS, ulTagBits), 0, true}}};
const Layout kCcmMessage{"CK_CCM_MESSAGE_PARAMS", sizeof(CK_CCM_MESSAGE_PARAMS),
                         {FH_U(CK_CCM_MESSAGE_PARAMS, ulDataLen), FH_BYTES_OUT(CK_CCM_MESSAGE_PARAMS, pNonce, ulNonceLen),
                          FH_U(CK_CCM_MESSAGE_PARAMS, ulNonceFixedBits), FH_U(CK_CCM_MESSAGE_PARAMS, nonceGenerator),
                          FH_BYTES_OUT(CK_CCM_MESSAGE_PARAMS, pMAC, ulMACLen)}};
const Layout kChachaMessage{"CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS", sizeof(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS),
                            {FH_BYTES_OUT(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pNonce, ulNonceLen),
                             FieldSpec{K::FixedOut, offsetof(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pTag), 0, 16}}};

// The info structures.
#define FH_VERSION(T, f) FieldSpec{K::Inline, offsetof(T, f), 0, sizeof(CK_VERSION)}
const Layout kInfo{"CK_INFO", sizeof(CK_INFO),
                   {FH_VERSION(CK_INFO, cryptokiVersion), FH_INLINE(CK_INFO, manufacturerID), FH_U(CK_INFO, flags),
                    FH_INLINE(CK_INFO, libraryDescription), FH_VERSION(CK_INFO, libraryVersion)}};
const Layout kSlotInfo{"CK_SLOT_INFO", sizeof(CK_SLOT_INFO),
                       {FH_INLINE(CK_SLOT_INFO, slotDescription), FH_INLINE(CK_SLOT_INFO, manufacturerID),
                        FH_U(CK_SLOT_INFO, flags), FH_VERSION(CK_SLOT_INFO, hardwareVersion),
                        FH_VERSION(CK_SLOT_INFO, firmwareVersion)}};
const Layout kTokenInfo{
    "CK_TOKEN_INFO", sizeof(CK_TOKEN_INFO),
    {FH_INLINE(CK_TOKEN_INFO, label), FH_INLINE(CK_TOKEN_INFO, manufacturerID), FH_INLINE(CK_TOKEN_INFO, model),
     FH_INLINE(CK_TOKEN_INFO, serialNumber), FH_U(CK_TOKEN_INFO, flags), FH_U(CK_TOKEN_INFO, ulMaxSessionCount),
     FH_U(CK_TOKEN_INFO, ulSessionCount), FH_U(CK_TOKEN_INFO, ulMaxRwSessionCount), FH_U(CK_TOKEN_INFO, ulRwSessionCount),
     FH_U(CK_TOKEN_INFO, ulMaxPinLen), FH_U(CK_TOKEN_INFO, ulMinPinLen), FH_U(CK_TOKEN_INFO, ulTotalPublicMemory),
     FH_U(CK_TOKEN_INFO, ulFreePublicMemory), FH_U(CK_TOKEN_INFO, ulTotalPrivateMemory),
     FH_U(CK_TOKEN_INFO, ulFreePrivateMemory), FH_VERSION(CK_TOKEN_INFO, hardwareVersion),
     FH_VERSION(CK_TOKEN_INFO, firmwareVersion), FH_INLINE(CK_TOKEN_INFO, utcTime)}};
const Layout kSessionInfo{"CK_SESSION_INFO", sizeof(CK_SESSION_INFO),
                          {FH_U(CK_SESSION_INFO, slotID), FH_U(CK_SESSION_INFO, state), FH_U(CK_SESSION_INFO, flags),
                           FH_U(CK_SESSION_INFO, ulDeviceError)}};
const Layout kMechanismInfo{"CK_MECHANISM_INFO", sizeof(CK_MECHANISM_INFO),
                            {FH_U(CK_MECHANISM_INFO, ulMinKeySize), FH_U(CK_MECHANISM_INFO, ulMaxKeySize),
                             FH_U(CK_MECHANISM_INFO, flags)}};

const std::map<CK_MECHANISM_TYPE, ParamSpec>& table() {
  static const std::map<CK_MECHANISM_TYPE, ParamSpec> t = [] {
    std::map<CK_MECHANISM_TYPE, ParamSpec> m;
    auto s = [&](const Layout& l, std::initializer_list<CK_MECHANISM_TYPE> types) {
      for (CK_MECHANISM_TYPE ty : types) m[ty] = ParamSpec{ParamKind::Struct, &l};
    };
    auto bytes = [&](std::initializer_list<CK_MECHANISM_TYPE> types) {
      for (CK_MECHANISM_TYPE ty : types) m[ty] = ParamSpec{ParamKind::Bytes, nullptr};
    };
    s(kPss, {CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
             CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_SHA3_224_RSA_PKCS_PSS, CKM_SHA3_256_RSA_PKCS_PSS,
             CKM_SHA3_384_RSA_PKCS_PSS, CKM_SHA3_512_RSA_PKCS_PSS});
    s(kOaep, {CKM_RSA_PKCS_OAEP});
    s(kEddsa, {CKM_EDDSA});
    s(kGcm, {CKM_AES_GCM});
    s(kCcm, {CKM_AES_CCM});
    s(kChacha, {CKM_CHACHA20_POLY1305});
    s(kCtr, {CKM_AES_CTR});
    s(kEcdh, {CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE});
    s(kHkdf, {CKM_HKDF_DERIVE, CKM_HKDF_DATA});
    s(kStringData, {CKM_CONCATENATE_BASE_AND_DATA, CKM_CONCATENATE_DATA_AND_BASE, CKM_XOR_BASE_AND_DATA,
                    CKM_AES_ECB_ENCRYPT_DATA, CKM_DES3_ECB_ENCRYPT_DATA, CKM_DES_ECB_ENCRYPT_DATA});
    s(kAesCbcData, {CKM_AES_CBC_ENCRYPT_DATA});
    s(kDesCbcData, {CKM_DES3_CBC_ENCRYPT_DATA, CKM_DES_CBC_ENCRYPT_DATA});
    s(kPbkdf2, {CKM_PKCS5_PBKD2});
    s(kSp800Counter, {CKM_SP800_108_COUNTER_KDF, CKM_SP800_108_DOUBLE_PIPELINE_KDF});
    s(kSp800Feedback, {CKM_SP800_108_FEEDBACK_KDF});
    // A CK_ULONG: the MAC length of the _GENERAL forms, a key handle, a bit index.
    s(kUlong, {CKM_MD5_HMAC_GENERAL, CKM_SHA_1_HMAC_GENERAL, CKM_SHA224_HMAC_GENERAL, CKM_SHA256_HMAC_GENERAL,
               CKM_SHA384_HMAC_GENERAL, CKM_SHA512_HMAC_GENERAL, CKM_SHA3_224_HMAC_GENERAL, CKM_SHA3_256_HMAC_GENERAL,
               CKM_SHA3_384_HMAC_GENERAL, CKM_SHA3_512_HMAC_GENERAL, CKM_SHA512_224_HMAC_GENERAL,
               CKM_SHA512_256_HMAC_GENERAL, CKM_AES_MAC_GENERAL, CKM_AES_CMAC_GENERAL, CKM_DES3_MAC_GENERAL,
               CKM_CONCATENATE_BASE_AND_KEY, CKM_EXTRACT_KEY_FROM_KEY});
    // IVs and other plain byte strings.
    bytes({CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTS,
           CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP_KWP, CKM_DES3_CBC, CKM_DES3_CBC_PAD, CKM_DES_CBC,
           CKM_DES_CBC_PAD});
    return m;
  }();
  return t;
}

}  // namespace

ParamSpec mechanism_param(CK_MECHANISM_TYPE type) {
  auto it = table().find(type);
  return it == table().end() ? ParamSpec{} : it->second;
}

ParamSpec message_param(CK_MECHANISM_TYPE type) {
  switch (type) {
    case CKM_AES_GCM: return {ParamKind::Struct, &kGcmMessage};
    case CKM_AES_CCM: return {ParamKind::Struct, &kCcmMessage};
    case CKM_CHACHA20_POLY1305: return {ParamKind::Struct, &kChachaMessage};
    default: return {};  // message-based signing takes no per-message parameter
  }
}

const Layout& info_layout() { return kInfo; }
const Layout& slot_info_layout() { return kSlotInfo; }
const Layout& token_info_layout() { return kTokenInfo; }
const Layout& session_info_layout() { return kSessionInfo; }
const Layout& mechanism_info_layout() { return kMechanismInfo; }

}  // namespace ferrohsm::wire
