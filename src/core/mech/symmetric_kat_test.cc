// Known answers for the symmetric families: AES-CTR (SP 800-38A F.5.1), AES-CCM
// (SP 800-38C example 1), AES-CMAC (SP 800-38B / RFC 4493), CBC-MAC, AES-CTS,
// AES-KW (RFC 3394 4.1), AES-KWP (RFC 5649), AES_KEY_WRAP_PAD (PKCS #7 to 16, then KW), ChaCha20-Poly1305
// (RFC 8439 2.8.2) and 3DES (SP 800-67 example).
#include "core/mech/kat_util.h"

namespace ferrohsm::mech::test {
namespace {

const Bytes kKey128 = hex("2b7e151628aed2a6abf7158809cf4f3c");
const Bytes kPlain38a = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                            "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");

TEST(MechSymmetricKat, AesCtrSp800_38a) {
  KeyPtr key = secret_key(CKK_AES, kKey128);
  CK_AES_CTR_PARAMS p{128, {}};
  Bytes cb = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  std::copy(cb.begin(), cb.end(), p.cb);
  CK_MECHANISM m = mech(CKM_AES_CTR, p);
  const std::string want =
      "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
      "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";
  for (size_t chunk : {1, 7, 16, 64}) {
    auto ct = run_cipher_parts(true, m, key, kPlain38a, chunk);
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(to_hex(*ct), want);
  }
  auto pt = run_cipher(false, m, key, hex(want));
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(*pt, kPlain38a);
}

TEST(MechSymmetricKat, AesCtrRefusesToWrapTheCounter) {
  KeyPtr key = secret_key(CKK_AES, kKey128);
  CK_AES_CTR_PARAMS p{8, {}};
  p.cb[15] = 0xfe;  // two blocks left in an 8-bit counter
  CK_MECHANISM m = mech(CKM_AES_CTR, p);
  EXPECT_TRUE(run_cipher(true, m, key, Bytes(32, 0)).ok());
  EXPECT_EQ(run_cipher(true, m, key, Bytes(33, 0)).rv(), CKR_DATA_LEN_RANGE);
  CK_AES_CTR_PARAMS bad{0, {}};
  CK_MECHANISM mb = mech(CKM_AES_CTR, bad);
  EXPECT_EQ(run_cipher(true, mb, key, Bytes(16, 0)).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechSymmetricKat, AesCcmSp800_38cExample1) {
  KeyPtr key = secret_key(CKK_AES, hex("404142434445464748494a4b4c4d4e4f"));
  Bytes nonce = hex("10111213141516"), aad = hex("0001020304050607"), pt = hex("20212223");
  CK_CCM_PARAMS p{pt.size(), nonce.data(), nonce.size(), aad.data(), aad.size(), 4};
  CK_MECHANISM m = mech(CKM_AES_CCM, p);
  auto ct = run_cipher(true, m, key, pt);
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), "7162015b4dac255d");
  auto back = run_cipher_parts(false, m, key, *ct, 3);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, pt);
  Bytes bad = *ct;
  bad.back() ^= 1;
  EXPECT_EQ(run_cipher(false, m, key, bad).rv(), CKR_ENCRYPTED_DATA_INVALID);
  p.ulMACLen = 5;
  EXPECT_EQ(run_cipher(true, m, key, pt).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechSymmetricKat, AesCmacRfc4493) {
  KeyPtr key = secret_key(CKK_AES, kKey128);
  auto empty = sign(mech(CKM_AES_CMAC), key, {});
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(to_hex(*empty), "bb1d6929e95937287fa37d129b756746");
  ByteView block(kPlain38a.data(), 16);
  auto one = sign(mech(CKM_AES_CMAC), key, block);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(to_hex(*one), "070a16b46b4d4144f79bdd9dd04a287c");
  auto all = sign_parts(mech(CKM_AES_CMAC), key, kPlain38a, 5);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(to_hex(*all), "51f0bebf7e3b9d92fc49741779363cfe");
  CK_MAC_GENERAL_PARAMS len = 8;
  CK_MECHANISM g = mech(CKM_AES_CMAC_GENERAL, len);
  EXPECT_TRUE(verify(g, key, block, hex("070a16b46b4d4144")).ok());
  EXPECT_EQ(verify(g, key, block, hex("070a16b46b4d4145")).rv(), CKR_SIGNATURE_INVALID);
}

