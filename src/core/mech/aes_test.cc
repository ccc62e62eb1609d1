#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

Result<Bytes> aes_crypt(bool enc, const CK_MECHANISM& m, const KeyPtr& key, ByteView in) {
  const Entry& e = entry(m.mechanism);
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, (enc ? e.encrypt : e.decrypt)(m, key));
  Bytes out(op->one_shot_size(in.size()));
  FH_ASSIGN_OR_RETURN(size_t n, op->one_shot(in, out));
  EXPECT_LE(n, out.size());
  out.resize(n);
  return out;
}

// Multi-part in `chunk`-byte pieces; checks every step against its announced size.
Result<Bytes> crypt_parts(bool enc, const CK_MECHANISM& m, const KeyPtr& key, ByteView in, size_t chunk) {
  const Entry& e = entry(m.mechanism);
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, (enc ? e.encrypt : e.decrypt)(m, key));
  Bytes out;
  for (size_t i = 0; i < in.size(); i += chunk) {
    ByteView part = in.subspan(i, std::min(chunk, in.size() - i));
    Bytes buf(op->update_size(part.size()));
    FH_ASSIGN_OR_RETURN(size_t n, op->update(part, buf));
    EXPECT_EQ(n, buf.size());  // block modes announce the exact update output
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  Bytes buf(op->final_size());
  FH_ASSIGN_OR_RETURN(size_t n, op->final(buf));
  EXPECT_LE(n, buf.size());
  out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

const Bytes kAesPlain = hex("00112233445566778899aabbccddeeff");

TEST(MechAes, EcbFips197KnownAnswers) {
  struct {
    const char* key;
    const char* ct;
  } cases[] = {
      {"000102030405060708090a0b0c0d0e0f", "69c4e0d86a7b0430d8cdb78070b4c55a"},
      {"000102030405060708090a0b0c0d0e0f1011121314151617", "dda97ca4864cdfe06eaf70a0ec0d7191"},
      {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "8ea2b7ca516745bfeafc49904b496089"},
  };
  for (const auto& c : cases) {
    KeyPtr key = secret_key(CKK_AES, hex(c.key));
    auto ct = aes_crypt(true, mech(CKM_AES_ECB), key, kAesPlain);
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(to_hex(*ct), c.ct);
    auto pt = aes_crypt(false, mech(CKM_AES_ECB), key, *ct);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(*pt, kAesPlain);
  }
}

TEST(MechAes, CbcPadWycheproofVectors) {
  // Wycheproof aes_cbc_pkcs5_test.json tcId 1 (empty message) and a 16-byte message of that file's groups.
  KeyPtr key = secret_key(CKK_AES, hex("e34f15c7bd819930fe9d66e0c166e61c"));
  Bytes iv = hex("da9520f7d3520277035173299388bee2");
  CK_MECHANISM m{CKM_AES_CBC_PAD, iv.data(), iv.size()};
  auto ct = aes_crypt(true, m, key, {});
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(to_hex(*ct), "b10ab60153276941361000414aed0a9d");
  auto pt = aes_crypt(false, m, key, *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_TRUE(pt->empty());
}

TEST(MechAes, RoundTripsEveryModeKeySizeAndChunking) {
  Bytes data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
  for (size_t key_len : {16, 24, 32}) {
    KeyPtr key = secret_key(CKK_AES, Bytes(key_len, 0x42));
    for (CK_MECHANISM_TYPE t : {CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD}) {
      CK_MECHANISM m = t == CKM_AES_ECB ? mech(t) : CK_MECHANISM{t, iv.data(), iv.size()};
      const size_t len = t == CKM_AES_CBC_PAD ? data.size() : 96;  // unpadded modes take whole blocks
      ByteView in(data.data(), len);
      auto ct = aes_crypt(true, m, key, in);
      ASSERT_TRUE(ct.ok()) << ct.error().message;
      EXPECT_EQ(ct->size(), t == CKM_AES_CBC_PAD ? 112u : 96u);
      for (size_t chunk : {1, 5, 16, 17, 200}) {
        SCOPED_TRACE(chunk);
        auto ct2 = crypt_parts(true, m, key, in, chunk);
        ASSERT_TRUE(ct2.ok()) << ct2.error().message;
        EXPECT_EQ(*ct2, *ct);
        auto pt = crypt_parts(false, m, key, *ct, chunk);
        ASSERT_TRUE(pt.ok()) << pt.error().message;
        EXPECT_EQ(*pt, to_bytes(in));
      }
      auto pt = aes_crypt(false, m, key, *ct);
      ASSERT_TRUE(pt.ok());
      EXPECT_EQ(*pt, to_bytes(in));
    }
  }
}

TEST(MechAes, CbcPadExactBlockAddsAFullPaddingBlock) {
  Bytes iv(16, 0);
  CK_MECHANISM m{CKM_AES_CBC_PAD, iv.data(), iv.size()};
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 1));
  auto ct = aes_crypt(true, m, key, Bytes(32, 9));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->size(), 48u);
}

