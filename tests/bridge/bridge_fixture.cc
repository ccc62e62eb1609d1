#include "bridge_fixture.h"

#include "base/pkcs11_library.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace bridge_test {

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

std::string field(const CK_UTF8CHAR* f, size_t n) {
  std::string s(reinterpret_cast<const char*>(f), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

void BridgeTest::SetUp() {
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

void BridgeTest::TearDown() {
    if (initialized_) {
      EXPECT_RV(CKR_OK, f_->C_Finalize(nullptr));
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

CK_RV BridgeTest::Start(const std::string& bridges) {
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

std::string BridgeTest::SoftHsmBridge(const std::string& selector) {
  return "[[bridge]]\nmodule = \"" SOFTHSM_MODULE_PATH "\"\n" + selector + "\n";
}

std::string BridgeTest::InitToken(const std::string& label) {
  const std::string init = "softhsm2-util --init-token --free --label '" + label + "' --so-pin " + kSoPin + " --pin " +
                           kUserPin + " >>" + dir_ + "/softhsm2-util.log 2>&1";
  EXPECT_EQ(std::system(init.c_str()), 0) << "softhsm2-util --init-token failed";
  // softhsm2-util --show-slots: each token's "Serial number:" line comes before its "Label:".
  const std::string list = dir_ + "/slots.txt";
  EXPECT_EQ(std::system(("softhsm2-util --show-slots >" + list + " 2>&1").c_str()), 0);
  std::ifstream in(list);
  std::string line, serial;
  auto value = [](const std::string& l) {
    std::string v = l.substr(l.find(':') + 1);
    v.erase(0, v.find_first_not_of(' '));
    while (!v.empty() && v.back() == ' ') v.pop_back();
    return v;
  };
  while (std::getline(in, line)) {
    if (line.find("Serial number:") != std::string::npos) serial = value(line);
    if (line.find("Label:") != std::string::npos && value(line) == label) return serial;
  }
  ADD_FAILURE() << "softhsm2-util does not show the token " << label;
  return {};
}

void BridgeTest::DeleteToken(const std::string& serial) {
  // SoftHSMv2 names a token's directory by a UUID whose last 16 hex digits are the serial.
  for (const auto& entry : fs::directory_iterator(dir_ + "/tokens")) {
    std::string name = entry.path().filename().string();
    name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
    if (name.size() >= serial.size() && name.compare(name.size() - serial.size(), serial.size(), serial) == 0) {
      fs::remove_all(entry.path());
      return;
    }
  }
  ADD_FAILURE() << "no token directory for serial " << serial;
}

std::vector<CK_SLOT_ID> BridgeTest::Slots(bool token_present) {
    CK_ULONG n = 0;
    EXPECT_RV(CKR_OK, f_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, nullptr, &n));
    std::vector<CK_SLOT_ID> slots(n);
    EXPECT_RV(CKR_OK, f_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, slots.data(), &n));
    slots.resize(n);
    return slots;
  }

CK_SESSION_HANDLE BridgeTest::OpenLoggedIn(CK_SLOT_ID slot) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    EXPECT_RV(CKR_OK, f_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
    EXPECT_RV(CKR_OK, f_->C_Login(s, CKU_USER, utf8(kUserPin), kUserPin.size()));
    return s;
  }

CK_RV BridgeTest::GenerateP256(CK_SESSION_HANDLE s, const std::string& label, CK_OBJECT_HANDLE& pub,
                               CK_OBJECT_HANDLE& priv) {
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

std::vector<CK_OBJECT_HANDLE> BridgeTest::Find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const std::string& label) {
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &klass, sizeof klass}, {CKA_LABEL, utf8(label), label.size()}};
    EXPECT_RV(CKR_OK, f_->C_FindObjectsInit(s, t, 2));
    std::vector<CK_OBJECT_HANDLE> found(8);
    CK_ULONG n = 0;
    EXPECT_RV(CKR_OK, f_->C_FindObjects(s, found.data(), found.size(), &n));
    EXPECT_RV(CKR_OK, f_->C_FindObjectsFinal(s));
    found.resize(n);
    return found;
  }

CK_RV BridgeTest::SignOnce(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv) {
  std::vector<CK_BYTE> digest = sha256("a message");
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  if (CK_RV rv = f_->C_SignInit(s, &ecdsa, priv); rv != CKR_OK) return rv;
  CK_BYTE sig[64];
  CK_ULONG len = sizeof sig;
  return f_->C_Sign(s, digest.data(), digest.size(), sig, &len);
}

bool BridgeTest::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool BridgeTest::TokenThere(CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  return f_->C_GetTokenInfo(slot, &info) == CKR_OK;
}

}  // namespace bridge_test