TEST(MechSymmetricKat, CbcMacIsTheLastCbcBlock) {
  KeyPtr key = secret_key(CKK_AES, kKey128);
  Bytes iv(16, 0);
  auto cbc = run_cipher(true, CK_MECHANISM{CKM_AES_CBC, iv.data(), iv.size()}, key, kPlain38a);
  ASSERT_TRUE(cbc.ok());
  // SP 800-38A F.2.1 CBC-AES128 uses IV 000102…; with a zero IV the last block is the MAC.
  auto mac = sign(mech(CKM_AES_MAC), key, kPlain38a);
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(*mac, Bytes(cbc->end() - 16, cbc->end() - 8));  // CKM_AES_MAC: half a block
  CK_MAC_GENERAL_PARAMS len = 16;
  auto full = sign_parts(mech(CKM_AES_MAC_GENERAL, len), key, kPlain38a, 3);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, Bytes(cbc->end() - 16, cbc->end()));
  // A partial block is zero-padded.
  auto short_mac = sign(mech(CKM_AES_MAC_GENERAL, len), key, ByteView(kPlain38a.data(), 5));
  Bytes padded(16, 0);
  std::copy_n(kPlain38a.begin(), 5, padded.begin());
  auto ecb = run_cipher(true, mech(CKM_AES_ECB), key, padded);
  ASSERT_TRUE(short_mac.ok() && ecb.ok());
  EXPECT_EQ(*short_mac, *ecb);
}

TEST(MechSymmetricKat, AesCtsRoundTripAndLength) {
  KeyPtr key = secret_key(CKK_AES, kKey128);
  Bytes iv(16, 0);
  CK_MECHANISM m{CKM_AES_CTS, iv.data(), iv.size()};
  for (size_t n : {16, 17, 31, 32, 47, 64}) {
    ByteView in(kPlain38a.data(), n);
    auto ct = run_cipher(true, m, key, in);
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(ct->size(), n);
    auto pt = run_cipher_parts(false, m, key, *ct, 5);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(*pt, to_bytes(in));
  }
  // CS3 swaps the last two blocks of whole-block input: CBC's blocks 2 and 1.
  auto cbc = run_cipher(true, CK_MECHANISM{CKM_AES_CBC, iv.data(), iv.size()}, key, ByteView(kPlain38a.data(), 32));
  auto cts = run_cipher(true, m, key, ByteView(kPlain38a.data(), 32));
  ASSERT_TRUE(cbc.ok() && cts.ok());
  EXPECT_EQ(Bytes(cts->begin(), cts->begin() + 16), Bytes(cbc->begin() + 16, cbc->end()));
  EXPECT_EQ(run_cipher(true, m, key, Bytes(15, 0)).rv(), CKR_DATA_LEN_RANGE);
}

