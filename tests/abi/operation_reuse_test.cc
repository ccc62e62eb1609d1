// A session keeps its last finished operation and re-arms it for the next *Init on
// the same key and mechanism (src/core/session.h SpareOp). These tests drive that path
// through the C ABI: every message after the first is answered by a re-armed context,
// and must be exactly what a fresh one (OpenSSL, independently) gives — with other
// IVs, AAD, tag lengths, after failures, across keys and sessions — and a key that was
// destroyed or changed must be refused as if nothing had been kept.
#include "fixture/attributes.h"
#include "fixture/cipher_helpers.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

#include <thread>

namespace ferrohsm::abi {
namespace {

Bytes Filled(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 7 * i);
  return b;
}

KeyOptions Usable() {
  KeyOptions o;
  o.sensitive = false;
  o.extractable = true;
  o.encrypt = true;
  return o;
}

class OperationReuseTest : public TokenTest {
 protected:
  StoreOptions Options() const override { return WithoutHardening(); }

  Bytes Hmac(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, const Bytes& data, CK_MECHANISM m = {CKM_SHA256_HMAC, nullptr, 0}) {
    EXPECT_CKR_OK(f_->C_SignInit(s, &m, key));
    Bytes out(64);
    CK_ULONG n = out.size();
    EXPECT_CKR_OK(f_->C_Sign(s, const_cast<uint8_t*>(data.data()), data.size(), out.data(), &n));
    out.resize(n);
    return out;
  }
};

TEST_F(OperationReuseTest, GcmMessagesWithOtherIvsAadAndTagsMatchAFreshContext) {
  const Bytes key = Filled(32, 1);
  SecretKey k = ImportAes(f_, session_, key, Usable());
  ASSERT_CKR_OK(k.rv);
  struct Msg {
    Bytes iv, aad;
    CK_ULONG tag_bits;
    size_t len;
  };
  // 12-byte IVs (the default length), then a 16-byte and a 1-byte one, then 12 again:
  // a re-armed context must take each IV length, AAD or none, and each tag length.
  const Msg msgs[] = {{Filled(12, 2), Filled(20, 3), 128, 64},  {Filled(12, 4), {}, 96, 4096},
                      {Filled(16, 5), Filled(5, 6), 128, 17},   {Filled(1, 7), {}, 32, 1},
                      {Filled(12, 8), Filled(64, 9), 120, 100}, {Filled(12, 10), {}, 128, 64}};
  for (const Msg& m : msgs) {
    const Bytes plain = Filled(m.len, static_cast<uint8_t>(m.len));
    AesMechanism mech(CKM_AES_GCM, m.iv, m.aad, m.tag_bits);
    CipherResult enc = OneShot(f_, session_, mech.get(), k.handle, true, plain);
    ASSERT_CKR_OK(enc.rv);
    EXPECT_EQ(enc.out, OsslGcmEncrypt(key, m.iv, m.aad, plain, m.tag_bits / 8)) << "IV " << m.iv.size();
    CipherResult dec = OneShot(f_, session_, mech.get(), k.handle, false, enc.out);
    ASSERT_CKR_OK(dec.rv);
    EXPECT_EQ(dec.out, plain);
  }
}

TEST_F(OperationReuseTest, GcmDecryptionAfterABadTagStartsClean) {
  const Bytes key = Filled(16, 11), iv = Filled(12, 12), plain = Filled(48, 13);
  SecretKey k = ImportAes(f_, session_, key, Usable());
  ASSERT_CKR_OK(k.rv);
  AesMechanism mech(CKM_AES_GCM, iv);
  CipherResult enc = OneShot(f_, session_, mech.get(), k.handle, true, plain);
  ASSERT_CKR_OK(enc.rv);
  ASSERT_CKR_OK(OneShot(f_, session_, mech.get(), k.handle, false, enc.out).rv);  // leaves a spare
  Bytes bad = enc.out;
  bad.back() ^= 1;
  EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, OneShot(f_, session_, mech.get(), k.handle, false, bad).rv);
  CipherResult dec = OneShot(f_, session_, mech.get(), k.handle, false, enc.out);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, plain);
  // Multi-part decryption of the same message on the re-armed context.
  CipherResult multi = MultiPart(f_, session_, mech.get(), k.handle, false, enc.out, {5, 30, 29});
  ASSERT_CKR_OK(multi.rv);
  EXPECT_EQ(multi.out, plain);
}

