// The bridge slot backend end to end: libferrohsm-pkcs11.so with a [[bridge]] to a real
// SoftHSMv2 (its own token directory in a temporary folder, its token initialised by
// softhsm2-util), driven only through the PKCS#11 C ABI.
#include "base/names.h"
#include "base/pkcs11_library.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ferrohsm::rv_name;

namespace {

constexpr CK_SLOT_ID kBridgeSlot = 0x40000000;        // bridge 0's first slot (App::kBridgeBase)
constexpr CK_SLOT_ID kSecondBridgeSlot = 0x41000000;  // bridge 1's (App::kBridgeBase + kBridgeSpan)
constexpr CK_SESSION_HANDLE kBridgeBase = 0x40000000, kBridgeSpan = 0x01000000;
const std::string kSoPin = "so-87654321", kUserPin = "user-1234", kLabel = "bridged";
// DER of the OID of P-256 (prime256v1), as CKA_EC_PARAMS.
const std::vector<CK_BYTE> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

#define EXPECT_RV(expected, call) EXPECT_STREQ(rv_name(expected), rv_name(call))
#define ASSERT_RV(expected, call) ASSERT_STREQ(rv_name(expected), rv_name(call))

CK_UTF8CHAR_PTR utf8(const std::string& s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s.data())); }

std::vector<CK_BYTE> sha256(const std::string& data) {
  std::vector<CK_BYTE> md(32);
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_sha256(), nullptr);
  return md;
}

// Checks an ECDSA P-256 signature (r || s) over SHA-256(data) with OpenSSL, from the
// public key's CKA_EC_POINT (a DER OCTET STRING holding the uncompressed point).
bool openssl_verifies(const std::vector<CK_BYTE>& ec_point_der, const std::string& data,
                      const std::vector<CK_BYTE>& sig) {
  if (ec_point_der.size() != 67 || ec_point_der[0] != 0x04 || ec_point_der[1] != 65 || sig.size() != 64) {
    return false;
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, ec_point_der.data() + 2, 65);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool built = EVP_PKEY_fromdata_init(kctx) == 1 && EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(sig.data(), 32, nullptr), BN_bin2bn(sig.data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = built && der_len > 0 && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(md, der, der_len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(kctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return ok;
}

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ferrohsm-bridge-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    fs::create_directories(dir_ + "/tokens");
    std::ofstream(dir_ + "/softhsm2.conf") << "directories.tokendir = " << dir_
                                           << "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n";
    setenv("SOFTHSM2_CONF", (dir_ + "/softhsm2.conf").c_str(), 1);
    const std::string init = "softhsm2-util --init-token --free --label " + kLabel + " --so-pin " + kSoPin +
                             " --pin " + kUserPin + " >" + dir_ + "/softhsm2-util.log 2>&1";
    ASSERT_EQ(std::system(init.c_str()), 0) << "softhsm2-util failed (is Debian's softhsm2 installed?)";
  }

  void TearDown() override {
    if (initialized_) {
      EXPECT_RV(CKR_OK, f_->C_Finalize(nullptr));
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Writes ferrohsm.toml with `bridges` (and anything else) after the store settings,
  // then loads and initialises the module.
  CK_RV Start(const std::string& bridges) {
    std::ofstream(dir_ + "/ferrohsm.toml") << "[store]\npath = \"" << dir_ << "/ferrohsm.db\"\n"
                                           << "[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n"
                                           << "[log]\nlevel = \"error\"\n\n"
                                           << bridges;
    setenv("FERROHSM_CONF", (dir_ + "/ferrohsm.toml").c_str(), 1);
    auto lib = ferrohsm::load_pkcs11_library(FERROHSM_MODULE_PATH);
    if (!lib.ok()) {
      ADD_FAILURE() << lib.error().message;
      return CKR_GENERAL_ERROR;
    }
    f_ = lib->functions;
    CK_RV rv = f_->C_Initialize(nullptr);
    initialized_ = rv == CKR_OK;
    return rv;
  }

  static std::string SoftHsmBridge() { return "[[bridge]]\nmodule = \"" SOFTHSM_MODULE_PATH "\"\ntoken = \"bridged\"\n"; }

  std::vector<CK_SLOT_ID> Slots() {
    CK_ULONG n = 0;
    EXPECT_RV(CKR_OK, f_->C_GetSlotList(CK_TRUE, nullptr, &n));
    std::vector<CK_SLOT_ID> slots(n);
    EXPECT_RV(CKR_OK, f_->C_GetSlotList(CK_TRUE, slots.data(), &n));
    slots.resize(n);
    return slots;
  }

  CK_SESSION_HANDLE OpenLoggedIn(CK_SLOT_ID slot) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    EXPECT_RV(CKR_OK, f_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
    EXPECT_RV(CKR_OK, f_->C_Login(s, CKU_USER, utf8(kUserPin), kUserPin.size()));
    return s;
  }

  CK_RV GenerateP256(CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE& pub, CK_OBJECT_HANDLE& priv) {
    CK_BBOOL yes = CK_TRUE;
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    std::vector<CK_BYTE> params = kP256;
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, params.data(), params.size()},
                            {CKA_VERIFY, &yes, sizeof yes},
                            {CKA_TOKEN, &yes, sizeof yes},
                            {CKA_LABEL, utf8(label), label.size()}};
    CK_ATTRIBUTE priv_t[] = {{CKA_SIGN, &yes, sizeof yes},
                             {CKA_TOKEN, &yes, sizeof yes},
                             {CKA_PRIVATE, &yes, sizeof yes},
                             {CKA_SENSITIVE, &yes, sizeof yes},
                             {CKA_LABEL, utf8(label), label.size()}};
    return f_->C_GenerateKeyPair(s, &m, pub_t, 4, priv_t, 5, &pub, &priv);
  }

  std::vector<CK_OBJECT_HANDLE> Find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const std::string& label) {
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &klass, sizeof klass}, {CKA_LABEL, utf8(label), label.size()}};
    EXPECT_RV(CKR_OK, f_->C_FindObjectsInit(s, t, 2));
    std::vector<CK_OBJECT_HANDLE> found(8);
    CK_ULONG n = 0;
    EXPECT_RV(CKR_OK, f_->C_FindObjects(s, found.data(), found.size(), &n));
    EXPECT_RV(CKR_OK, f_->C_FindObjectsFinal(s));
    found.resize(n);
    return found;
  }

  std::string dir_;
  CK_FUNCTION_LIST* f_ = nullptr;
  bool initialized_ = false;
};

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