TEST(MechSymmetricKat, AesKeyWrapRfc3394) {
  KeyPtr kek = secret_key(CKK_AES, hex("000102030405060708090a0b0c0d0e0f"));
  auto ct = run_cipher(true, mech(CKM_AES_KEY_WRAP), kek, hex("00112233445566778899aabbccddeeff"));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
  auto pt = run_cipher(false, mech(CKM_AES_KEY_WRAP), kek, *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(to_hex(*pt), "00112233445566778899aabbccddeeff");
  (*ct)[0] ^= 1;
  EXPECT_EQ(run_cipher(false, mech(CKM_AES_KEY_WRAP), kek, *ct).rv(), CKR_ENCRYPTED_DATA_INVALID);
  EXPECT_EQ(run_cipher(true, mech(CKM_AES_KEY_WRAP), kek, Bytes(20, 1)).rv(), CKR_DATA_LEN_RANGE);
  EXPECT_TRUE(entry(CKM_AES_KEY_WRAP).info.flags & CKF_WRAP);
}

TEST(MechSymmetricKat, AesKeyWrapPadRfc5649) {
  KeyPtr kek = secret_key(CKK_AES, hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"));
  struct {
    const char* key;
    const char* wrapped;
  } cases[] = {
      {"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
      {"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
  };
  for (const auto& c : cases) {
    auto ct = run_cipher(true, mech(CKM_AES_KEY_WRAP_KWP), kek, hex(c.key));
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(to_hex(*ct), c.wrapped);
    auto pt = run_cipher(false, mech(CKM_AES_KEY_WRAP_KWP), kek, *ct);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(to_hex(*pt), c.key);
  }
  // CKM_AES_KEY_WRAP_PAD: PKCS #7 to a whole AES block, then KW.
  auto ct = run_cipher(true, mech(CKM_AES_KEY_WRAP_PAD), kek, hex("466f7250617369"));
  ASSERT_TRUE(ct.ok());
  auto kw = run_cipher(true, mech(CKM_AES_KEY_WRAP), kek, hex("466f7250617369090909090909090909"));
  ASSERT_TRUE(kw.ok()) << kw.error().message;
  EXPECT_EQ(*ct, *kw);
  EXPECT_EQ(ct->size(), 24u);
  auto pt = run_cipher(false, mech(CKM_AES_KEY_WRAP_PAD), kek, *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(to_hex(*pt), "466f7250617369");
}

TEST(MechSymmetricKat, ChaCha20Poly1305Rfc8439) {
  KeyPtr key = secret_key(CKK_CHACHA20, hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
  Bytes nonce = hex("070000004041424344454647"), aad = hex("50515253c0c1c2c3c4c5c6c7");
  CK_SALSA20_CHACHA20_POLY1305_PARAMS p{nonce.data(), nonce.size(), aad.data(), aad.size()};
  CK_MECHANISM m = mech(CKM_CHACHA20_POLY1305, p);
  const ByteView pt = text(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be "
      "it.");
  auto ct = run_cipher(true, m, key, pt);
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e"
            "060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576"
            "d26586cec64b6116"
            "1ae10b594f09e26a7e902ecbd0600691");
  auto back = run_cipher_parts(false, m, key, *ct, 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, to_bytes(pt));
  (*ct)[3] ^= 0x80;
  EXPECT_EQ(run_cipher(false, m, key, *ct).rv(), CKR_ENCRYPTED_DATA_INVALID);
  p.ulNonceLen = 8;
  EXPECT_EQ(run_cipher(true, m, key, pt).rv(), CKR_MECHANISM_PARAM_INVALID);
}

TEST(MechSymmetricKat, TripleDesSp800_67) {
  KeyPtr key = secret_key(CKK_DES3, hex("0123456789abcdef23456789abcdef01456789abcdef0123"));
  auto ct = run_cipher(true, mech(CKM_DES3_ECB), key, text("The qufck brown fox jump"));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900");
  Bytes iv(8, 0x11);
  CK_MECHANISM cbc{CKM_DES3_CBC_PAD, iv.data(), iv.size()};
  auto c2 = run_cipher_parts(true, cbc, key, text("legacy systems"), 3);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->size(), 16u);
  auto p2 = run_cipher(false, cbc, key, *c2);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, to_bytes(text("legacy systems")));
  auto gen = entry(CKM_DES2_KEY_GEN).generate_key(mech(CKM_DES2_KEY_GEN), {});
  ASSERT_TRUE(gen.ok());
  const SecureBytes* v = gen->get(CKA_VALUE);
  ASSERT_EQ(v->size(), 16u);
  for (uint8_t b : *v) EXPECT_EQ(__builtin_popcount(b) % 2, 1) << "odd parity";
}

TEST(MechSymmetricKat, SingleDesWhereTheLegacyProviderLoads) {
  if (Registry::global().find(CKM_DES_ECB) == nullptr) {
    // Without OpenSSL's legacy provider no single-DES entry may exist at all.
    EXPECT_EQ(Registry::global().find(CKM_DES_KEY_GEN), nullptr);
    return;
  }
  KeyPtr key = secret_key(CKK_DES, hex("133457799bbcdff1"));
  auto ct = run_cipher(true, mech(CKM_DES_ECB), key, hex("0123456789abcdef"));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), "85e813540f0ab405");
  Bytes iv(8, 0);
  CK_MECHANISM cbc{CKM_DES_CBC_PAD, iv.data(), iv.size()};
  auto c2 = run_cipher(true, cbc, key, text("des"));
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(*run_cipher(false, cbc, key, *c2), to_bytes(text("des")));
  EXPECT_EQ(run_cipher(true, mech(CKM_DES3_ECB), key, Bytes(8, 0)).rv(), CKR_KEY_TYPE_INCONSISTENT);
}

}  // namespace
}  // namespace ferrohsm::mech::test
