// Which token a [[bridge]] serves (token, serial or uri) and which of the library's
// mechanisms it lets through (mechanisms = [...]), end to end against SoftHSMv2.
#include "bridge_fixture.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace bridge_test {
namespace {

std::set<CK_MECHANISM_TYPE> MechanismList(CK_FUNCTION_LIST* f, CK_SLOT_ID slot) {
  CK_ULONG n = 0;
  EXPECT_RV(CKR_OK, f->C_GetMechanismList(slot, nullptr, &n));
  std::vector<CK_MECHANISM_TYPE> list(n);
  EXPECT_RV(CKR_OK, f->C_GetMechanismList(slot, list.data(), &n));
  return {list.begin(), list.begin() + static_cast<long>(std::min<CK_ULONG>(n, list.size()))};
}

std::string Label(CK_FUNCTION_LIST* f, CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  EXPECT_RV(CKR_OK, f->C_GetTokenInfo(slot, &info));
  return field(info.label, sizeof info.label);
}

TEST_F(BridgeTest, ASerialSelectsThatToken) {
  const std::string serial = InitToken("other");
  ASSERT_FALSE(serial.empty());
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge("serial = \"" + serial + "\"")));
  EXPECT_EQ(Label(f_, kBridgeSlot), "other");
  CK_TOKEN_INFO info{};
  ASSERT_RV(CKR_OK, f_->C_GetTokenInfo(kBridgeSlot, &info));
  EXPECT_EQ(field(info.serialNumber, sizeof info.serialNumber), serial);
  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_SESSION_INFO si{};
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(s, &si));
  EXPECT_EQ(si.state, CKS_RW_USER_FUNCTIONS);
}

TEST_F(BridgeTest, AUriSelectsByTokenAttributes) {
  InitToken("other one");
  const std::string uri = "pkcs11:token=other%20one;manufacturer=SoftHSM%20project;model=SoftHSM%20v2";
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge("uri = \"" + uri + "\"")));
  EXPECT_EQ(Label(f_, kBridgeSlot), "other one");
}

// A selector that matches no token gives a slot without a token: listed by
// C_GetSlotList(CK_FALSE) only, CKR_TOKEN_NOT_PRESENT for what needs the token.
TEST_F(BridgeTest, ASelectorThatMatchesNoTokenGivesASlotWithoutOne) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge("uri = \"pkcs11:token=bridged;model=SoftHSM%20v3\"")));
  std::vector<CK_SLOT_ID> all = Slots(false), present = Slots(true);
  EXPECT_EQ(std::count(all.begin(), all.end(), kBridgeSlot), 1);
  EXPECT_EQ(std::count(present.begin(), present.end(), kBridgeSlot), 0);
  EXPECT_EQ(present.size(), 1u);  // the keystore's slot
  CK_SLOT_INFO si{};
  ASSERT_RV(CKR_OK, f_->C_GetSlotInfo(kBridgeSlot, &si));
  EXPECT_FALSE(si.flags & CKF_TOKEN_PRESENT);
  EXPECT_TRUE(si.flags & CKF_REMOVABLE_DEVICE);
  CK_TOKEN_INFO ti{};
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_GetTokenInfo(kBridgeSlot, &ti));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_OpenSession(kBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
  CK_ULONG n = 0;
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_GetMechanismList(kBridgeSlot, nullptr, &n));
  EXPECT_RV(CKR_SLOT_ID_INVALID, f_->C_GetSlotInfo(kBridgeSlot + 1, &si));
}

// SoftHSMv2 finds tokens only at C_Initialize: the bridge re-initialises it (nothing is
// open on it) and the slot gets its token without a restart of FerroHSM.
TEST_F(BridgeTest, ATokenCreatedAfterTheStartIsFoundByItself) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge("token = \"late\"")));
  EXPECT_FALSE(TokenThere(kBridgeSlot));
  InitToken("late");
  ASSERT_TRUE(WaitFor([&] { return TokenThere(kBridgeSlot); }, std::chrono::seconds(10)));
  EXPECT_EQ(Label(f_, kBridgeSlot), "late");
  std::vector<CK_SLOT_ID> present = Slots(true);
  EXPECT_EQ(std::count(present.begin(), present.end(), kBridgeSlot), 1);
  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "late-key", pub, priv));
  EXPECT_RV(CKR_OK, SignOnce(s, priv));
}

