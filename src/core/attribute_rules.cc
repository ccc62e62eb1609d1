#include "core/attribute_rules.h"

#include <map>
#include <mutex>

namespace ferrohsm {
namespace {

using R = std::vector<AttrRule>;
constexpr unsigned M = kModifiable;

const R kStorage = {
    {CKA_CLASS, kReqCreate, Default::None},
    {CKA_TOKEN, kCopyMay, Default::False},
    {CKA_PRIVATE, kCopyMay, Default::False},
    {CKA_MODIFIABLE, kCopyMay | kOnlyToFalse, Default::True},
    {CKA_LABEL, M, Default::Empty},
    {CKA_COPYABLE, kCopyMay | kOnlyToFalse, Default::True},
    {CKA_DESTROYABLE, kCopyMay | kOnlyToFalse, Default::True},
    {CKA_UNIQUE_ID, kReadOnly, Default::None},
};

const R kData = {
    {CKA_APPLICATION, M, Default::Empty},
    {CKA_OBJECT_ID, M, Default::Empty},
    {CKA_VALUE, M, Default::Empty},
};

const R kCertificate = {
    {CKA_CERTIFICATE_TYPE, kReqCreate, Default::None},
    {CKA_TRUSTED, kSoOnly, Default::False},
    {CKA_CERTIFICATE_CATEGORY, 0, Default::Zero},
    {CKA_CHECK_VALUE, kReadOnly, Default::None},
    {CKA_START_DATE, M, Default::Empty},
    {CKA_END_DATE, M, Default::Empty},
    {CKA_PUBLIC_KEY_INFO, 0, Default::Empty},
};

const R kX509 = {
    {CKA_SUBJECT, kReqCreate, Default::None},
    {CKA_ID, M, Default::Empty},
    {CKA_ISSUER, M, Default::Empty},
    {CKA_SERIAL_NUMBER, M, Default::Empty},
    {CKA_VALUE, kReqCreate, Default::None},
    {CKA_URL, 0, Default::Empty},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, 0, Default::Empty},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, 0, Default::Empty},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, 0, Default::Zero},
    {CKA_NAME_HASH_ALGORITHM, 0, Default::None},
};

const R kKey = {
    {CKA_KEY_TYPE, kReqCreate, Default::None},
    {CKA_ID, M, Default::Empty},
    {CKA_START_DATE, M, Default::Empty},
    {CKA_END_DATE, M, Default::Empty},
    {CKA_DERIVE, M, Default::False},
    {CKA_LOCAL, kReadOnly, Default::None},
    {CKA_KEY_GEN_MECHANISM, kReadOnly, Default::None},
    {CKA_ALLOWED_MECHANISMS, 0, Default::Empty},
};

const R kPublicKey = {
    {CKA_SUBJECT, M, Default::Empty},
    {CKA_ENCRYPT, M, Default::True},
    {CKA_VERIFY, M, Default::True},
    {CKA_VERIFY_RECOVER, M, Default::True},
    {CKA_WRAP, M, Default::True},
    {CKA_TRUSTED, kSoOnly, Default::False},
    {CKA_PUBLIC_KEY_INFO, 0, Default::None},
    {CKA_WRAP_TEMPLATE, 0, Default::Empty},
};

const R kPrivateKey = {
    {CKA_PRIVATE, kCopyMay, Default::True},  // key material is private unless the caller says otherwise
    {CKA_SUBJECT, M, Default::Empty},
    {CKA_SENSITIVE, M | kOnlyToTrue, Default::True},
    {CKA_DECRYPT, M, Default::True},
    {CKA_SIGN, M, Default::True},
    {CKA_SIGN_RECOVER, M, Default::True},
    {CKA_UNWRAP, M, Default::True},
    {CKA_EXTRACTABLE, M | kOnlyToFalse, Default::False},
    {CKA_ALWAYS_SENSITIVE, kReadOnly, Default::None},
    {CKA_NEVER_EXTRACTABLE, kReadOnly, Default::None},
    {CKA_WRAP_WITH_TRUSTED, M | kOnlyToTrue, Default::False},
    {CKA_ALWAYS_AUTHENTICATE, 0, Default::False},
    {CKA_PUBLIC_KEY_INFO, 0, Default::None},
    {CKA_UNWRAP_TEMPLATE, 0, Default::Empty},
    {CKA_DERIVE_TEMPLATE, 0, Default::Empty},
};

