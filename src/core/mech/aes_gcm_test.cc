#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

Result<std::unique_ptr<CipherOp>> start(bool enc, const CK_MECHANISM& m, const KeyPtr& key) {
  const Entry& e = entry(CKM_AES_GCM);
  return (enc ? e.encrypt : e.decrypt)(m, key);
}

Result<Bytes> one_shot(bool enc, const CK_MECHANISM& m, const KeyPtr& key, ByteView in) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, start(enc, m, key));
  Bytes out(op->one_shot_size(in.size()));
  FH_ASSIGN_OR_RETURN(size_t n, op->one_shot(in, out));
  out.resize(n);
  return out;
}

struct Gcm {
  Bytes iv, aad;
  CK_GCM_PARAMS p{};
  explicit Gcm(Bytes iv_, Bytes aad_ = {}, CK_ULONG tag_bits = 128) : iv(std::move(iv_)), aad(std::move(aad_)) {
    p.pIv = iv.data();
    p.ulIvLen = iv.size();
    p.ulIvBits = iv.size() * 8;
    p.pAAD = aad.empty() ? nullptr : aad.data();
    p.ulAADLen = aad.size();
    p.ulTagBits = tag_bits;
  }
  CK_MECHANISM mech() { return CK_MECHANISM{CKM_AES_GCM, &p, sizeof p}; }
};

const char* kKey = "feffe9928665731c6d6a8f9467308308";
const char* kPlain =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
    "ba637b39";
const char* kCipher =
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
    "3d58e091";

TEST(MechAesGcm, NistTestCase4KnownAnswer) {
  KeyPtr key = secret_key(CKK_AES, hex(kKey));
  Gcm g(hex("cafebabefacedbaddecaf888"), hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
  auto ct = one_shot(true, g.mech(), key, hex(kPlain));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), std::string(kCipher) + "5bc94fbc3221a5db94fae95ae7121a47");
  auto pt = one_shot(false, g.mech(), key, *ct);
  ASSERT_TRUE(pt.ok()) << pt.error().message;
  EXPECT_EQ(to_hex(*pt), kPlain);
}

TEST(MechAesGcm, WycheproofTc1AndTruncatedTags) {
  KeyPtr key = secret_key(CKK_AES, hex("5b9604fe14eadba931b0ccf34843dab9"));
  const char* tag = "0a3ea7a5487cb5f7d70fb6c58d038554";
  for (CK_ULONG bits : {32, 64, 96, 104, 112, 120, 128}) {
    Gcm g(hex("028318abc1824029138141a2"), {}, bits);
    auto ct = one_shot(true, g.mech(), key, hex("001d0c231287c1182784554ca3a21908"));
    ASSERT_TRUE(ct.ok());
    EXPECT_EQ(to_hex(*ct), "26073cc1d851beff176384dc9896d5ff" + std::string(tag, bits / 4));
    auto pt = one_shot(false, g.mech(), key, *ct);
    ASSERT_TRUE(pt.ok()) << bits;
    EXPECT_EQ(to_hex(*pt), "001d0c231287c1182784554ca3a21908");
  }
}

TEST(MechAesGcm, MultiPartEncryptStreamsAndDecryptHoldsEverythingUntilFinal) {
  KeyPtr key = secret_key(CKK_AES, hex(kKey));
  Gcm g(hex("cafebabefacedbaddecaf888"), hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
  Bytes plain = hex(kPlain);
  auto enc = start(true, g.mech(), key);
  ASSERT_TRUE(enc.ok());
  Bytes ct;
  for (size_t i = 0; i < plain.size(); i += 7) {
    ByteView part = ByteView(plain).subspan(i, std::min<size_t>(7, plain.size() - i));
    Bytes buf((*enc)->update_size(part.size()));
    auto n = (*enc)->update(part, buf);
    ASSERT_TRUE(n.ok());
    ct.insert(ct.end(), buf.begin(), buf.begin() + *n);
  }
  Bytes tag((*enc)->final_size());
  auto n = (*enc)->final(tag);
  ASSERT_TRUE(n.ok());
  ct.insert(ct.end(), tag.begin(), tag.begin() + *n);
  EXPECT_EQ(to_hex(ct), std::string(kCipher) + "5bc94fbc3221a5db94fae95ae7121a47");

  auto dec = start(false, g.mech(), key);
  ASSERT_TRUE(dec.ok());
  for (size_t i = 0; i < ct.size(); i += 11) {
    ByteView part = ByteView(ct).subspan(i, std::min<size_t>(11, ct.size() - i));
    EXPECT_EQ((*dec)->update_size(part.size()), 0u);
    Bytes none;
    auto m = (*dec)->update(part, none);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, 0u);
  }
  EXPECT_EQ((*dec)->final_size(), plain.size());
  Bytes pt((*dec)->final_size());
  auto k = (*dec)->final(pt);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(pt, plain);
}

