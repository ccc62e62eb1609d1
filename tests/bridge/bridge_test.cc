// The bridge slot backend end to end (the fixture: bridge_fixture.h): the slots, what
// runs on a bridged token, session handles, return codes and the token policy.
#include "bridge_fixture.h"

#include <algorithm>
#include <string>
#include <vector>

namespace bridge_test {
namespace {

TEST_F(BridgeTest, ListsTheKeystoreSlotAndTheBridgedSlot) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge()));
  std::vector<CK_SLOT_ID> slots = Slots();
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_LT(slots[0], kBridgeBase);  // the keystore's free slot
  EXPECT_EQ(slots[1], kBridgeSlot);
  CK_TOKEN_INFO info{};
  ASSERT_RV(CKR_OK, f_->C_GetTokenInfo(kBridgeSlot, &info));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(info.label), 7), kLabel);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(info.manufacturerID), 15), "SoftHSM project");
  EXPECT_TRUE(info.flags & CKF_TOKEN_INITIALIZED);
  CK_SLOT_INFO slot{};
  EXPECT_RV(CKR_OK, f_->C_GetSlotInfo(kBridgeSlot, &slot));
  EXPECT_RV(CKR_SLOT_ID_INVALID, f_->C_GetSlotInfo(kBridgeSlot + 1, &slot));
}

TEST_F(BridgeTest, GeneratesSignsVerifiesAndFindsOnTheBridgedToken) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge()));
  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "bridge-key", pub, priv));

  const std::string message = "signed through the bridge";
  std::vector<CK_BYTE> digest = sha256(message);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  ASSERT_RV(CKR_OK, f_->C_SignInit(s, &ecdsa, priv));
  CK_ULONG sig_len = 0;
  ASSERT_RV(CKR_OK, f_->C_Sign(s, digest.data(), digest.size(), nullptr, &sig_len));  // the length only
  ASSERT_EQ(sig_len, 64u);
  std::vector<CK_BYTE> sig(sig_len);
  ASSERT_RV(CKR_OK, f_->C_Sign(s, digest.data(), digest.size(), sig.data(), &sig_len));

  ASSERT_RV(CKR_OK, f_->C_VerifyInit(s, &ecdsa, pub));
  EXPECT_RV(CKR_OK, f_->C_Verify(s, digest.data(), digest.size(), sig.data(), sig.size()));
  std::vector<CK_BYTE> bad = sig;
  bad[10] ^= 1;
  ASSERT_RV(CKR_OK, f_->C_VerifyInit(s, &ecdsa, pub));
  EXPECT_RV(CKR_SIGNATURE_INVALID, f_->C_Verify(s, digest.data(), digest.size(), bad.data(), bad.size()));

  std::vector<CK_BYTE> point(128);
  CK_ATTRIBUTE a{CKA_EC_POINT, point.data(), point.size()};
  ASSERT_RV(CKR_OK, f_->C_GetAttributeValue(s, pub, &a, 1));
  point.resize(a.ulValueLen);
  EXPECT_TRUE(openssl_verifies(point, message, sig));
  EXPECT_FALSE(openssl_verifies(point, message + ".", sig));

  // The private key's value stays in SoftHSMv2: the token's own answer comes through.
  std::vector<CK_BYTE> value(64);
  CK_ATTRIBUTE v{CKA_VALUE, value.data(), value.size()};
  EXPECT_RV(CKR_ATTRIBUTE_SENSITIVE, f_->C_GetAttributeValue(s, priv, &v, 1));

  EXPECT_EQ(Find(s, CKO_PRIVATE_KEY, "bridge-key"), std::vector<CK_OBJECT_HANDLE>{priv});
  EXPECT_EQ(Find(s, CKO_PUBLIC_KEY, "bridge-key"), std::vector<CK_OBJECT_HANDLE>{pub});
  EXPECT_TRUE(Find(s, CKO_PRIVATE_KEY, "no-such-key").empty());

  // Token objects outlive the session; after logout the private key is not found.
  EXPECT_RV(CKR_OK, f_->C_Logout(s));
  EXPECT_TRUE(Find(s, CKO_PRIVATE_KEY, "bridge-key").empty());
  EXPECT_EQ(Find(s, CKO_PUBLIC_KEY, "bridge-key").size(), 1u);
  EXPECT_RV(CKR_OK, f_->C_CloseSession(s));
}

TEST_F(BridgeTest, SessionHandlesOfTheTwoBackendsDoNotCollide) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge()));
  CK_SLOT_ID keystore = Slots().at(0);
  std::string padded = "keystore" + std::string(24, ' ');
  ASSERT_RV(CKR_OK, f_->C_InitToken(keystore, utf8(kSoPin), kSoPin.size(), utf8(padded)));

  std::vector<CK_SESSION_HANDLE> own, bridged;
  for (int i = 0; i < 3; ++i) {
    CK_SESSION_HANDLE a = CK_INVALID_HANDLE, b = CK_INVALID_HANDLE;
    ASSERT_RV(CKR_OK, f_->C_OpenSession(keystore, CKF_SERIAL_SESSION, nullptr, nullptr, &a));
    ASSERT_RV(CKR_OK, f_->C_OpenSession(kBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &b));
    own.push_back(a);
    bridged.push_back(b);
  }
  for (CK_SESSION_HANDLE h : own) EXPECT_LT(h, kBridgeBase);
  for (CK_SESSION_HANDLE h : bridged) {
    EXPECT_GT(h, kBridgeBase);
    EXPECT_LT(h, kBridgeBase + kBridgeSpan);
    EXPECT_EQ(std::count(bridged.begin(), bridged.end(), h), 1);
  }
  CK_SESSION_INFO info{};
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(bridged[0], &info));
  EXPECT_EQ(info.slotID, kBridgeSlot);  // FerroHSM's slot id, not SoftHSMv2's
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(own[0], &info));
  EXPECT_EQ(info.slotID, keystore);

  // Closing one backend's sessions leaves the other's.
  ASSERT_RV(CKR_OK, f_->C_CloseAllSessions(keystore));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(own[0], &info));
  EXPECT_RV(CKR_OK, f_->C_GetSessionInfo(bridged[2], &info));
  ASSERT_RV(CKR_OK, f_->C_CloseSession(bridged[1]));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(bridged[1]));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(kBridgeBase + kBridgeSpan - 1, &info));
  ASSERT_RV(CKR_OK, f_->C_CloseAllSessions(kBridgeSlot));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(bridged[0], &info));
}