// mechanisms = [...]: the slot offers what both the list and the library have, and
// every kind of call with anything else answers CKR_MECHANISM_INVALID. The list is the
// bridge's: another bridge over the same library, and the keystore, keep theirs.
TEST_F(BridgeTest, TheMechanismListOfABridgeIsItsListCutByTheLibrarys) {
  InitToken("other");
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge() +
                          "mechanisms = [\"CKM_EC_KEY_PAIR_GEN\", \"CKM_ECDSA\", \"CKM_SHA256\", \"CKM_ECDSA_SHA256\", "
                          "\"CKM_CHACHA20_POLY1305\"]\n\n" +
                          SoftHsmBridge("token = \"other\"")));
  // SoftHSMv2 has neither CKM_ECDSA_SHA256 nor CKM_CHACHA20_POLY1305.
  EXPECT_EQ(MechanismList(f_, kBridgeSlot), (std::set<CK_MECHANISM_TYPE>{CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, CKM_SHA256}));
  CK_MECHANISM_INFO mi{};
  EXPECT_RV(CKR_OK, f_->C_GetMechanismInfo(kBridgeSlot, CKM_ECDSA, &mi));
  EXPECT_TRUE(mi.flags & CKF_SIGN);
  for (CK_MECHANISM_TYPE m : {CKM_SHA512, CKM_AES_KEY_GEN, CKM_ECDSA_SHA256, CKM_CHACHA20_POLY1305})
    EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_GetMechanismInfo(kBridgeSlot, m, &mi)) << ferrohsm::mechanism_name(m);

  std::set<CK_MECHANISM_TYPE> other = MechanismList(f_, kSecondBridgeSlot);
  EXPECT_EQ(other.count(CKM_SHA512), 1u);
  EXPECT_EQ(other.count(CKM_AES_KEY_GEN), 1u);
  EXPECT_EQ(MechanismList(f_, Slots().at(0)).count(CKM_SHA512), 1u);  // the keystore

  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "allowed", pub, priv));
  EXPECT_RV(CKR_OK, SignOnce(s, priv));
  CK_MECHANISM sha256m{CKM_SHA256, nullptr, 0}, sha512m{CKM_SHA512, nullptr, 0};
  ASSERT_RV(CKR_OK, f_->C_DigestInit(s, &sha256m));
  CK_BYTE md[32];
  CK_ULONG md_len = sizeof md;
  CK_BYTE data[3] = {1, 2, 3};
  EXPECT_RV(CKR_OK, f_->C_Digest(s, data, sizeof data, md, &md_len));

  // Refused by FerroHSM before the library sees them (the library has every one).
  CK_BBOOL yes = CK_TRUE;
  CK_ULONG len32 = 32;
  CK_ATTRIBUTE aes_t[] = {{CKA_VALUE_LEN, &len32, sizeof len32}, {CKA_WRAP, &yes, sizeof yes}};
  CK_MECHANISM aes_gen{CKM_AES_KEY_GEN, nullptr, 0}, ecdsa_sha1{CKM_ECDSA_SHA1, nullptr, 0};
  CK_MECHANISM aes_ecb{CKM_AES_ECB, nullptr, 0}, kw{CKM_AES_KEY_WRAP, nullptr, 0};
  CK_OBJECT_HANDLE aes = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_GenerateKey(s, &aes_gen, aes_t, 2, &aes));
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_DigestInit(s, &sha512m));
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &ecdsa_sha1, priv));
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_EncryptInit(s, &aes_ecb, priv));
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_DecryptInit(s, &aes_ecb, priv));
  CK_ULONG wrapped_len = 0;
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_WrapKey(s, &kw, pub, priv, nullptr, &wrapped_len));
  CK_BYTE wrapped[40] = {};
  CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
  CK_KEY_TYPE aes_type = CKK_AES;
  CK_ATTRIBUTE unwrap_t[] = {{CKA_CLASS, &secret, sizeof secret}, {CKA_KEY_TYPE, &aes_type, sizeof aes_type}};
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_UnwrapKey(s, &kw, pub, wrapped, sizeof wrapped, unwrap_t, 2, &aes));
  CK_BYTE point[65] = {0x04};
  CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, sizeof point, point};
  CK_MECHANISM derive{CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh};
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_DeriveKey(s, &derive, priv, unwrap_t, 2, &aes));

  // The same calls on the other bridge reach the library.
  CK_SESSION_HANDLE o = OpenLoggedIn(kSecondBridgeSlot);
  EXPECT_RV(CKR_OK, f_->C_GenerateKey(o, &aes_gen, aes_t, 2, &aes));
  EXPECT_RV(CKR_OK, f_->C_DigestInit(o, &sha512m));
}

}  // namespace
}  // namespace bridge_test
