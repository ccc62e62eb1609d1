// A bridged slot whose token or library fails: the slot answers CKR_TOKEN_NOT_PRESENT
// (or the library's CKR_DEVICE_ERROR on the call that failed), its sessions end, it
// comes back by itself with the same FerroHSM slot id — and no other slot notices.
//
// Two ways to fail: deleting a SoftHSMv2 token's directory under the running bridge
// (SoftHSMv2 then answers CKR_GENERAL_ERROR for that token; a re-created token has a
// new serial and a new slot id there, and is found only after re-initialisation), and
// the fault-injecting module of tests/client (forwarding to SoftHSMv2), which answers a
// code of our choosing.
#include "bridge_fixture.h"
#include "fault_control.h"

#include <dlfcn.h>

#include <algorithm>
#include <string>
#include <vector>

namespace bridge_test {
namespace {

using namespace std::chrono_literals;

// The slot's state as C_GetSlotInfo reports it.
bool TokenFlag(CK_FUNCTION_LIST* f, CK_SLOT_ID slot) {
  CK_SLOT_INFO si{};
  EXPECT_RV(CKR_OK, f->C_GetSlotInfo(slot, &si));
  return (si.flags & CKF_TOKEN_PRESENT) != 0;
}

TEST_F(BridgeTest, ADeletedTokenLeavesItsSlotEmptyUntilItIsCreatedAgain) {
  const std::string serial = InitToken(kLabel + "-x");  // a second token, so "bridged" is not the only one
  ASSERT_FALSE(serial.empty());
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge() + "\n" + SoftHsmBridge("token = \"" + kLabel + "-x\"")));
  CK_SLOT_ID keystore = Slots().at(0);
  std::string padded = "keystore" + std::string(24, ' ');
  ASSERT_RV(CKR_OK, f_->C_InitToken(keystore, utf8(kSoPin), kSoPin.size(), utf8(padded)));

  CK_SESSION_HANDLE s = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "doomed", pub, priv));
  CK_SESSION_HANDLE other = OpenLoggedIn(kSecondBridgeSlot);
  CK_OBJECT_HANDLE opub = CK_INVALID_HANDLE, opriv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(other, "survivor", opub, opriv));
  CK_SESSION_HANDLE own = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, f_->C_OpenSession(keystore, CKF_SERIAL_SESSION, nullptr, nullptr, &own));
  CK_TOKEN_INFO before{};
  ASSERT_RV(CKR_OK, f_->C_GetTokenInfo(kBridgeSlot, &before));
  const std::string old_serial = field(before.serialNumber, sizeof before.serialNumber);

  DeleteToken(old_serial);
  // The first call to notice is a session's: SoftHSMv2 answers CKR_GENERAL_ERROR (passed
  // on), and a look at the token finds it gone.
  CK_OBJECT_CLASS data = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE data_t[] = {{CKA_CLASS, &data, sizeof data}, {CKA_TOKEN, &yes, sizeof yes}};
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_GENERAL_ERROR, f_->C_CreateObject(s, data_t, 2, &obj));
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));  // its session ended with it
  CK_TOKEN_INFO ti{};
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_GetTokenInfo(kBridgeSlot, &ti));
  EXPECT_FALSE(TokenFlag(f_, kBridgeSlot));
  std::vector<CK_SLOT_ID> present = Slots(true), all = Slots(false);
  EXPECT_EQ(std::count(present.begin(), present.end(), kBridgeSlot), 0);
  EXPECT_EQ(std::count(all.begin(), all.end(), kBridgeSlot), 1);
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, SignOnce(s, priv));
  CK_SESSION_HANDLE none = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_OpenSession(kBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &none));

  // The other bridge over the same library, and the keystore, go on.
  EXPECT_RV(CKR_OK, SignOnce(other, opriv));
  EXPECT_TRUE(TokenFlag(f_, kSecondBridgeSlot));
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(own, &si));
  EXPECT_EQ(si.slotID, keystore);
  CK_BYTE random[8];
  EXPECT_RV(CKR_OK, f_->C_GenerateRandom(own, random, sizeof random));

  // Created again: SoftHSMv2 sees it only after a re-initialisation, which would end
  // the other bridge's session — so the slot waits while that session is open …
  const std::string new_serial = InitToken(kLabel);
  ASSERT_FALSE(new_serial.empty());
  EXPECT_NE(new_serial, old_serial);
  EXPECT_FALSE(WaitFor([&] { return TokenThere(kBridgeSlot); }, 1500ms));
  EXPECT_RV(CKR_OK, SignOnce(other, opriv));
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(other, &si));
  EXPECT_EQ(si.state, CKS_RW_USER_FUNCTIONS);

  // … and has its token back, under the same FerroHSM id, once nothing is open there.
  ASSERT_RV(CKR_OK, f_->C_CloseSession(other));
  ASSERT_TRUE(WaitFor([&] { return TokenThere(kBridgeSlot); }, 10s));
  CK_TOKEN_INFO after{};
  ASSERT_RV(CKR_OK, f_->C_GetTokenInfo(kBridgeSlot, &after));
  EXPECT_EQ(field(after.label, sizeof after.label), kLabel);
  EXPECT_EQ(field(after.serialNumber, sizeof after.serialNumber), new_serial);
  EXPECT_TRUE(TokenFlag(f_, kBridgeSlot));
  CK_SESSION_HANDLE again = OpenLoggedIn(kBridgeSlot);
  ASSERT_RV(CKR_OK, GenerateP256(again, "reborn", pub, priv));
  EXPECT_RV(CKR_OK, SignOnce(again, priv));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));  // the old session stays ended
  // The other bridge's token is still found, in the re-initialised library.
  CK_SESSION_HANDLE other_again = OpenLoggedIn(kSecondBridgeSlot);
  EXPECT_EQ(Find(other_again, CKO_PRIVATE_KEY, "survivor").size(), 1u);
  EXPECT_RV(CKR_OK, f_->C_GetSessionInfo(own, &si));
}