TEST_F(OperationReuseTest, GcmBadParametersOnAKeptContextAnswerAsANewOne) {
  SecretKey k = ImportAes(f_, session_, Filled(32, 14), Usable());
  ASSERT_CKR_OK(k.rv);
  AesMechanism good(CKM_AES_GCM, Filled(12, 15));
  ASSERT_CKR_OK(OneShot(f_, session_, good.get(), k.handle, true, Filled(16, 16)).rv);
  AesMechanism bad_tag(CKM_AES_GCM, Filled(12, 17), {}, 20);
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, bad_tag.get(), k.handle));
  CK_MECHANISM no_param{CKM_AES_GCM, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, &no_param, k.handle));
  CipherResult again = OneShot(f_, session_, good.get(), k.handle, true, Filled(16, 16));
  ASSERT_CKR_OK(again.rv);
  EXPECT_EQ(again.out, OsslGcmEncrypt(Filled(32, 14), Filled(12, 15), {}, Filled(16, 16), 16));
}

TEST_F(OperationReuseTest, CbcAfterAFailedMultiPartAndAcrossKeysMatchesOpenSsl) {
  const Bytes key1 = Filled(32, 21), key2 = Filled(16, 22);
  SecretKey k1 = ImportAes(f_, session_, key1, Usable());
  SecretKey k2 = ImportAes(f_, session_, key2, Usable());
  ASSERT_CKR_OK(k1.rv);
  ASSERT_CKR_OK(k2.rv);
  const Bytes data = Filled(64, 23);
  for (int round = 0; round < 3; ++round) {
    const Bytes iv = Filled(16, static_cast<uint8_t>(30 + round));
    AesMechanism mech(CKM_AES_CBC, iv);
    CipherResult a = OneShot(f_, session_, mech.get(), k1.handle, true, data);
    ASSERT_CKR_OK(a.rv);
    EXPECT_EQ(a.out, OsslCipher("AES-256-CBC", true, key1, iv, data, false));
    CipherResult b = OneShot(f_, session_, mech.get(), k2.handle, true, data);
    ASSERT_CKR_OK(b.rv);
    EXPECT_EQ(b.out, OsslCipher("AES-128-CBC", true, key2, iv, data, false));
    CipherResult d = OneShot(f_, session_, mech.get(), k1.handle, false, a.out);
    ASSERT_CKR_OK(d.rv);
    EXPECT_EQ(d.out, data);
  }
  // A multi-part encryption that leaves a partial block ends in an error; the next
  // message on the same key must not see that block.
  AesMechanism mech(CKM_AES_CBC, Filled(16, 40));
  EXPECT_CKR(CKR_DATA_LEN_RANGE, MultiPart(f_, session_, mech.get(), k1.handle, true, Filled(20, 41), {20}).rv);
  CipherResult ok = OneShot(f_, session_, mech.get(), k1.handle, true, data);
  ASSERT_CKR_OK(ok.rv);
  EXPECT_EQ(ok.out, OsslCipher("AES-256-CBC", true, key1, Filled(16, 40), data, false));
  CipherResult multi = MultiPart(f_, session_, mech.get(), k1.handle, true, data, {7, 40, 17});
  ASSERT_CKR_OK(multi.rv);
  EXPECT_EQ(multi.out, ok.out);
}