TEST_F(BridgeTest, TheBridgedTokensReturnCodesPassThrough) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge()));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, f_->C_OpenSession(kBridgeSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
  const std::string wrong = "not-the-pin";
  EXPECT_RV(CKR_PIN_INCORRECT, f_->C_Login(s, CKU_USER, utf8(wrong), wrong.size()));
  EXPECT_RV(CKR_OK, f_->C_Login(s, CKU_USER, utf8(kUserPin), kUserPin.size()));
  EXPECT_RV(CKR_USER_ALREADY_LOGGED_IN, f_->C_Login(s, CKU_USER, utf8(kUserPin), kUserPin.size()));
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  CK_BYTE one[1] = {0};
  EXPECT_RV(CKR_OPERATION_NOT_INITIALIZED, f_->C_Verify(s, one, 1, one, 1));  // SoftHSMv2's answer
  EXPECT_RV(CKR_ARGUMENTS_BAD, f_->C_Verify(s, nullptr, 1, one, 1));          // FerroHSM's checks answer first
  CK_BYTE random[16] = {};
  EXPECT_RV(CKR_OK, f_->C_GenerateRandom(s, random, sizeof random));
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "rv-key", pub, priv));
  ASSERT_RV(CKR_OK, f_->C_SignInit(s, &ecdsa, priv));
  EXPECT_RV(CKR_OPERATION_ACTIVE, f_->C_SignInit(s, &ecdsa, priv));
}

TEST_F(BridgeTest, AMechanismTheTokenPolicyDeniesIsRefusedOnTheBridgedSlot) {
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge() + "\n[token.\"bridged\"]\ndeny_mechanisms = [0x1041]\n"));  // CKM_ECDSA
  CK_ULONG n = 0;
  ASSERT_RV(CKR_OK, f_->C_GetMechanismList(kBridgeSlot, nullptr, &n));
  std::vector<CK_MECHANISM_TYPE> mechs(n);
  ASSERT_RV(CKR_OK, f_->C_GetMechanismList(kBridgeSlot, mechs.data(), &n));
  mechs.resize(n);
  EXPECT_EQ(std::count(mechs.begin(), mechs.end(), CKM_ECDSA), 0);
  EXPECT_EQ(std::count(mechs.begin(), mechs.end(), CKM_EC_KEY_PAIR_GEN), 1);  // from SoftHSMv2's own list
  CK_MECHANISM_INFO mi{};
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_GetMechanismInfo(kBridgeSlot, CKM_ECDSA, &mi));
  ASSERT_RV(CKR_OK, f_->C_GetMechanismInfo(kBridgeSlot, CKM_EC_KEY_PAIR_GEN, &mi));
  EXPECT_TRUE(mi.flags & CKF_GENERATE_KEY_PAIR);

  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "denied", pub, priv));
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &ecdsa, priv));
  EXPECT_RV(CKR_MECHANISM_INVALID, f_->C_VerifyInit(s, &ecdsa, pub));
}

TEST_F(BridgeTest, ABridgeThatCannotLoadKeepsItsPlaceAndTheNextOneWorks) {
  ASSERT_RV(CKR_OK, Start("[[bridge]]\nmodule = \"/nonexistent/libnothing.so\"\n\n" + SoftHsmBridge()));
  std::vector<CK_SLOT_ID> slots = Slots();
  EXPECT_EQ(std::count(slots.begin(), slots.end(), kBridgeSlot), 0);
  ASSERT_EQ(std::count(slots.begin(), slots.end(), kSecondBridgeSlot), 1);
  CK_SESSION_HANDLE s = OpenLoggedIn(kSecondBridgeSlot);
  EXPECT_GT(s, kBridgeBase + kBridgeSpan);
  CK_SESSION_INFO info{};
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(s, &info));
  EXPECT_EQ(info.slotID, kSecondBridgeSlot);
  EXPECT_EQ(info.state, CKS_RW_USER_FUNCTIONS);
}

TEST_F(BridgeTest, AnUnknownBridgeKeyIsRefused) {
  EXPECT_NE(CKR_OK, Start("[[bridge]]\nmodule = \"" SOFTHSM_MODULE_PATH "\"\nlabel = \"bridged\"\n"));
  EXPECT_NE(CKR_OK, Start("[bridge]\nmodule = \"" SOFTHSM_MODULE_PATH "\"\n"));
}

}  // namespace
}  // namespace bridge_test
