// Digests (SHA-1/256/384/512) and HMAC (SHA-256/384/512) against OpenSSL.
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/mechanisms.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

struct DigestCase {
  const char* name;
  CK_MECHANISM_TYPE mech;
  const char* ossl;
};

const DigestCase kDigests[] = {{"Sha1", CKM_SHA_1, "SHA1"},
                               {"Sha224", CKM_SHA224, "SHA224"},
                               {"Sha256", CKM_SHA256, "SHA256"},
                               {"Sha384", CKM_SHA384, "SHA384"},
                               {"Sha512", CKM_SHA512, "SHA512"}};

const DigestCase kMacs[] = {{"HmacSha1", CKM_SHA_1_HMAC, "SHA1"},
                            {"HmacSha224", CKM_SHA224_HMAC, "SHA224"},
                            {"HmacSha256", CKM_SHA256_HMAC, "SHA256"},
                            {"HmacSha384", CKM_SHA384_HMAC, "SHA384"},
                            {"HmacSha512", CKM_SHA512_HMAC, "SHA512"}};

Bytes Message() { return AsBytes("digest me: 0123456789 abcdefghijklmnopqrstuvwxyz"); }

// Skips cases beyond FerroHSM's promise that the module does not offer.
#define SKIP_IF_NOT_OFFERED()                                                          \
  do {                                                                                 \
    if (!ModuleHasMechanism(f_, slot_, GetParam().mech) &&                             \
        SkipsWhenUnlisted(GetParam().mech))                                            \
      GTEST_SKIP() << "not offered";                                                   \
  } while (0)

class DigestTest : public TokenTest, public testing::WithParamInterface<DigestCase> {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_NOT_OFFERED();
  }
};

TEST_P(DigestTest, SinglePartMatchesOpenSsl) {
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message(), expected = OsslDigest(GetParam().ossl, msg);
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Digest(session_, msg.data(), msg.size(), nullptr, &len));
  EXPECT_EQ(len, expected.size());
  Bytes out(len);
  CK_ULONG short_len = len - 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Digest(session_, msg.data(), msg.size(), out.data(), &short_len));
  EXPECT_EQ(short_len, expected.size());
  ASSERT_CKR_OK(f_->C_Digest(session_, msg.data(), msg.size(), out.data(), &len));
  EXPECT_EQ(out, expected);
}

TEST_P(DigestTest, MultiPartMatchesOpenSsl) {
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message(), expected = OsslDigest(GetParam().ossl, msg);
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestInit(session_, &m));
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, msg.data(), 10));
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, msg.data() + 10, 0));
  ASSERT_CKR_OK(f_->C_DigestUpdate(session_, msg.data() + 10, msg.size() - 10));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_DigestFinal(session_, nullptr, &len));
  Bytes out(len);
  ASSERT_CKR_OK(f_->C_DigestFinal(session_, out.data(), &len));
  EXPECT_EQ(out, expected);
}

TEST_P(DigestTest, EmptyInput) {
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes expected = OsslDigest(GetParam().ossl, {});
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
  Bytes out(64);
  CK_ULONG len = out.size();
  CK_BYTE dummy = 0;
  ASSERT_CKR_OK(f_->C_Digest(session_, &dummy, 0, out.data(), &len));
  out.resize(len);
  EXPECT_EQ(out, expected);
}

TEST_P(DigestTest, WorksWithoutLogin) {
  CK_SESSION_HANDLE pub = Open(slot_, false);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message();
  ASSERT_CKR_OK(f_->C_DigestInit(pub, &m));
  Bytes out(64);
  CK_ULONG len = out.size();
  ASSERT_CKR_OK(f_->C_Digest(pub, msg.data(), msg.size(), out.data(), &len));
  out.resize(len);
  EXPECT_EQ(out, OsslDigest(GetParam().ossl, msg));
}