TEST(MechAesGcm, TamperingIsEncryptedDataInvalidAndReleasesNothing) {
  KeyPtr key = secret_key(CKK_AES, hex(kKey));
  Gcm g(hex("cafebabefacedbaddecaf888"), hex("feedface"));
  auto ct = one_shot(true, g.mech(), key, hex(kPlain));
  ASSERT_TRUE(ct.ok());
  for (size_t pos : {size_t{0}, ct->size() - 1}) {  // a ciphertext byte, a tag byte
    Bytes bad = *ct;
    bad[pos] ^= 0x80;
    auto op = start(false, g.mech(), key);
    ASSERT_TRUE(op.ok());
    Bytes out((*op)->one_shot_size(bad.size()), 0xee);
    EXPECT_EQ((*op)->one_shot(bad, out).rv(), CKR_ENCRYPTED_DATA_INVALID);
    EXPECT_EQ(out, Bytes(out.size(), 0));  // wiped: no unauthenticated plaintext is left
  }
  {  // in place: a failure leaves the ciphertext as it was, a success overwrites it
    Bytes buf = *ct;
    buf.back() ^= 1;
    const Bytes before = buf;
    auto op = start(false, g.mech(), key);
    ASSERT_TRUE(op.ok());
    const size_t n = (*op)->one_shot_size(buf.size());
    EXPECT_EQ((*op)->one_shot(buf, MutableByteView(buf.data(), n)).rv(), CKR_ENCRYPTED_DATA_INVALID);
    EXPECT_EQ(buf, before);
    buf = *ct;
    auto op2 = start(false, g.mech(), key);
    ASSERT_TRUE(op2.ok());
    auto got = (*op2)->one_shot(buf, MutableByteView(buf.data(), n));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(*got)), hex(kPlain));
  }
  Gcm other_aad(hex("cafebabefacedbaddecaf888"), hex("feedfacf"));
  EXPECT_EQ(one_shot(false, other_aad.mech(), key, *ct).rv(), CKR_ENCRYPTED_DATA_INVALID);
  EXPECT_EQ(one_shot(false, g.mech(), key, Bytes(15)).rv(), CKR_ENCRYPTED_DATA_LEN_RANGE);
}

TEST(MechAesGcm, IvLengthsRoundTrip) {
  KeyPtr key = secret_key(CKK_AES, Bytes(32, 3));
  for (size_t iv_len : {1, 8, 12, 16, 60, 128}) {
    Gcm g(Bytes(iv_len, 0x5a), to_bytes(text("aad")));
    auto ct = one_shot(true, g.mech(), key, text("hello gcm"));
    ASSERT_TRUE(ct.ok()) << iv_len;
    auto pt = one_shot(false, g.mech(), key, *ct);
    ASSERT_TRUE(pt.ok()) << iv_len;
    EXPECT_EQ(*pt, to_bytes(text("hello gcm")));
  }
}

TEST(MechAesGcm, ParameterValidation) {
  KeyPtr key = secret_key(CKK_AES, Bytes(16, 3));
  auto rv = [&](Gcm& g) { return start(true, g.mech(), key).rv(); };
  {
    Gcm g(Bytes(12, 1));
    EXPECT_EQ(rv(g), CKR_OK);
  }
  for (CK_ULONG bits : {0, 24, 33, 100, 136}) {
    Gcm g(Bytes(12, 1), {}, bits);
    EXPECT_EQ(rv(g), CKR_MECHANISM_PARAM_INVALID) << bits;
  }
  {
    Gcm g(Bytes(129, 1));  // OpenSSL 3.0 limit (see aes_gcm.cc)
    EXPECT_EQ(rv(g), CKR_MECHANISM_PARAM_INVALID);
  }
  {
    Gcm g(Bytes(12, 1));
    g.p.ulIvLen = 0;
    EXPECT_EQ(rv(g), CKR_MECHANISM_PARAM_INVALID);
    g.p.ulIvLen = 12;
    g.p.pIv = nullptr;
    EXPECT_EQ(rv(g), CKR_MECHANISM_PARAM_INVALID);
  }
  {
    Gcm g(Bytes(12, 1));
    g.p.ulAADLen = 4;  // with a NULL pAAD
    EXPECT_EQ(rv(g), CKR_MECHANISM_PARAM_INVALID);
  }
  Gcm g(Bytes(12, 1));
  EXPECT_EQ(start(true, mech(CKM_AES_GCM), key).rv(), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(true, CK_MECHANISM{CKM_AES_GCM, &g.p, sizeof g.p - sizeof(CK_ULONG)}, key).rv(),
            CKR_MECHANISM_PARAM_INVALID);
}

}  // namespace
}  // namespace ferrohsm::mech::test
