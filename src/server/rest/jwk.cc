#include "server/rest/jwk.h"

#include "base/base64.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace ferrohsm::server::rest {
namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Error unsupported(const std::string& what) {
  return make_error(CKR_KEY_TYPE_INCONSISTENT, "a JWK has no form for " + what + ": use format=pem or der");
}

// A big number parameter as base64url, left-padded with zeros to `width` bytes (0: its
// own minimal length, as RFC 7518 wants for RSA's n and e).
Result<std::string> bn_param(const EVP_PKEY* k, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return make_error(CKR_GENERAL_ERROR, std::string("no ") + name + " in the key");
  const int n = width > 0 ? width : BN_num_bytes(bn);
  Bytes out(static_cast<size_t>(n > 0 ? n : 1));
  const int written = BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_free(bn);
  if (written < 0) return make_error(CKR_GENERAL_ERROR, std::string(name) + " is longer than its curve's field");
  return to_base64url(out);
}

struct Curve {
  const char* ossl;
  const char* jwk;
  int bytes;  // of a coordinate
};
constexpr Curve kCurves[] = {{"prime256v1", "P-256", 32}, {"secp384r1", "P-384", 48}, {"secp521r1", "P-521", 66}};

struct Okp {
  const char* ossl;
  const char* jwk;
};
constexpr Okp kOkp[] = {{"ED25519", "Ed25519"}, {"ED448", "Ed448"}, {"X25519", "X25519"}, {"X448", "X448"}};

}  // namespace

Result<nlohmann::json> jwk_from_spki(ByteView spki, const std::string& kid) {
  const unsigned char* p = spki.data();
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())), EVP_PKEY_free);
  if (!key) return make_error(CKR_GENERAL_ERROR, "the key's SubjectPublicKeyInfo does not parse");
  nlohmann::json j;
  if (EVP_PKEY_is_a(key.get(), "RSA") || EVP_PKEY_is_a(key.get(), "RSA-PSS")) {
    j["kty"] = "RSA";
    FH_ASSIGN_OR_RETURN(std::string n, bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, 0));
    FH_ASSIGN_OR_RETURN(std::string e, bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, 0));
    j["n"] = n;
    j["e"] = e;
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {};
    if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1)
      return unsupported("an EC key with explicit curve parameters");
    const Curve* c = nullptr;
    for (const Curve& x : kCurves)
      if (std::string(group) == x.ossl) c = &x;
    if (c == nullptr) return unsupported(std::string("the curve ") + group);
    j["kty"] = "EC";
    j["crv"] = c->jwk;
    FH_ASSIGN_OR_RETURN(std::string x, bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, c->bytes));
    FH_ASSIGN_OR_RETURN(std::string y, bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, c->bytes));
    j["x"] = x;
    j["y"] = y;
  } else {
    const Okp* o = nullptr;
    for (const Okp& x : kOkp)
      if (EVP_PKEY_is_a(key.get(), x.ossl)) o = &x;
    if (o == nullptr) return unsupported(std::string("a ") + EVP_PKEY_get0_type_name(key.get()) + " key");
    size_t len = 0;
    if (EVP_PKEY_get_raw_public_key(key.get(), nullptr, &len) != 1) return make_error(CKR_GENERAL_ERROR, "no raw public key");
    Bytes raw(len);
    if (EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &len) != 1)
      return make_error(CKR_GENERAL_ERROR, "no raw public key");
    raw.resize(len);
    j["kty"] = "OKP";
    j["crv"] = o->jwk;
    j["x"] = to_base64url(raw);
  }
  j["kid"] = kid;
  return j;
}

}  // namespace ferrohsm::server::rest
