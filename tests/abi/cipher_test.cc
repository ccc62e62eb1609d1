// AES-GCM / AES-CBC-PAD / AES-ECB encrypt and decrypt against OpenSSL, single- and
// multi-part, for 128/192/256-bit keys; RSA PKCS#1 v1.5 encryption when offered.
#include "fixture/attributes.h"
#include "fixture/cipher_helpers.h"
#include "fixture/keys.h"
#include "fixture/mechanisms.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

struct CipherCase {
  const char* name;
  CK_MECHANISM_TYPE mech;
  size_t key_bytes;
};

const CipherCase kCipherCases[] = {
    {"Gcm128", CKM_AES_GCM, 16},    {"Gcm192", CKM_AES_GCM, 24},
    {"Gcm256", CKM_AES_GCM, 32},    {"CbcPad128", CKM_AES_CBC_PAD, 16},
    {"CbcPad192", CKM_AES_CBC_PAD, 24}, {"CbcPad256", CKM_AES_CBC_PAD, 32},
    {"Ecb128", CKM_AES_ECB, 16},    {"Ecb256", CKM_AES_ECB, 32},
    {"Cbc128", CKM_AES_CBC, 16},    {"Cbc256", CKM_AES_CBC, 32},  // beyond the promise
};

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

class CipherTest : public TokenTest, public testing::WithParamInterface<CipherCase> {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    if (!ModuleHasMechanism(f_, slot_, GetParam().mech) &&
        SkipsWhenUnlisted(GetParam().mech)) {
      GTEST_SKIP() << "not offered";
    }
    key_bytes_ = Pattern(GetParam().key_bytes, 0x21);
    SecretKey k = ImportAes(f_, session_, key_bytes_, KeyOptions{.sign = false, .encrypt = true});
    ASSERT_CKR_OK(k.rv);
    key_ = k.handle;
    // ECB and CBC need whole blocks; the padded modes get an uneven length.
    plain_ = Pattern(Unpadded() ? 64 : 61, 0x03);
    iv_ = GetParam().mech == CKM_AES_GCM ? Pattern(12, 0x90)
          : GetParam().mech == CKM_AES_ECB ? Bytes{} : Pattern(16, 0x50);
  }
  bool Unpadded() const { return GetParam().mech == CKM_AES_ECB || GetParam().mech == CKM_AES_CBC; }
  Bytes Expected() {
    const std::string bits = std::to_string(key_bytes_.size() * 8);
    switch (GetParam().mech) {
      case CKM_AES_GCM: return OsslGcmEncrypt(key_bytes_, iv_, aad_, plain_, 16);
      case CKM_AES_CBC_PAD:
        return OsslCipher("AES-" + bits + "-CBC", true, key_bytes_, iv_, plain_, true);
      case CKM_AES_CBC:
        return OsslCipher("AES-" + bits + "-CBC", true, key_bytes_, iv_, plain_, false);
      default: return OsslCipher("AES-" + bits + "-ECB", true, key_bytes_, {}, plain_, false);
    }
  }
  Bytes key_bytes_, plain_, iv_, aad_ = AsBytes("associated data");
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
};

TEST_P(CipherTest, SinglePartMatchesOpenSsl) {
  AesMechanism m(GetParam().mech, iv_, aad_);
  CipherResult enc = OneShot(f_, session_, m.get(), key_, true, plain_);
  ASSERT_CKR_OK(enc.rv);
  Bytes expected = Expected();
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(enc.out, expected);
  AesMechanism d(GetParam().mech, iv_, aad_);
  CipherResult dec = OneShot(f_, session_, d.get(), key_, false, expected);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, plain_);
}

TEST_P(CipherTest, MultiPartMatchesOpenSsl) {
  Bytes expected = Expected();
  AesMechanism m(GetParam().mech, iv_, aad_);
  std::vector<size_t> chunks = Unpadded() ? std::vector<size_t>{16, 32, 16}
                                          : std::vector<size_t>{5, 20, 36};
  CipherResult enc = MultiPart(f_, session_, m.get(), key_, true, plain_, chunks);
  ASSERT_CKR_OK(enc.rv);
  EXPECT_EQ(enc.out, expected);
  AesMechanism d(GetParam().mech, iv_, aad_);
  std::vector<size_t> dchunks = Unpadded() ? std::vector<size_t>{32, 32}
                                           : std::vector<size_t>{7, 33, 100};
  CipherResult dec = MultiPart(f_, session_, d.get(), key_, false, expected, dchunks);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, plain_);
}

TEST_P(CipherTest, GeneratedKeyRoundTrips) {
  SecretKey k = GenerateAes(f_, session_, GetParam().key_bytes,
                            KeyOptions{.sign = false, .encrypt = true});
  ASSERT_CKR_OK(k.rv);
  AesMechanism m(GetParam().mech, iv_, aad_);
  CipherResult enc = OneShot(f_, session_, m.get(), k.handle, true, plain_);
  ASSERT_CKR_OK(enc.rv);
  EXPECT_NE(enc.out, Expected()) << "a generated key must not equal the test's fixed key";
  AesMechanism d(GetParam().mech, iv_, aad_);
  CipherResult dec = OneShot(f_, session_, d.get(), k.handle, false, enc.out);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, plain_);
}

INSTANTIATE_TEST_SUITE_P(Aes, CipherTest, testing::ValuesIn(kCipherCases),
                         [](const testing::TestParamInfo<CipherCase>& i) { return i.param.name; });

using RsaCipherTest = TokenTest;

TEST_F(RsaCipherTest, RsaPkcsEncryptionWhenOffered) {
  CK_MECHANISM_INFO info{};
  if (f_->C_GetMechanismInfo(slot_, CKM_RSA_PKCS, &info) != CKR_OK ||
      (info.flags & CKF_ENCRYPT) == 0) {
    GTEST_SKIP() << "CKM_RSA_PKCS offers no encryption here";
  }
  KeyPair kp = GenerateRsa(f_, session_, 2048, KeyOptions{.sign = false, .encrypt = true});
  ASSERT_CKR_OK(kp.rv);
  CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
  Bytes secret = AsBytes("a short secret for RSA");
  CipherResult enc = OneShot(f_, session_, &m, kp.pub, true, secret);
  ASSERT_CKR_OK(enc.rv);
  EXPECT_EQ(enc.out.size(), 256u);
  CipherResult dec = OneShot(f_, session_, &m, kp.priv, false, enc.out);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, secret);
}

}  // namespace
}  // namespace ferrohsm::abi
