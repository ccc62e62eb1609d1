#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

// RFC 8032 section 7.1 test 1 (Ed25519) and section 7.4 "Blank" (Ed448); both sign the empty message.
const char* kEd25519Secret = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* kEd25519Sig =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
    "655141438e7a100b";
const char* kEd448Secret =
    "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f9"
    "5b";
const char* kEd448Public =
    "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe82561"
    "80";
const char* kEd448Sig =
    "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd39"
    "80ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e"
    "652600";

KeyPtr ed_private(std::string_view oid, const char* secret) {
  return must_key(key_from_attributes(
      CKO_PRIVATE_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, hex(oid)}, {CKA_VALUE, hex(secret)}})));
}

KeyPtr ed_public(std::string_view oid, ByteView point) {
  return must_key(key_from_attributes(
      CKO_PUBLIC_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(CKK_EC_EDWARDS)}, {CKA_EC_PARAMS, hex(oid)}, {CKA_EC_POINT, to_bytes(point)}})));
}

TEST(MechEddsa, Rfc8032KnownAnswers) {
  KeyPtr k25519 = ed_private(kEd25519, kEd25519Secret);
  auto sig = sign(mech(CKM_EDDSA), k25519, {});
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(to_hex(*sig), kEd25519Sig);
  EXPECT_TRUE(verify(mech(CKM_EDDSA), k25519, {}, *sig).ok());

  KeyPtr k448 = ed_private(kEd448, kEd448Secret);
  auto sig448 = sign(mech(CKM_EDDSA), k448, {});
  ASSERT_TRUE(sig448.ok()) << sig448.error().message;
  EXPECT_EQ(to_hex(*sig448), kEd448Sig);
  KeyPtr pub448 = ed_public(kEd448, hex(kEd448Public));
  EXPECT_TRUE(verify(mech(CKM_EDDSA), pub448, {}, *sig448).ok());
  EXPECT_EQ(verify(mech(CKM_EDDSA), pub448, text("x"), *sig448).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechEddsa, WycheproofEd448KnownAnswer) {
  // ed448_test.json tcId 1: empty message.
  KeyPtr pub = ed_public(kEd448, der_octet(hex("419610a534af127f583b04818cdb7f0ff300b025f2e01682bcae33fd691cee039511df0"
                                                "cddc690ee978426e8b38e50ce5af7dcfba50f704c00")));
  ASSERT_TRUE(pub);
  Bytes sig = hex(
      "cf7953007666e12f73af9ec92e3e018da5ee5a8d5b17f5100a354c58f1d5f4bb37ab835c52f72374c72d612689149cf6d36a70db6dc5a6c4"
      "00b597348e0e31e51e65bb144e63c892a367b4c055c036aa6cd7e728cdd2a098963bda863903e6dd025b5a5d891209f4e28537694804e5"
      "0b0800");
  EXPECT_TRUE(verify(mech(CKM_EDDSA), pub, {}, sig).ok());
  sig[0] ^= 1;
  EXPECT_EQ(verify(mech(CKM_EDDSA), pub, {}, sig).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechEddsa, GeneratedKeysRoundTrip) {
  for (auto [oid, size] : {std::pair{kEd25519, 64u}, std::pair{kEd448, 114u}}) {
    Pair k = pair_from(generate_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(oid)}})));
    ASSERT_TRUE(k.priv && k.pub);
    Bytes msg(1000, 0x33);
    auto sig = sign(mech(CKM_EDDSA), k.priv, msg);
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), size);
    EXPECT_TRUE(verify(mech(CKM_EDDSA), k.pub, msg, *sig).ok());
    msg[999] ^= 1;
    EXPECT_EQ(verify(mech(CKM_EDDSA), k.pub, msg, *sig).rv(), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify(mech(CKM_EDDSA), k.pub, msg, ByteView(*sig).first(size - 1)).rv(), CKR_SIGNATURE_LEN_RANGE);
  }
}

TEST(MechEddsa, Parameters) {
  KeyPtr key = ed_private(kEd25519, kEd25519Secret);
  CK_EDDSA_PARAMS pure{CK_FALSE, 0, nullptr};
  auto sig = sign(mech(CKM_EDDSA, pure), key, {});
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(to_hex(*sig), kEd25519Sig);  // same as no parameter
  const Entry& e = entry(CKM_EDDSA);
  CK_EDDSA_PARAMS ph{CK_TRUE, 0, nullptr};
  EXPECT_EQ(e.sign(mech(CKM_EDDSA, ph), key).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(e.verify(mech(CKM_EDDSA, ph), key).rv(), CKR_MECHANISM_PARAM_INVALID);
  uint8_t ctx[] = {'f', 'o', 'o'};
  CK_EDDSA_PARAMS with_ctx{CK_FALSE, sizeof ctx, ctx};
  EXPECT_EQ(e.sign(mech(CKM_EDDSA, with_ctx), ed_private(kEd448, kEd448Secret)).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(e.sign(CK_MECHANISM{CKM_EDDSA, &pure, sizeof pure - 1}, key).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechEddsa, Errors) {
  KeyPtr key = ed_private(kEd25519, kEd25519Secret);
  const Entry& e = entry(CKM_EDDSA);
  auto pub = public_attributes_of(*key);
  ASSERT_TRUE(pub.ok());
  KeyPtr pk = ed_public(kEd25519, pub->view(CKA_EC_POINT));
  EXPECT_EQ(e.sign(mech(CKM_EDDSA), pk).rv(), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(e.sign(mech(CKM_EDDSA), ec_pair(kP256).priv).rv(), CKR_KEY_TYPE_INCONSISTENT);
  auto op = e.sign(mech(CKM_EDDSA), key);
  ASSERT_TRUE(op.ok());
  EXPECT_FALSE((*op)->multipart());
  EXPECT_EQ((*op)->signature_size(), 64u);
  EXPECT_EQ((*op)->update(text("x")).rv(), CKR_FUNCTION_NOT_SUPPORTED);
  auto vop = e.verify(mech(CKM_EDDSA), pk);
  ASSERT_TRUE(vop.ok());
  EXPECT_EQ((*vop)->final(Bytes(64)).rv(), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(e.info.ulMinKeySize, 255u);
  EXPECT_EQ(e.info.ulMaxKeySize, 448u);
  EXPECT_EQ(e.info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
}

}  // namespace
}  // namespace ferrohsm::mech::test
