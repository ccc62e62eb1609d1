// Empty inputs are valid data for every mechanism that accepts them.
#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

TEST(MechEmptyInput, SignaturesOverEmptyData) {
  struct {
    CK_MECHANISM m;
    KeyPtr priv, pub;
  } cases[] = {
      {mech(CKM_ECDSA), ec_pair(kP256).priv, ec_pair(kP256).pub},
      {mech(CKM_ECDSA_SHA256), ec_pair(kP521).priv, ec_pair(kP521).pub},
      {mech(CKM_RSA_PKCS), rsa2048().priv, rsa2048().pub},
      {mech(CKM_SHA256_RSA_PKCS), rsa2048().priv, rsa2048().pub},
      {mech(CKM_SHA256_HMAC), secret_key(CKK_GENERIC_SECRET, Bytes(16, 1)), secret_key(CKK_GENERIC_SECRET, Bytes(16, 1))},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.m.mechanism);
    auto sig = sign(c.m, c.priv, {});
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(verify(c.m, c.pub, {}, *sig).ok());
    EXPECT_EQ(verify(c.m, c.pub, text("x"), *sig).rv(), CKR_SIGNATURE_INVALID);
  }
}

TEST(MechEmptyInput, GcmAndDigestOfNothing) {
  // NIST GCM test case 1: zero key, zero IV, empty plaintext.
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 0));
  Bytes iv(12, 0);
  CK_GCM_PARAMS p{iv.data(), iv.size(), 96, nullptr, 0, 128};
  CK_MECHANISM m{CKM_AES_GCM, &p, sizeof p};
  auto enc = entry(CKM_AES_GCM).encrypt(m, key);
  ASSERT_TRUE(enc.ok());
  Bytes tag((*enc)->one_shot_size(0));
  auto n = (*enc)->one_shot({}, tag);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(to_hex(tag), "58e2fccefa7e3061367f1d57a4e7455a");
  auto dec = entry(CKM_AES_GCM).decrypt(m, key);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ((*dec)->one_shot_size(tag.size()), 0u);
  Bytes none;
  auto k = (*dec)->one_shot(tag, none);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(*k, 0u);

  auto d = entry(CKM_SHA256).digest(mech(CKM_SHA256));
  ASSERT_TRUE(d.ok());
  Bytes out(32);
  ASSERT_TRUE((*d)->digest({}, out).ok());
  EXPECT_EQ(to_hex(out), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace ferrohsm::mech::test