INSTANTIATE_TEST_SUITE_P(Digests, DigestTest, testing::ValuesIn(kDigests),
                         [](const testing::TestParamInfo<DigestCase>& i) { return i.param.name; });

class MacTest : public TokenTest, public testing::WithParamInterface<DigestCase> {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    SKIP_IF_NOT_OFFERED();
    SecretKey k = ImportGenericSecret(f_, session_, key_bytes_);
    ASSERT_CKR_OK(k.rv);
    key_ = k.handle;
  }
  // 64 bytes: at least the output size of every HMAC here (SoftHSMv2 insists on that).
  Bytes key_bytes_ = AsBytes("hmac key of sixty-four bytes, as long as the longest output.....");
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
};

TEST_P(MacTest, SignMatchesOpenSslAndVerifies) {
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message(), expected = OsslHmac(GetParam().ossl, key_bytes_, msg);
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, key_));
  CK_ULONG len = 0;
  ASSERT_CKR_OK(f_->C_Sign(session_, msg.data(), msg.size(), nullptr, &len));
  Bytes mac(len);
  ASSERT_CKR_OK(f_->C_Sign(session_, msg.data(), msg.size(), mac.data(), &len));
  EXPECT_EQ(mac, expected);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, key_));
  EXPECT_CKR_OK(f_->C_Verify(session_, msg.data(), msg.size(), mac.data(), mac.size()));
  mac[0] ^= 1;
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, key_));
  EXPECT_CKR(CKR_SIGNATURE_INVALID, f_->C_Verify(session_, msg.data(), msg.size(), mac.data(), mac.size()));
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, key_));
  EXPECT_CKR(CKR_SIGNATURE_LEN_RANGE,
             f_->C_Verify(session_, msg.data(), msg.size(), mac.data(), mac.size() - 1));
}

TEST_P(MacTest, MultiPartMatchesOpenSsl) {
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message(), expected = OsslHmac(GetParam().ossl, key_bytes_, msg);
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, key_));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, msg.data(), 7));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, msg.data() + 7, msg.size() - 7));
  Bytes mac(64);
  CK_ULONG len = mac.size();
  ASSERT_CKR_OK(f_->C_SignFinal(session_, mac.data(), &len));
  mac.resize(len);
  EXPECT_EQ(mac, expected);
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, key_));
  ASSERT_CKR_OK(f_->C_VerifyUpdate(session_, msg.data(), msg.size()));
  EXPECT_CKR_OK(f_->C_VerifyFinal(session_, mac.data(), mac.size()));
}

TEST_P(MacTest, GeneratedGenericSecretRoundTrips) {
  CK_MECHANISM gen{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
  Template t = PrivateKeyAttrs(KeyOptions{});
  t.Ulong(CKA_VALUE_LEN, 64).Bool(CKA_VERIFY, true);
  CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
  ASSERT_CKR_OK(f_->C_GenerateKey(session_, &gen, t.data(), t.size(), &k));
  EXPECT_EQ(GetUlong(f_, session_, k, CKA_KEY_TYPE), CKK_GENERIC_SECRET);
  CK_MECHANISM m{GetParam().mech, nullptr, 0};
  Bytes msg = Message(), mac(64);
  CK_ULONG len = mac.size();
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, k));
  ASSERT_CKR_OK(f_->C_Sign(session_, msg.data(), msg.size(), mac.data(), &len));
  ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, k));
  EXPECT_CKR_OK(f_->C_Verify(session_, msg.data(), msg.size(), mac.data(), len));
  EXPECT_NE(Bytes(mac.begin(), mac.begin() + static_cast<long>(len)),
            OsslHmac(GetParam().ossl, key_bytes_, msg));
}

INSTANTIATE_TEST_SUITE_P(Macs, MacTest, testing::ValuesIn(kMacs),
                         [](const testing::TestParamInfo<DigestCase>& i) { return i.param.name; });

}  // namespace
}  // namespace ferrohsm::abi
