// Slots and tokens: C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_InitToken.
#include <algorithm>
#include <cstring>
#include <map>

#include "fixture/attributes.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

std::string Label(const CK_TOKEN_INFO& info) {
  return std::string(reinterpret_cast<const char*>(info.label), sizeof info.label);
}

class SlotTokenTest : public ModuleTest {
 protected:
  CK_SLOT_ID InvalidSlot() {
    CK_SLOT_ID max = 0;
    for (CK_SLOT_ID s : Slots(false)) max = std::max(max, s);
    return max + 12345;
  }
};

TEST_F(SlotTokenTest, FreshStoreHasOneFreeSlotWithAnUninitialisedToken) {
  std::vector<CK_SLOT_ID> all = Slots(false);
  ASSERT_FALSE(all.empty());
  int free_slots = 0;
  for (CK_SLOT_ID slot : all) {
    CK_SLOT_INFO info{};
    ASSERT_CKR_OK(f_->C_GetSlotInfo(slot, &info));
    EXPECT_TRUE(info.flags & CKF_TOKEN_PRESENT) << "slot " << slot;
    EXPECT_FALSE(HasNul(info.slotDescription, sizeof info.slotDescription));
    EXPECT_FALSE(HasNul(info.manufacturerID, sizeof info.manufacturerID));
    if ((TokenFlags(slot) & CKF_TOKEN_INITIALIZED) == 0) ++free_slots;
  }
  EXPECT_EQ(free_slots, 1);
  if (!IsSoftHsm()) {
    EXPECT_EQ(all.size(), 1u) << "a fresh FerroHSM store has only the free slot";
  }
  EXPECT_EQ(Slots(true), all) << "every slot holds a token";
}

TEST_F(SlotTokenTest, SlotListLengthQueryAndBufferTooSmall) {
  ASSERT_NE(InitToken("first"), kNoSlot);
  CK_ULONG count = 0;
  ASSERT_CKR_OK(f_->C_GetSlotList(CK_FALSE, nullptr, &count));
  ASSERT_GE(count, 2u) << "an initialised token plus the free slot";
  std::vector<CK_SLOT_ID> slots(count);
  CK_ULONG short_count = count - 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetSlotList(CK_FALSE, slots.data(), &short_count));
  EXPECT_EQ(short_count, count) << "CKR_BUFFER_TOO_SMALL must report the needed count";
  CK_ULONG zero = 0;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetSlotList(CK_TRUE, slots.data(), &zero));
  EXPECT_EQ(zero, count);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSlotList(CK_FALSE, nullptr, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSlotList(CK_FALSE, slots.data(), nullptr));
  CK_ULONG big = count + 5;
  std::vector<CK_SLOT_ID> larger(big);
  ASSERT_CKR_OK(f_->C_GetSlotList(CK_FALSE, larger.data(), &big));
  EXPECT_EQ(big, count);
}

TEST_F(SlotTokenTest, InitTokenKeepsSlotIdAndAddsANewFreeSlot) {
  CK_SLOT_ID free_slot = FreeSlot();
  ASSERT_NE(free_slot, kNoSlot);
  ASSERT_EQ(InitTokenOnly("kept-slot"), free_slot);
  EXPECT_EQ(Label(TokenInfo(free_slot)), Padded("kept-slot", 32));
  EXPECT_TRUE(TokenFlags(free_slot) & CKF_TOKEN_INITIALIZED);
  // SoftHSMv2 re-enumerates slots only at C_Initialize; FerroHSM adds the free slot at once.
  if (IsSoftHsm()) Reinitialize();
  CK_SLOT_ID next_free = FreeSlot();
  ASSERT_NE(next_free, kNoSlot);
  if (!IsSoftHsm()) {
    EXPECT_NE(next_free, free_slot);
  }
}

TEST_F(SlotTokenTest, SlotIdsAreStableAcrossFinalizeAndInitialize) {
  ASSERT_NE(InitTokenOnly("token-a"), kNoSlot);
  if (IsSoftHsm()) Reinitialize();  // SoftHSMv2 renumbers slots here, once
  CK_SLOT_ID b = InitTokenOnly("token-b");
  ASSERT_NE(b, kNoSlot);
  if (IsSoftHsm()) Reinitialize();
  std::map<CK_SLOT_ID, std::string> before;
  for (CK_SLOT_ID s : Slots(true)) before[s] = Label(TokenInfo(s));
  Reinitialize();
  std::map<CK_SLOT_ID, std::string> after;
  for (CK_SLOT_ID s : Slots(true)) after[s] = Label(TokenInfo(s));
  EXPECT_EQ(before, after);
  if (!IsSoftHsm()) {
    EXPECT_EQ(after[b], Padded("token-b", 32));
  }
}

TEST_F(SlotTokenTest, InvalidSlotIdIsRejectedEverywhere) {
  CK_SLOT_ID bad = InvalidSlot();
  CK_SLOT_INFO slot_info{};
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetSlotInfo(bad, &slot_info));
  CK_TOKEN_INFO token_info{};
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetTokenInfo(bad, &token_info));
  CK_ULONG count = 0;
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetMechanismList(bad, nullptr, &count));
  CK_MECHANISM_INFO mech_info{};
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_GetMechanismInfo(bad, CKM_SHA256, &mech_info));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_SLOT_ID_INVALID,
             f_->C_OpenSession(bad, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
  std::string label = Padded("x", 32);
  EXPECT_CKR(CKR_SLOT_ID_INVALID,
             f_->C_InitToken(bad, U8(kSoPin), std::strlen(kSoPin), U8(label)));
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_CloseAllSessions(bad));
}