TEST_F(OperationReuseTest, CbcPadAndEcbKeepTheirModeWhenReArmed) {
  const Bytes key = Filled(32, 42);
  SecretKey k = ImportAes(f_, session_, key, Usable());
  ASSERT_CKR_OK(k.rv);
  for (size_t len : {size_t{5}, size_t{16}, size_t{33}, size_t{0}}) {
    const Bytes data = Filled(len, 43), iv = Filled(16, static_cast<uint8_t>(len));
    AesMechanism pad(CKM_AES_CBC_PAD, iv);
    CipherResult enc = OneShot(f_, session_, pad.get(), k.handle, true, data);
    ASSERT_CKR_OK(enc.rv);
    EXPECT_EQ(enc.out, OsslCipher("AES-256-CBC", true, key, iv, data, true)) << len;
    CipherResult dec = OneShot(f_, session_, pad.get(), k.handle, false, enc.out);
    ASSERT_CKR_OK(dec.rv);
    EXPECT_EQ(dec.out, data);
  }
  // A padding error on a kept decryption context; the next message decrypts.
  AesMechanism pad(CKM_AES_CBC_PAD, Filled(16, 44));
  CipherResult good = OneShot(f_, session_, pad.get(), k.handle, true, Filled(20, 45));
  ASSERT_CKR_OK(good.rv);
  Bytes bad = good.out;
  bad.back() ^= 0x55;
  CipherResult broken = OneShot(f_, session_, pad.get(), k.handle, false, bad);
  EXPECT_NE(broken.rv, CKR_OK);
  CipherResult dec = OneShot(f_, session_, pad.get(), k.handle, false, good.out);
  ASSERT_CKR_OK(dec.rv);
  EXPECT_EQ(dec.out, Filled(20, 45));
  CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
  const Bytes block = Filled(32, 46);
  for (int i = 0; i < 2; ++i) {
    CipherResult e = OneShot(f_, session_, &ecb, k.handle, true, block);
    ASSERT_CKR_OK(e.rv);
    EXPECT_EQ(e.out, OsslCipher("AES-256-ECB", true, key, {}, block, false));
  }
  CK_BYTE stray[16] = {};
  CK_MECHANISM ecb_iv{CKM_AES_ECB, stray, sizeof stray};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, &ecb_iv, k.handle));
}

TEST_F(OperationReuseTest, HmacKeepsNoStateAcrossMessagesKeysOrSessions) {
  const Bytes key1 = Filled(32, 51), key2 = Filled(20, 52);
  KeyOptions o = Usable();
  SecretKey k1 = ImportGenericSecret(f_, session_, key1, o);
  SecretKey k2 = ImportGenericSecret(f_, session_, key2, o);
  ASSERT_CKR_OK(k1.rv);
  ASSERT_CKR_OK(k2.rv);
  CK_SESSION_HANDLE other = Open(slot_);
  const Bytes m1 = AsBytes("first message"), m2 = AsBytes("second, longer message to the same key");
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(Hmac(session_, k1.handle, m1), OsslHmac("SHA256", key1, m1));
    EXPECT_EQ(Hmac(other, k2.handle, m1), OsslHmac("SHA256", key2, m1));
    EXPECT_EQ(Hmac(session_, k1.handle, m2), OsslHmac("SHA256", key1, m2));
    EXPECT_EQ(Hmac(session_, k2.handle, m2), OsslHmac("SHA256", key2, m2));
    EXPECT_EQ(Hmac(other, k1.handle, m2), OsslHmac("SHA256", key1, m2));
  }
  // A multi-part MAC, then the _GENERAL form with truncated tags of other lengths.
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  ASSERT_CKR_OK(f_->C_SignInit(session_, &m, k1.handle));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, const_cast<uint8_t*>(m2.data()), 10));
  ASSERT_CKR_OK(f_->C_SignUpdate(session_, const_cast<uint8_t*>(m2.data()) + 10, m2.size() - 10));
  Bytes tag(32);
  CK_ULONG n = tag.size();
  ASSERT_CKR_OK(f_->C_SignFinal(session_, tag.data(), &n));
  EXPECT_EQ(tag, OsslHmac("SHA256", key1, m2));
  for (CK_ULONG len : {CK_ULONG{16}, CK_ULONG{32}, CK_ULONG{4}}) {
    CK_MECHANISM g{CKM_SHA256_HMAC_GENERAL, &len, sizeof len};
    Bytes full = OsslHmac("SHA256", key1, m1);
    EXPECT_EQ(Hmac(session_, k1.handle, m1, g), Bytes(full.begin(), full.begin() + static_cast<long>(len)));
    EXPECT_EQ(Hmac(session_, k1.handle, m1, g), Bytes(full.begin(), full.begin() + static_cast<long>(len)));
  }
  CK_ULONG too_long = 33;
  CK_MECHANISM g{CKM_SHA256_HMAC_GENERAL, &too_long, sizeof too_long};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(session_, &g, k1.handle));
  // Verification on kept contexts: a good tag, a bad one, a good one again.
  Bytes good = OsslHmac("SHA256", key2, m1), bad = good;
  bad[0] ^= 0x80;
  for (const Bytes* sig : {&good, &bad, &good}) {
    ASSERT_CKR_OK(f_->C_VerifyInit(session_, &m, k2.handle));
    EXPECT_CKR(sig == &bad ? CKR_SIGNATURE_INVALID : CKR_OK,
               f_->C_Verify(session_, const_cast<uint8_t*>(m1.data()), m1.size(), const_cast<uint8_t*>(sig->data()),
                            sig->size()));
  }
}

