#include "core/mech/test_util.h"

#include <set>

namespace ferrohsm::mech::test {
namespace {

std::set<CK_ATTRIBUTE_TYPE> keys_of(const AttrMap& m) {
  std::set<CK_ATTRIBUTE_TYPE> s;
  for (const auto& [t, v] : m) s.insert(t);
  return s;
}

Bytes printable_bytes(std::string_view s) {
  Bytes b(2 + s.size());
  b[0] = 0x13;
  b[1] = static_cast<uint8_t>(s.size());
  std::copy(s.begin(), s.end(), b.begin() + 2);
  return b;
}

TEST(MechKeyGen, RsaTemplateErrors) {
  auto rv = [](AttrMap pub) { return generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, pub).rv(); };
  EXPECT_EQ(rv({}), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(512)}})), CKR_KEY_SIZE_RANGE);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(1023)}})), CKR_KEY_SIZE_RANGE);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(8193)}})), CKR_KEY_SIZE_RANGE);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}, {CKA_PUBLIC_EXPONENT, hex("010000")}})),
            CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}, {CKA_PUBLIC_EXPONENT, hex("01")}})), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(rv(attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}, {CKA_PUBLIC_EXPONENT, hex("00")}})), CKR_ATTRIBUTE_VALUE_INVALID);
  uint8_t junk = 0;
  EXPECT_EQ(entry(CKM_RSA_PKCS_KEY_PAIR_GEN)
                .generate_key_pair(mech(CKM_RSA_PKCS_KEY_PAIR_GEN, junk), attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}}), {})
                .rv(),
            CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechKeyGen, RsaAttributes) {
  auto g = generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN,
                         attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}, {CKA_PUBLIC_EXPONENT, hex("03")}}));
  ASSERT_TRUE(g.ok()) << g.error().message;
  // The material and what follows from it, computed once by the generator (registry.h).
  EXPECT_EQ(keys_of(g->public_attrs), (std::set<CK_ATTRIBUTE_TYPE>{CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT,
                                                                   CKA_MODULUS_BITS, CKA_PUBLIC_KEY_INFO}));
  EXPECT_EQ(keys_of(g->private_attrs),
            (std::set<CK_ATTRIBUTE_TYPE>{CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
                                         CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
                                         CKA_PUBLIC_KEY_INFO}));
  EXPECT_EQ(g->public_attrs.get_ulong(CKA_MODULUS_BITS), 2048u);
  EXPECT_EQ(g->public_attrs.get_ulong(CKA_KEY_TYPE), CKK_RSA);
  EXPECT_EQ(to_hex(g->public_attrs.view(CKA_PUBLIC_EXPONENT)), "03");
  EXPECT_EQ(g->public_attrs.view(CKA_MODULUS).size(), 256u);
  EXPECT_EQ(g->public_attrs.view(CKA_MODULUS)[0] & 0x80, 0x80);
  Pair k = pair_from(g);
  ASSERT_TRUE(k.pub && k.priv);
  EXPECT_EQ(k.pub->bits, 2048u);
  auto sig = sign(mech(CKM_SHA256_RSA_PKCS), k.priv, text("e = 3"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, text("e = 3"), *sig).ok());
  // The default exponent is 65537.
  EXPECT_EQ(to_hex(rsa2048().priv ? public_attributes_of(*rsa2048().priv)->view(CKA_PUBLIC_EXPONENT) : ByteView{}), "010001");
}

TEST(MechKeyGen, EcCurvesAndAttributes) {
  struct {
    Bytes params;
    size_t value_len, point_len;
  } cases[] = {{hex(kP256), 32, 65}, {printable_bytes("secp384r1"), 48, 97}, {hex(kP521), 66, 133}, {printable_bytes("prime256v1"), 32, 65}};
  for (const auto& c : cases) {
    auto g = generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, c.params}}));
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(keys_of(g->public_attrs),
              (std::set<CK_ATTRIBUTE_TYPE>{CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_PUBLIC_KEY_INFO}));
    EXPECT_EQ(keys_of(g->private_attrs), (std::set<CK_ATTRIBUTE_TYPE>{CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_VALUE,
                                                                      CKA_EC_POINT, CKA_PUBLIC_KEY_INFO}));
    EXPECT_EQ(to_bytes(g->public_attrs.view(CKA_EC_PARAMS)), c.params);  // the caller's encoding
    EXPECT_EQ(to_bytes(g->private_attrs.view(CKA_EC_PARAMS)), c.params);
    EXPECT_EQ(g->private_attrs.view(CKA_VALUE).size(), c.value_len);
    ByteView point = g->public_attrs.view(CKA_EC_POINT);
    ASSERT_EQ(point.size(), c.point_len + (c.point_len < 128 ? 2 : 3));
    EXPECT_EQ(point[0], 0x04);
    EXPECT_EQ(point[point.size() - c.point_len], 0x04);  // uncompressed
    Pair k = pair_from(g);
    ASSERT_TRUE(k.pub && k.priv);
    auto sig = sign(mech(CKM_ECDSA_SHA256), k.priv, text("m"));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(verify(mech(CKM_ECDSA_SHA256), k.pub, text("m"), *sig).ok());
  }
}