// A library that fails, through the fault-injecting module: bridge 0 is SoftHSMv2 itself
// (it initialises the library first, so the fault module never finalises it), bridge 1
// the fault module over the token "bridged".
class FaultTest : public BridgeTest, public ::testing::WithParamInterface<CK_RV> {
 protected:
  void SetUp() override {
    BridgeTest::SetUp();
    void* h = dlopen(FAULT_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    handle_ = h;
    set_ = reinterpret_cast<ferrohsm_fault_set_fn>(dlsym(h, "ferrohsm_fault_set"));
    reset_ = reinterpret_cast<ferrohsm_fault_reset_fn>(dlsym(h, "ferrohsm_fault_reset"));
    ASSERT_TRUE(set_ != nullptr && reset_ != nullptr);
    reset_();
    ASSERT_FALSE(InitToken("direct").empty());
  }
  void TearDown() override {
    if (reset_ != nullptr) reset_();
    BridgeTest::TearDown();
    if (handle_ != nullptr) dlclose(handle_);
  }
  CK_RV StartBoth() {
    return Start(SoftHsmBridge("token = \"direct\"") + "\n[[bridge]]\nmodule = \"" FAULT_MODULE_PATH
                                                         "\"\ntoken = \"bridged\"\n");
  }
  // From now on, the fault module answers `rv` (C_OpenSession, C_GetTokenInfo,
  // C_SignInit, C_VerifyInit, C_Login, C_GetSessionInfo) for `calls` calls.
  void Fail(CK_RV rv, long calls) {
    set_("device_fail_rv", static_cast<long>(rv));
    set_("device_fail_calls", calls);
  }

  void* handle_ = nullptr;
  ferrohsm_fault_set_fn set_ = nullptr;
  ferrohsm_fault_reset_fn reset_ = nullptr;
};

TEST_P(FaultTest, AFailingLibraryLosesTheSlotAloneUntilItWorksAgain) {
  const CK_RV code = GetParam();
  ASSERT_RV(CKR_OK, StartBoth());
  CK_SLOT_ID keystore = Slots().at(0);
  std::string padded = "keystore" + std::string(24, ' ');
  ASSERT_RV(CKR_OK, f_->C_InitToken(keystore, utf8(kSoPin), kSoPin.size(), utf8(padded)));
  CK_SESSION_HANDLE direct = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE dpub = CK_INVALID_HANDLE, dpriv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(direct, "direct-key", dpub, dpriv));
  CK_SESSION_HANDLE s = OpenLoggedIn(kSecondBridgeSlot), s2 = CK_INVALID_HANDLE;  // login is per token: s2 shares it
  ASSERT_RV(CKR_OK, f_->C_OpenSession(kSecondBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s2));
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "faulty-key", pub, priv));
  ASSERT_RV(CKR_OK, SignOnce(s, priv));

  Fail(code, 1'000'000);
  EXPECT_RV(code, SignOnce(s, priv));  // the library's answer, unchanged
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));  // both sessions ended
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s2, &si));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(s2));
  CK_TOKEN_INFO ti{};
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_GetTokenInfo(kSecondBridgeSlot, &ti));
  EXPECT_FALSE(TokenFlag(f_, kSecondBridgeSlot));
  CK_SESSION_HANDLE none = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_TOKEN_NOT_PRESENT, f_->C_OpenSession(kSecondBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &none));
  std::vector<CK_SLOT_ID> present = Slots(true);
  EXPECT_EQ(std::count(present.begin(), present.end(), kSecondBridgeSlot), 0);
  EXPECT_EQ(std::count(present.begin(), present.end(), kBridgeSlot), 1);

  // Nothing else notices: the other bridge (the same SoftHSMv2 underneath) and the keystore.
  EXPECT_RV(CKR_OK, SignOnce(direct, dpriv));
  ASSERT_RV(CKR_OK, f_->C_GetSessionInfo(direct, &si));
  EXPECT_EQ(si.state, CKS_RW_USER_FUNCTIONS);
  EXPECT_TRUE(TokenFlag(f_, keystore));
  CK_SESSION_HANDLE own = CK_INVALID_HANDLE;
  EXPECT_RV(CKR_OK, f_->C_OpenSession(keystore, CKF_SERIAL_SESSION, nullptr, nullptr, &own));

  // The library recovers: the slot comes back by itself, same id, its objects there.
  reset_();
  ASSERT_TRUE(WaitFor([&] { return TokenThere(kSecondBridgeSlot); }, 10s));
  EXPECT_TRUE(TokenFlag(f_, kSecondBridgeSlot));
  CK_SESSION_HANDLE again = OpenLoggedIn(kSecondBridgeSlot);
  std::vector<CK_OBJECT_HANDLE> keys = Find(again, CKO_PRIVATE_KEY, "faulty-key");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_RV(CKR_OK, SignOnce(again, keys[0]));
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));
  EXPECT_RV(CKR_OK, SignOnce(direct, dpriv));
}

