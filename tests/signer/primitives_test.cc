// Value types, encodings, HKDF and Ed25519 against published vectors.
#include <gtest/gtest.h>

#include <set>

#include "base/bytes.h"
#include "ferrohsm/signer/ed25519.h"
#include "base/base64.h"
#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/hkdf.h"
#include "ferrohsm/signer/scope.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {
namespace {

TEST(ScopeAndKeyId, AcceptOneCanonicalForm) {
  for (std::string_view ok : std::initializer_list<std::string_view>{"a", "payments", "tenant-1.prod_eu", "0abc", ("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01")}) {
    auto s = Scope::parse(ok);
    ASSERT_TRUE(s) << ok;
    EXPECT_EQ(s->str(), ok);
    ASSERT_TRUE(KeyId::parse(ok)) << ok;
  }
}

TEST(ScopeAndKeyId, RejectWithAReason) {
  struct Case {
    std::string_view text, reason;
  } cases[] = {{"", "empty"},
               {"Payments", "must start"},
               {"pAyments", "may contain only"},
               {"a|b", "may contain only"},
               {"a:b", "may contain only"},
               {"a/b", "may contain only"},
               {"-a", "must start"},
               {".a", "must start"},
               {"a b", "may contain only"},
               {"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012", "longer than 64"}};
  for (const auto& c : cases) {
    auto s = Scope::parse(c.text);
    ASSERT_FALSE(s) << c.text;
    EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_NE(s.error().message.find(c.reason), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("scope"), std::string::npos);
    auto k = KeyId::parse(c.text);
    ASSERT_FALSE(k);
    EXPECT_NE(k.error().message.find("key_id"), std::string::npos);
  }
}

TEST(Encoding, RoundTrips) {
  std::vector<std::uint8_t> bytes = {0x00, 0xff, 0x10, 0xfb, 0xef};
  // Hex is base's (base/bytes.h): what the API's *_hex fields rely on.
  EXPECT_EQ(to_hex(bytes), "00ff10fbef");
  Bytes parsed;
  EXPECT_TRUE(from_hex("00FF10fbef", parsed));
  EXPECT_EQ(parsed, bytes);
  EXPECT_FALSE(from_hex("0", parsed));
  EXPECT_FALSE(from_hex("zz", parsed));
  EXPECT_EQ(to_base64(bytes), "AP8Q++8=");
  EXPECT_EQ(*from_base64("AP8Q++8="), bytes);
  EXPECT_EQ(to_base64url(bytes), "AP8Q--8");
  EXPECT_FALSE(from_base64("AP8Q++8"));
  EXPECT_FALSE(from_base64("AP8Q-_8="));
  for (std::size_t n = 0; n < 8; ++n) {
    std::vector<std::uint8_t> v(n, 0xa5);
    EXPECT_EQ(*from_base64(to_base64(v)), v) << n;
  }
}

TEST(Hkdf, MatchesHmacConstruction) {
  std::vector<std::uint8_t> key(32, 0x42);
  auto out = hkdf_sha512_32(key, "payments|k1");
  ASSERT_TRUE(out);
  auto ref = reference_hkdf_sha512_32(key, "payments|k1");
  EXPECT_TRUE(std::equal(ref.begin(), ref.end(), out->span().begin()));
  auto other = hkdf_sha512_32(key, "payments|k2");
  ASSERT_TRUE(other);
  EXPECT_FALSE(std::equal(ref.begin(), ref.end(), other->span().begin()));
}

struct Rfc8032Vector {
  std::string_view secret, public_key, message, signature;
};
// RFC 8032 §7.1 TEST 1, 2, 3 and SHA(abc).
constexpr Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

TEST(Ed25519, Rfc8032Vectors) {
  for (const auto& v : kVectors) {
    auto secret = unhex(v.secret);
    auto key = ed25519::from_private_seed(std::span<const std::uint8_t, 32>(secret.data(), 32));
    ASSERT_TRUE(key);
    auto pub = ed25519::public_of(*key);
    ASSERT_TRUE(pub);
    EXPECT_EQ(to_hex(*pub), v.public_key);
    auto msg = unhex(v.message);
    auto sig = ed25519::sign(*key, msg);
    ASSERT_TRUE(sig);
    EXPECT_EQ(to_hex(*sig), v.signature);
    EXPECT_TRUE(ed25519::verify(*pub, msg, *sig));
    auto bad = *sig;
    bad[5] ^= 1;
    EXPECT_FALSE(ed25519::verify(*pub, msg, bad));
  }
  // SHA(abc)'s message is the SHA-512 digest of "abc": the signer's digest case.
  EXPECT_EQ(to_hex(sha512_of("abc")), kVectors[3].message);
}

TEST(Ed25519, PublicPemIsSpki) {
  auto secret = unhex(kVectors[0].secret);
  auto key = ed25519::from_private_seed(std::span<const std::uint8_t, 32>(secret.data(), 32));
  auto pem = ed25519::public_pem(*ed25519::public_of(*key));
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  // SPKI of an Ed25519 key: 302a300506032b6570032100 || key, base64 of which starts "MCowBQYDK2VwAyEA".
  EXPECT_NE(pem.find("MCowBQYDK2VwAyEA"), std::string::npos);
}

TEST(Errors, EveryKindHasADistinctName) {
  std::set<std::string_view> names;
  for (int k = 0; k <= static_cast<int>(ErrorKind::kInternal); ++k)
    names.insert(error_kind_name(static_cast<ErrorKind>(k)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(ErrorKind::kInternal) + 1);
  EXPECT_EQ(error_kind_name(ErrorKind::kKeyNotFound), "key_not_found");
  EXPECT_EQ(error_kind_name(ErrorKind::kProviderUnavailable), "provider_unavailable");
}

}  // namespace
}  // namespace ferrohsm::signer::testing