TEST(MechKeyGen, EcTemplateErrors) {
  auto rv = [](CK_MECHANISM_TYPE t, AttrMap pub) { return generate_pair(t, pub).rv(); };
  for (CK_MECHANISM_TYPE t : {CKM_EC_KEY_PAIR_GEN, CKM_EC_EDWARDS_KEY_PAIR_GEN}) {
    EXPECT_EQ(rv(t, {}), CKR_TEMPLATE_INCOMPLETE);
    EXPECT_EQ(rv(t, attrs({{CKA_EC_PARAMS, hex("06052b81040021")}})), CKR_CURVE_NOT_SUPPORTED);  // secp224r1
    EXPECT_EQ(rv(t, attrs({{CKA_EC_PARAMS, hex("0605")}})), CKR_ATTRIBUTE_VALUE_INVALID);
  }
  // The private template's CKA_EC_PARAMS is not where the curve is read.
  EXPECT_EQ(generate_pair(CKM_EC_KEY_PAIR_GEN, {}, attrs({{CKA_EC_PARAMS, hex(kP256)}})).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(rv(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kEd25519)}})), CKR_CURVE_NOT_SUPPORTED);
  EXPECT_EQ(rv(CKM_EC_EDWARDS_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})), CKR_CURVE_NOT_SUPPORTED);
}

TEST(MechKeyGen, EdwardsAttributes) {
  for (auto [params, len] : {std::pair{hex(kEd25519), 32u}, std::pair{printable_bytes("edwards448"), 57u},
                             std::pair{printable_bytes("Ed448"), 57u}}) {
    auto g = generate_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, params}}));
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(g->private_attrs.get_ulong(CKA_KEY_TYPE), CKK_EC_EDWARDS);
    EXPECT_EQ(to_bytes(g->public_attrs.view(CKA_EC_PARAMS)), params);
    EXPECT_EQ(g->private_attrs.view(CKA_VALUE).size(), len);
    ByteView point = g->public_attrs.view(CKA_EC_POINT);
    ASSERT_EQ(point.size(), len + 2);
    EXPECT_EQ(point[0], 0x04);
    EXPECT_EQ(point[1], len);
    Pair k = pair_from(g);
    ASSERT_TRUE(k.pub && k.priv);
    EXPECT_EQ(k.priv->bits, len == 32 ? 255u : 448u);
  }
}

TEST(MechKeyGen, SecretKeys) {
  auto gen = [](CK_MECHANISM_TYPE t, AttrMap tmpl) { return entry(t).generate_key(mech(t), tmpl); };
  for (CK_ULONG len : {16, 24, 32}) {
    auto a = gen(CKM_AES_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(len)}}));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(keys_of(*a), (std::set<CK_ATTRIBUTE_TYPE>{CKA_KEY_TYPE, CKA_VALUE, CKA_VALUE_LEN}));
    EXPECT_EQ(a->get_ulong(CKA_KEY_TYPE), CKK_AES);
    EXPECT_EQ(a->view(CKA_VALUE).size(), len);
    EXPECT_EQ(a->get_ulong(CKA_VALUE_LEN), len);
    auto b = gen(CKM_AES_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(len)}}));
    ASSERT_TRUE(b.ok());
    EXPECT_NE(to_bytes(a->view(CKA_VALUE)), to_bytes(b->view(CKA_VALUE)));
    KeyPtr key = must_key(key_from_attributes(CKO_SECRET_KEY, *a));
    ASSERT_TRUE(key);
    EXPECT_EQ(key->bits, len);
  }
  EXPECT_EQ(gen(CKM_AES_KEY_GEN, {}).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(gen(CKM_AES_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(20)}})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(gen(CKM_AES_KEY_GEN, attrs({{CKA_VALUE_LEN, hex("10")}})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  for (CK_ULONG len : {1, 64, 512}) {
    auto g = gen(CKM_GENERIC_SECRET_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(len)}}));
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->get_ulong(CKA_KEY_TYPE), CKK_GENERIC_SECRET);
    EXPECT_EQ(g->view(CKA_VALUE).size(), len);
  }
  EXPECT_EQ(gen(CKM_GENERIC_SECRET_KEY_GEN, {}).rv(), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(gen(CKM_GENERIC_SECRET_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(0)}})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  EXPECT_EQ(gen(CKM_GENERIC_SECRET_KEY_GEN, attrs({{CKA_VALUE_LEN, ulong_bytes(513)}})).rv(), CKR_ATTRIBUTE_VALUE_INVALID);
  uint8_t junk = 0;
  EXPECT_EQ(entry(CKM_AES_KEY_GEN).generate_key(mech(CKM_AES_KEY_GEN, junk), attrs({{CKA_VALUE_LEN, ulong_bytes(16)}})).rv(),
            CKR_MECHANISM_PARAM_INVALID);
}

}  // namespace
}  // namespace ferrohsm::mech::test