TEST(MechAes, LengthErrors) {
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 1));
  Bytes iv(16, 0);
  EXPECT_EQ(aes_crypt(true, mech(CKM_AES_ECB), key, Bytes(15)).rv(), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(aes_crypt(false, mech(CKM_AES_ECB), key, Bytes(17)).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
  EXPECT_EQ(crypt_parts(true, mech(CKM_AES_ECB), key, Bytes(20), 7).rv(), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(crypt_parts(false, mech(CKM_AES_ECB), key, Bytes(20), 7).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
  CK_MECHANISM cbc{CKM_AES_CBC, iv.data(), iv.size()};
  EXPECT_EQ(aes_crypt(true, cbc, key, Bytes(15)).rv(), CKR_DATA_LEN_RANGE);
  CK_MECHANISM pad{CKM_AES_CBC_PAD, iv.data(), iv.size()};
  EXPECT_EQ(aes_crypt(false, pad, key, Bytes(31)).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
  EXPECT_EQ(aes_crypt(false, pad, key, {}).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
  EXPECT_EQ(crypt_parts(false, pad, key, Bytes(33), 10).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
}

TEST(MechAes, BadPaddingIsEncryptedDataInvalid) {
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 1));
  Bytes iv(16, 0);
  // ECB-encrypting a block whose last byte is 0 gives a CBC_PAD ciphertext (zero IV) with invalid padding.
  Bytes block(16, 0x41);
  block[15] = 0;
  Bytes raw_iv_block = block;  // CBC with IV 0: C = E(P)
  auto ct = aes_crypt(true, mech(CKM_AES_ECB), key, raw_iv_block);
  ASSERT_TRUE(ct.ok());
  CK_MECHANISM pad{CKM_AES_CBC_PAD, iv.data(), iv.size()};
  EXPECT_EQ(aes_crypt(false, pad, key, *ct).rv(), CKR_ENCRYPTED_DATA_INVALID);
  EXPECT_EQ(crypt_parts(false, pad, key, *ct, 3).rv(), CKR_ENCRYPTED_DATA_INVALID);
}

TEST(MechAes, ParameterAndKeyErrors) {
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 1));
  const Entry& e = entry(CKM_AES_CBC_PAD);
  Bytes iv15(15), iv16(16);
  EXPECT_EQ(e.encrypt(mech(CKM_AES_CBC_PAD), key).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(e.encrypt(CK_MECHANISM{CKM_AES_CBC_PAD, iv15.data(), iv15.size()}, key).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(e.decrypt(CK_MECHANISM{CKM_AES_CBC_PAD, nullptr, 16}, key).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(entry(CKM_AES_ECB).encrypt(CK_MECHANISM{CKM_AES_ECB, iv16.data(), iv16.size()}, key).rv(),
            CKR_MECHANISM_PARAM_INVALID);
  KeyPtr hmac_key = secret_key(CKK_GENERIC_SECRET, Bytes(16, 1));
  EXPECT_EQ(e.encrypt(CK_MECHANISM{CKM_AES_CBC_PAD, iv16.data(), iv16.size()}, hmac_key).rv(), CKR_KEY_TYPE_INCONSISTENT);
}

TEST(MechAes, RegistryInfo) {
  const std::pair<CK_MECHANISM_TYPE, CK_FLAGS> kFlags[] = {
      {CKM_AES_ECB, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP},  // zero-padding wraps (issue 11)
      {CKM_AES_CBC, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP},
      {CKM_AES_CBC_PAD, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP},
      {CKM_AES_GCM, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT |
                        CKF_MULTI_MESSAGE},
  };
  for (const auto& [t, flags] : kFlags) {
    const Entry& e = entry(t);
    EXPECT_EQ(e.info.flags, flags);
    EXPECT_EQ(e.info.ulMinKeySize, 16u);
    EXPECT_EQ(e.info.ulMaxKeySize, 32u);
    EXPECT_EQ(e.key_types, std::vector<CK_KEY_TYPE>{CKK_AES});
  }
}

}  // namespace
}  // namespace ferrohsm::mech::test
