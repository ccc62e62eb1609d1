// The fixture of the bridge's end-to-end tests: libferrohsm-pkcs11.so with [[bridge]]
// entries to a real SoftHSMv2 (its own token directory in a temporary folder, tokens
// initialised by softhsm2-util), driven only through the PKCS#11 C ABI.
#pragma once

#include "base/names.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace bridge_test {

using ferrohsm::rv_name;

constexpr CK_SLOT_ID kBridgeSlot = 0x40000000;        // bridge 0's first slot (App::kBridgeBase)
constexpr CK_SLOT_ID kSecondBridgeSlot = 0x41000000;  // bridge 1's (App::kBridgeBase + kBridgeSpan)
constexpr CK_SESSION_HANDLE kBridgeBase = 0x40000000, kBridgeSpan = 0x01000000;
inline const std::string kSoPin = "so-87654321", kUserPin = "user-1234", kLabel = "bridged";
// DER of the OID of P-256 (prime256v1), as CKA_EC_PARAMS.
inline const std::vector<CK_BYTE> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

#define EXPECT_RV(expected, call) EXPECT_STREQ(rv_name(expected), rv_name(call))
#define ASSERT_RV(expected, call) ASSERT_STREQ(rv_name(expected), rv_name(call))

CK_UTF8CHAR_PTR utf8(const std::string& s);
std::vector<CK_BYTE> sha256(const std::string& data);
// Checks an ECDSA P-256 signature (r || s) over SHA-256(data) with OpenSSL, from the
// public key's CKA_EC_POINT (a DER OCTET STRING holding the uncompressed point).
bool openssl_verifies(const std::vector<CK_BYTE>& ec_point_der, const std::string& data,
                      const std::vector<CK_BYTE>& sig);
// The unpadded text of a CK_TOKEN_INFO / CK_SLOT_INFO field.
std::string field(const CK_UTF8CHAR* f, size_t n);

class BridgeTest : public ::testing::Test {
 protected:
  // A SoftHSMv2 token directory with one token labelled kLabel.
  void SetUp() override;
  void TearDown() override;

  // Writes ferrohsm.toml with `bridges` (and anything else) after the store settings,
  // then loads and initialises the module.
  CK_RV Start(const std::string& bridges);
  static std::string SoftHsmBridge(const std::string& selector = "token = \"bridged\"");

  // Another SoftHSMv2 token (softhsm2-util, another process); returns its serial number.
  std::string InitToken(const std::string& label);
  // Deletes the token's directory, as an operator or a disk failure would.
  void DeleteToken(const std::string& serial);

  std::vector<CK_SLOT_ID> Slots(bool token_present = true);
  CK_SESSION_HANDLE OpenLoggedIn(CK_SLOT_ID slot);
  CK_RV GenerateP256(CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE& pub, CK_OBJECT_HANDLE& priv);
  std::vector<CK_OBJECT_HANDLE> Find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const std::string& label);
  // C_SignInit + C_Sign (ECDSA over a SHA-256) with `priv`; the first code that is not CKR_OK.
  CK_RV SignOnce(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv);
  // Calls `done` every 20 ms until it is true or `limit` has passed; whether it became true.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit);
  // Whether C_GetTokenInfo on `slot` answers CKR_OK (the token is there).
  bool TokenThere(CK_SLOT_ID slot);

  std::string dir_;
  CK_FUNCTION_LIST* f_ = nullptr;
  bool initialized_ = false;
};

}  // namespace bridge_test