TEST_F(OperationReuseTest, ADestroyedKeyIsNotRevivedByAKeptContext) {
  SecretKey k = ImportGenericSecret(f_, session_, Filled(32, 61), Usable());
  ASSERT_CKR_OK(k.rv);
  const Bytes msg = AsBytes("m");
  Hmac(session_, k.handle, msg);
  Hmac(session_, k.handle, msg);  // the session now keeps a context on this key
  ASSERT_CKR_OK(f_->C_DestroyObject(session_, k.handle));
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_SignInit(session_, &m, k.handle));
}

TEST_F(OperationReuseTest, AChangedKeyIsCheckedAgain) {
  SecretKey k = ImportGenericSecret(f_, session_, Filled(32, 62), Usable());
  ASSERT_CKR_OK(k.rv);
  const Bytes msg = AsBytes("m");
  Hmac(session_, k.handle, msg);
  Hmac(session_, k.handle, msg);
  // CKA_SIGN off: the kept context must not let the next C_SignInit skip the check.
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE off{CKA_SIGN, &no, sizeof no};
  ASSERT_CKR_OK(f_->C_SetAttributeValue(session_, k.handle, &off, 1));
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_SignInit(session_, &m, k.handle));
}

TEST_F(OperationReuseTest, AKeyAfterLogoutIsRefused) {
  KeyOptions o = Usable();
  o.token = true;
  SecretKey k = ImportGenericSecret(f_, session_, Filled(32, 63), o);
  ASSERT_CKR_OK(k.rv);
  const Bytes msg = AsBytes("m");
  Hmac(session_, k.handle, msg);
  Hmac(session_, k.handle, msg);
  ASSERT_CKR_OK(f_->C_Logout(session_));
  CK_MECHANISM m{CKM_SHA256_HMAC, nullptr, 0};
  CK_RV rv = f_->C_SignInit(session_, &m, k.handle);
  EXPECT_TRUE(rv == CKR_KEY_HANDLE_INVALID || rv == CKR_USER_NOT_LOGGED_IN) << CkrName(rv);
}