TEST_F(SlotTokenTest, InfoCallsRejectNullOutput) {
  CK_SLOT_ID slot = FreeSlot();
  ASSERT_NE(slot, kNoSlot);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSlotInfo(slot, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetTokenInfo(slot, nullptr));
}

TEST_F(SlotTokenTest, TokenInfoAfterInitialisation) {
  CK_SLOT_ID slot = InitTokenOnly("flags-token");
  ASSERT_NE(slot, kNoSlot);
  CK_TOKEN_INFO info = TokenInfo(slot);
  EXPECT_EQ(Label(info), Padded("flags-token", 32));
  EXPECT_TRUE(info.flags & CKF_TOKEN_INITIALIZED);
  EXPECT_TRUE(info.flags & CKF_LOGIN_REQUIRED);
  EXPECT_TRUE(info.flags & CKF_RNG);
  EXPECT_FALSE(info.flags & CKF_USER_PIN_INITIALIZED) << "no user PIN set yet";
  EXPECT_FALSE(info.flags & (CKF_USER_PIN_LOCKED | CKF_SO_PIN_LOCKED));
  EXPECT_FALSE(HasNul(info.manufacturerID, sizeof info.manufacturerID));
  EXPECT_FALSE(HasNul(info.model, sizeof info.model));
  EXPECT_FALSE(HasNul(info.serialNumber, sizeof info.serialNumber));
  EXPECT_LE(info.ulMinPinLen, info.ulMaxPinLen);
  if (!IsSoftHsm()) {
    EXPECT_EQ(info.ulMinPinLen, 4u) << "[pin] min_length";
    EXPECT_EQ(info.ulMaxPinLen, 128u) << "[pin] max_length";
  }
  CK_SESSION_HANDLE s = Open(slot);
  ASSERT_CKR_OK(Login(s, CKU_SO, kSoPin));
  ASSERT_CKR_OK(f_->C_InitPIN(s, U8(kUserPin), std::strlen(kUserPin)));
  EXPECT_TRUE(TokenFlags(slot) & CKF_USER_PIN_INITIALIZED);
}

TEST_F(SlotTokenTest, FullWidthLabelIsKeptExactly) {
  std::string label = "0123456789abcdefghijklmnopqrstuv";  // 32 bytes, no padding
  ASSERT_EQ(label.size(), 32u);
  CK_SLOT_ID slot = InitTokenOnly(label);
  ASSERT_NE(slot, kNoSlot);
  EXPECT_EQ(Label(TokenInfo(slot)), label);
}

TEST_F(SlotTokenTest, ReinitRequiresTheSoPinAndWipesTheToken) {
  CK_SLOT_ID slot = InitToken("to-wipe");
  ASSERT_NE(slot, kNoSlot);
  CK_SESSION_HANDLE s = OpenUser(slot);
  ASSERT_CKR_OK(CreateObject(f_, s, DataObject("survivor?", true)).rv);
  std::string label = Padded("wiped", 32);
  // A session is open: the token cannot be re-initialised.
  EXPECT_CKR(CKR_SESSION_EXISTS, f_->C_InitToken(slot, U8(kSoPin), std::strlen(kSoPin), U8(label)));
  ASSERT_CKR_OK(f_->C_CloseSession(s));
  std::string wrong = "wrong-so-pin";
  EXPECT_CKR(CKR_PIN_INCORRECT, f_->C_InitToken(slot, U8(wrong), wrong.size(), U8(label)));
  EXPECT_EQ(Label(TokenInfo(slot)), Padded("to-wipe", 32)) << "a refused re-init changed the token";
  ASSERT_CKR_OK(f_->C_InitToken(slot, U8(kSoPin), std::strlen(kSoPin), U8(label)));
  EXPECT_EQ(Label(TokenInfo(slot)), label);
  // §5.6 C_InitToken: objects are destroyed and the normal user is disabled until
  // the SO sets a user PIN again.
  EXPECT_FALSE(TokenFlags(slot) & CKF_USER_PIN_INITIALIZED);
  s = Open(slot);
  EXPECT_TRUE(Find(f_, s, Template().Str(CKA_LABEL, "survivor?")).empty());
}

TEST_F(SlotTokenTest, InitTokenRejectsBadPinLengthAndNullArguments) {
  CK_SLOT_ID slot = FreeSlot();
  ASSERT_NE(slot, kNoSlot);
  std::string label = Padded("bad-args", 32);
  // SoftHSMv2 answers CKR_PIN_INCORRECT here; the spec's code is CKR_PIN_LEN_RANGE.
  if (!IsSoftHsm()) {
    std::string too_short = "abc";
    EXPECT_CKR(CKR_PIN_LEN_RANGE,
               f_->C_InitToken(slot, U8(too_short), too_short.size(), U8(label)));
    std::string too_long(300, 'p');
    EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_InitToken(slot, U8(too_long), too_long.size(), U8(label)));
  }
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_InitToken(slot, U8(kSoPin), std::strlen(kSoPin), nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_InitToken(slot, nullptr, 8, U8(label)));
  EXPECT_FALSE(TokenFlags(slot) & CKF_TOKEN_INITIALIZED);
}

}  // namespace
}  // namespace ferrohsm::abi
