// format=jwk: for every key type, the JWK's numbers rebuild (through OpenSSL's own
// EVP_PKEY_fromdata and raw-key readers) a public key that OpenSSL finds equal to the
// SubjectPublicKeyInfo it came from; EC coordinates have their field's full length.
#include "server/rest/jwk.h"

#include "base/base64.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace ferrohsm::server::rest {
namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bytes spki_of(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  Bytes out(der, der + (n > 0 ? n : 0));
  OPENSSL_free(der);
  return out;
}

Bytes field(const nlohmann::json& j, const char* name) {
  auto b = from_base64url(j.at(name).get<std::string>());
  EXPECT_TRUE(b) << name;
  return b ? Bytes(b->begin(), b->end()) : Bytes{};
}

// The public key the JWK describes, built by OpenSSL from its numbers alone.
Pkey from_jwk(const nlohmann::json& j) {
  Pkey none(nullptr, EVP_PKEY_free);
  const std::string kty = j.at("kty");
  if (kty == "OKP") {
    const std::string crv = j.at("crv");
    const char* name = crv == "Ed25519" ? "ED25519" : crv == "Ed448" ? "ED448" : crv == "X25519" ? "X25519" : "X448";
    Bytes x = field(j, "x");
    return Pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, name, nullptr, x.data(), x.size()), EVP_PKEY_free);
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  BIGNUM *n = nullptr, *e = nullptr;
  Bytes point;
  std::string group;
  if (kty == "RSA") {
    Bytes nb = field(j, "n"), eb = field(j, "e");
    n = BN_bin2bn(nb.data(), static_cast<int>(nb.size()), nullptr);
    e = BN_bin2bn(eb.data(), static_cast<int>(eb.size()), nullptr);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
  } else {
    const std::string crv = j.at("crv");
    group = crv == "P-256" ? "prime256v1" : crv == "P-384" ? "secp384r1" : "secp521r1";
    Bytes x = field(j, "x"), y = field(j, "y");
    point = {0x04};
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, kty == "RSA" ? "RSA" : "EC", nullptr);
  EVP_PKEY* out = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params) != 1)
    out = nullptr;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return Pkey(out, EVP_PKEY_free);
}

struct Case {
  const char* what;
  std::function<EVP_PKEY*()> make;
  const char* kty;
  const char* crv;
  size_t coordinate;  // bytes of x (and y); 0: not checked
};

TEST(RestJwk, EveryTypeRebuildsTheSameKey) {
  const Case cases[] = {
      {"RSA 1024", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}); }, "RSA", nullptr, 0},
      {"P-256", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1"); }, "EC", "P-256", 32},
      {"P-384", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1"); }, "EC", "P-384", 48},
      {"P-521", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp521r1"); }, "EC", "P-521", 66},
      {"Ed25519", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); }, "OKP", "Ed25519", 32},
      {"Ed448", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"); }, "OKP", "Ed448", 57},
      {"X25519", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"); }, "OKP", "X25519", 32},
      {"X448", [] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "X448"); }, "OKP", "X448", 56},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    // P-521 coordinates often have leading zero bytes: several keys make the padding show.
    for (int round = 0; round < (std::string(c.what) == "P-521" ? 8 : 1); ++round) {
      Pkey key(c.make(), EVP_PKEY_free);
      ASSERT_TRUE(key);
      auto j = jwk_from_spki(spki_of(key.get()), "key-id-1");
      ASSERT_TRUE(j.ok()) << j.error().message;
      EXPECT_EQ(j->at("kty"), c.kty);
      EXPECT_EQ(j->at("kid"), "key-id-1");
      if (c.crv != nullptr) {
        EXPECT_EQ(j->at("crv"), c.crv);
      }
      if (c.coordinate != 0) {
        EXPECT_EQ(field(*j, "x").size(), c.coordinate);
        if (std::string(c.kty) == "EC") {
          EXPECT_EQ(field(*j, "y").size(), c.coordinate);
        }
      }
      for (const char* member : {"n", "e", "x", "y"}) {
        if (j->contains(member)) {
          EXPECT_EQ(j->at(member).get<std::string>().find('='), std::string::npos) << member;
        }
      }
      Pkey back = from_jwk(*j);
      ASSERT_TRUE(back) << j->dump();
      EXPECT_EQ(EVP_PKEY_eq(key.get(), back.get()), 1) << j->dump();
    }
  }
}

TEST(RestJwk, RsaNumbersAreMinimalAndMatchOpenSsl) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}), EVP_PKEY_free);
  ASSERT_TRUE(key);
  auto j = jwk_from_spki(spki_of(key.get()), "r");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->at("e"), "AQAB");  // 65537
  BIGNUM* n = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n), 1);
  Bytes want(static_cast<size_t>(BN_num_bytes(n)));
  BN_bn2bin(n, want.data());
  BN_free(n);
  EXPECT_EQ(field(*j, "n"), want);
  EXPECT_EQ(field(*j, "n").size(), 128u);
}

TEST(RestJwk, ACurveWithoutAJwkNameIsRefused) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"), EVP_PKEY_free);
  ASSERT_TRUE(key);
  auto j = jwk_from_spki(spki_of(key.get()), "k");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().rv, static_cast<CK_RV>(CKR_KEY_TYPE_INCONSISTENT));
  Bytes junk = {0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_FALSE(jwk_from_spki(junk, "k").ok());
}

}  // namespace
}  // namespace ferrohsm::server::rest