TEST_F(OperationReuseTest, DigestsAfterMultiPartAndLengthQueriesMatchOpenSsl) {
  const Bytes a = AsBytes("abc"), b = Filled(4096, 70);
  CK_MECHANISM m{CKM_SHA256, nullptr, 0};
  for (int round = 0; round < 3; ++round) {
    ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
    CK_ULONG n = 0;
    ASSERT_CKR_OK(f_->C_Digest(session_, const_cast<uint8_t*>(a.data()), a.size(), nullptr, &n));
    Bytes out(n);
    ASSERT_CKR_OK(f_->C_Digest(session_, const_cast<uint8_t*>(a.data()), a.size(), out.data(), &n));
    EXPECT_EQ(out, OsslDigest("SHA256", a));
    ASSERT_CKR_OK(f_->C_DigestInit(session_, &m));
    ASSERT_CKR_OK(f_->C_DigestUpdate(session_, const_cast<uint8_t*>(b.data()), 100));
    ASSERT_CKR_OK(f_->C_DigestUpdate(session_, const_cast<uint8_t*>(b.data()) + 100, b.size() - 100));
    n = out.size();
    ASSERT_CKR_OK(f_->C_DigestFinal(session_, out.data(), &n));
    EXPECT_EQ(out, OsslDigest("SHA256", b));
  }
  CK_MECHANISM sha1{CKM_SHA_1, nullptr, 0};
  ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha1));
  Bytes out(20);
  CK_ULONG n = out.size();
  ASSERT_CKR_OK(f_->C_Digest(session_, const_cast<uint8_t*>(a.data()), a.size(), out.data(), &n));
  EXPECT_EQ(out, OsslDigest("SHA1", a));
}

// A session opened and first used on one thread, then handed to another (a worker
// pool): the kept operations move to the new thread after a few messages (core/session.h
// SpareOp::here_to_stay makes them anew there) and back again; every answer, before,
// during and after each move, must be what OpenSSL gives.
TEST_F(OperationReuseTest, ASessionHandedBetweenThreadsKeepsMatchingOpenSsl) {
  const Bytes hkey = Filled(32, 81), akey = Filled(32, 82);
  SecretKey hk = ImportGenericSecret(f_, session_, hkey, Usable());
  SecretKey ak = ImportAes(f_, session_, akey, Usable());
  ASSERT_CKR_OK(hk.rv);
  ASSERT_CKR_OK(ak.rv);
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
  auto messages = [&](int n, uint8_t seed) {
    for (int i = 0; i < n; ++i) {
      const Bytes msg = Filled(static_cast<size_t>(17 + 31 * i), static_cast<uint8_t>(seed + i));
      EXPECT_EQ(Hmac(session_, hk.handle, msg), OsslHmac("SHA256", hkey, msg));
      const Bytes iv = Filled(12, static_cast<uint8_t>(seed + 2 * i));
      AesMechanism gcm(CKM_AES_GCM, iv, {}, 128);
      CipherResult enc = OneShot(f_, session_, gcm.get(), ak.handle, true, msg);
      ASSERT_CKR_OK(enc.rv);
      EXPECT_EQ(enc.out, OsslGcmEncrypt(akey, iv, {}, msg, 16));
      CipherResult dec = OneShot(f_, session_, gcm.get(), ak.handle, false, enc.out);
      ASSERT_CKR_OK(dec.rv);
      EXPECT_EQ(dec.out, msg);
      ASSERT_CKR_OK(f_->C_DigestInit(session_, &sha));
      Bytes out(32);
      CK_ULONG len = out.size();
      ASSERT_CKR_OK(f_->C_Digest(session_, const_cast<uint8_t*>(msg.data()), msg.size(), out.data(), &len));
      EXPECT_EQ(out, OsslDigest("SHA256", msg));
    }
  };
  messages(3, 1);                                 // made and kept on this thread
  std::thread([&] { messages(8, 40); }).join();   // re-armed there, then made anew there
  std::thread([&] { messages(8, 80); }).join();   // and on a third thread
  messages(8, 120);                               // and back home
}

}  // namespace
}  // namespace ferrohsm::abi