INSTANTIATE_TEST_SUITE_P(Codes, FaultTest,
                         ::testing::Values(CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT),
                         [](const ::testing::TestParamInfo<CK_RV>& info) { return std::string(rv_name(info.param)); });

// One failed look at the token (C_GetTokenInfo answering CKR_DEVICE_ERROR) answers that
// code and ends the slot's sessions; the next call finds the token again at once.
TEST_F(FaultTest, OneDeviceErrorEndsTheSessionsAndTheNextCallFindsTheTokenAgain) {
  ASSERT_RV(CKR_OK, StartBoth());
  CK_SESSION_HANDLE s = OpenLoggedIn(kSecondBridgeSlot);
  Fail(CKR_DEVICE_ERROR, 1);
  CK_TOKEN_INFO ti{};
  EXPECT_RV(CKR_DEVICE_ERROR, f_->C_GetTokenInfo(kSecondBridgeSlot, &ti));
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));
  EXPECT_RV(CKR_OK, f_->C_GetTokenInfo(kSecondBridgeSlot, &ti));
  EXPECT_EQ(field(ti.label, sizeof ti.label), kLabel);
  CK_SESSION_HANDLE again = OpenLoggedIn(kSecondBridgeSlot);
  EXPECT_RV(CKR_OK, f_->C_GetSessionInfo(again, &si));
}

// The library closing one session (CKR_SESSION_CLOSED) ends that session only: the slot
// keeps its token and its other sessions.
TEST_F(FaultTest, ASessionTheLibraryClosedEndsAloneAndTheSlotStays) {
  ASSERT_RV(CKR_OK, StartBoth());
  CK_SESSION_HANDLE s = OpenLoggedIn(kSecondBridgeSlot), s2 = CK_INVALID_HANDLE;  // login is per token: s2 shares it
  ASSERT_RV(CKR_OK, f_->C_OpenSession(kSecondBridgeSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s2));
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(s, "k", pub, priv));
  set_("close_session_every", 1);
  EXPECT_RV(CKR_SESSION_CLOSED, SignOnce(s, priv));
  set_("close_session_every", 0);
  CK_SESSION_INFO si{};
  EXPECT_RV(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));
  EXPECT_RV(CKR_OK, f_->C_GetSessionInfo(s2, &si));
  EXPECT_RV(CKR_OK, SignOnce(s2, priv));
  EXPECT_TRUE(TokenThere(kSecondBridgeSlot));
}

}  // namespace
}  // namespace bridge_test