const R kSecretKey = {
    {CKA_PRIVATE, kCopyMay, Default::True},
    {CKA_SENSITIVE, M | kOnlyToTrue, Default::True},
    {CKA_ENCRYPT, M, Default::True},
    {CKA_DECRYPT, M, Default::True},
    {CKA_SIGN, M, Default::True},
    {CKA_VERIFY, M, Default::True},
    {CKA_WRAP, M, Default::True},
    {CKA_UNWRAP, M, Default::True},
    {CKA_EXTRACTABLE, M | kOnlyToFalse, Default::False},
    {CKA_ALWAYS_SENSITIVE, kReadOnly, Default::None},
    {CKA_NEVER_EXTRACTABLE, kReadOnly, Default::None},
    {CKA_CHECK_VALUE, kReadOnly, Default::None},
    {CKA_WRAP_WITH_TRUSTED, M | kOnlyToTrue, Default::False},
    {CKA_TRUSTED, kSoOnly, Default::False},
    {CKA_WRAP_TEMPLATE, 0, Default::Empty},
    {CKA_UNWRAP_TEMPLATE, 0, Default::Empty},
    {CKA_DERIVE_TEMPLATE, 0, Default::Empty},
};

const R kRsaPublic = {
    {CKA_MODULUS, kReqCreate | kNoGen, Default::None},
    {CKA_MODULUS_BITS, kReqGen | kReadOnly, Default::None},
    {CKA_PUBLIC_EXPONENT, kReqCreate, Default::None},
};
const R kRsaPrivate = {
    {CKA_MODULUS, kReqCreate | kNoGen, Default::None},
    {CKA_PUBLIC_EXPONENT, kNoGen, Default::None},
    {CKA_PRIVATE_EXPONENT, kReqCreate | kNoGen | kSensitive, Default::None},
    {CKA_PRIME_1, kNoGen | kSensitive, Default::None},
    {CKA_PRIME_2, kNoGen | kSensitive, Default::None},
    {CKA_EXPONENT_1, kNoGen | kSensitive, Default::None},
    {CKA_EXPONENT_2, kNoGen | kSensitive, Default::None},
    {CKA_COEFFICIENT, kNoGen | kSensitive, Default::None},
};
// EC, Edwards and Montgomery keys share one shape.
const R kEcPublic = {
    {CKA_EC_PARAMS, kReqCreate | kReqGen, Default::None},
    {CKA_EC_POINT, kReqCreate | kNoGen, Default::None},
};
const R kEcPrivate = {
    {CKA_EC_PARAMS, kReqCreate, Default::None},
    {CKA_EC_POINT, kNoGen, Default::None},  // not in 3.0's table: FerroHSM adds the public point, as clients expect
    {CKA_VALUE, kReqCreate | kNoGen | kSensitive, Default::None},
};
const R kSecretValue = {
    {CKA_VALUE, kReqCreate | kNoGen | kSensitive, Default::None},
    {CKA_VALUE_LEN, kReadOnly | kReqGen, Default::None},  // set from the value; given on generate
};

R concat(std::initializer_list<const R*> parts) {
  R out;
  for (const R* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

}  // namespace

const std::vector<AttrRule>* rules_for(CK_OBJECT_CLASS cls, CK_ULONG subtype) {
  static const std::map<std::pair<CK_OBJECT_CLASS, CK_ULONG>, R> table = [] {
    std::map<std::pair<CK_OBJECT_CLASS, CK_ULONG>, R> t;
    t[{CKO_DATA, 0}] = concat({&kStorage, &kData});
    t[{CKO_CERTIFICATE, CKC_X_509}] = concat({&kStorage, &kCertificate, &kX509});
    t[{CKO_PUBLIC_KEY, CKK_RSA}] = concat({&kStorage, &kKey, &kPublicKey, &kRsaPublic});
    t[{CKO_PRIVATE_KEY, CKK_RSA}] = concat({&kStorage, &kKey, &kPrivateKey, &kRsaPrivate});
    for (CK_KEY_TYPE kt : {CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY}) {
      t[{CKO_PUBLIC_KEY, kt}] = concat({&kStorage, &kKey, &kPublicKey, &kEcPublic});
      t[{CKO_PRIVATE_KEY, kt}] = concat({&kStorage, &kKey, &kPrivateKey, &kEcPrivate});
    }
    for (CK_KEY_TYPE kt : {CKK_AES, CKK_GENERIC_SECRET, CKK_DES, CKK_DES2, CKK_DES3, CKK_CHACHA20, CKK_HKDF,
                           CKK_SHA_1_HMAC, CKK_SHA224_HMAC, CKK_SHA256_HMAC, CKK_SHA384_HMAC, CKK_SHA512_HMAC,
                           CKK_SHA3_224_HMAC, CKK_SHA3_256_HMAC, CKK_SHA3_384_HMAC, CKK_SHA3_512_HMAC})
      t[{CKO_SECRET_KEY, kt}] = concat({&kStorage, &kKey, &kSecretKey, &kSecretValue});
    return t;
  }();
  auto it = table.find({cls, cls == CKO_DATA ? 0 : subtype});
  return it == table.end() ? nullptr : &it->second;
}

const AttrRule* find_rule(const std::vector<AttrRule>& rules, CK_ATTRIBUTE_TYPE t) {
  const AttrRule* found = nullptr;
  for (const AttrRule& r : rules)
    if (r.type == t) found = &r;  // later (more specific) entries win
  return found;
}

}  // namespace ferrohsm
