// What one server does, the others see: an object created through server A is found
// through server B (and how long that takes), a key generated through A signs through
// B and `openssl` verifies the signature, and wrong PINs sent to different servers lock
// the token at the configured maximum, not at that maximum times the servers.
#include "base/names.h"
#include "cluster_fixture.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ferrohsm::cluster_test {
namespace {

using Clock = std::chrono::steady_clock;
using server::testing::read_file;
using server::testing::write_file;

#define EXPECT_RV(expected, expr) EXPECT_STREQ(rv_name(expected), rv_name(expr)) << #expr
#define ASSERT_RV(expected, expr) ASSERT_STREQ(rv_name(expected), rv_name(expr)) << #expr

CK_ULONG count_labelled(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& label, CK_RV& rv) {
  CK_ATTRIBUTE t[] = {{CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_OBJECT_HANDLE h[2];
  CK_ULONG n = 0;
  if ((rv = f->C_FindObjectsInit(s, t, 1)) != CKR_OK) return 0;
  rv = f->C_FindObjects(s, h, 2, &n);
  const CK_RV fin = f->C_FindObjectsFinal(s);
  if (rv == CKR_OK) rv = fin;
  return n;
}

TEST(Cluster, AnObjectCreatedThroughOneServerIsFoundThroughAnother) {
  constexpr int kObjects = 20;
  App maker({app_path(), sidecar_test::module_path(), lib_conf("make-on-a.toml", {0}), "create-each", kToken, "seen",
             std::to_string(kObjects)});
  Library lib(lib_conf("find-on-b.toml", {1}));
  ASSERT_RV(CKR_OK, lib.init_rv());
  CK_SESSION_HANDLE s = rw_session(lib.f(), kToken);
  ASSERT_NE(s, CK_INVALID_HANDLE);
  std::vector<double> ms;
  for (int i = 0; i < kObjects; ++i) {
    const std::optional<std::string> line = maker.line(std::chrono::seconds(20));
    ASSERT_TRUE(line && line->starts_with("created ")) << line.value_or("(none)");
    const size_t sp = line->rfind(' ');
    const std::string label = line->substr(8, sp - 8);
    const Clock::time_point made{std::chrono::nanoseconds(std::stoll(line->substr(sp + 1)))};
    CK_RV rv = CKR_OK;
    CK_ULONG n = 0;
    const auto give_up = Clock::now() + std::chrono::seconds(5);
    while ((n = count_labelled(lib.f(), s, label, rv)) == 0 && rv == CKR_OK && Clock::now() < give_up) {
    }
    const double took = std::chrono::duration<double, std::milli>(Clock::now() - made).count();
    ASSERT_RV(CKR_OK, rv);
    EXPECT_EQ(n, 1u) << label << " not found through server b after " << took << " ms";
    ms.push_back(took);
  }
  EXPECT_EQ(maker.wait(), 0);
  std::sort(ms.begin(), ms.end());
  std::printf("created through a, found through b after: median %.2f ms, max %.2f ms (%d objects)\n",
              ms[ms.size() / 2], ms.back(), kObjects);
  // The goal is 100 ms; the median is held to it, the slowest to 1 s (a loaded machine).
  EXPECT_LE(ms[ms.size() / 2], 100.0);
  EXPECT_LE(ms.back(), 1000.0);
}

// An ECDSA signature (r || s, 64 bytes) as DER, and the P-256 point as a PEM public key.
std::string der_signature(const std::vector<unsigned char>& rs) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(rs.data(), 32, nullptr), BN_bin2bn(rs.data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(std::max(n, 0)));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string pem_public_key(const std::vector<unsigned char>& point) {
  OSSL_PARAM_BLD* b = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(b);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  std::string out;
  if (EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(b);
  return out;
}

// `openssl dgst -sha256 -verify` on the files: its exit status and output.
int openssl_verify(const std::string& pub, const std::string& sig, const std::string& data, std::string& out) {
  const std::string cmd = "openssl dgst -sha256 -verify " + pub + " -signature " + sig + " " + data + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[256];
  out.clear();
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cluster, AKeyGeneratedThroughOneServerSignsThroughAnotherAndOpensslVerifies) {
  const std::string label = "across";
  std::vector<unsigned char> point;
  {
    Library lib(lib_conf("keygen-on-a.toml", {0}));
    ASSERT_RV(CKR_OK, lib.init_rv());
    CK_SESSION_HANDLE s = rw_session(lib.f(), kToken);
    ASSERT_NE(s, CK_INVALID_HANDLE);
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    static const unsigned char kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, sizeof yes},
                          {CKA_VERIFY, &yes, sizeof yes},
                          {CKA_EC_PARAMS, const_cast<unsigned char*>(kP256), sizeof kP256},
                          {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, sizeof yes},
                           {CKA_SIGN, &yes, sizeof yes},
                           {CKA_PRIVATE, &yes, sizeof yes},
                           {CKA_SENSITIVE, &yes, sizeof yes},
                           {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
    ASSERT_RV(CKR_OK, lib->C_GenerateKeyPair(s, &m, pub, 4, priv, 5, &hpub, &hpriv));
    unsigned char buf[80];
    CK_ATTRIBUTE a{CKA_EC_POINT, buf, sizeof buf};
    ASSERT_RV(CKR_OK, lib->C_GetAttributeValue(s, hpub, &a, 1));
    // DER OCTET STRING (04 41) around the uncompressed point (04 x y).
    ASSERT_EQ(a.ulValueLen, 67u);
    ASSERT_EQ(buf[0], 0x04);
    point.assign(buf + 2, buf + 67);
  }
  const std::string data = "signed through server b with a key generated through server a";
  std::vector<unsigned char> rs(64);
  {
    Library lib(lib_conf("sign-on-b.toml", {1}));
    ASSERT_RV(CKR_OK, lib.init_rv());
    CK_SESSION_HANDLE s = rw_session(lib.f(), kToken);
    ASSERT_NE(s, CK_INVALID_HANDLE);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_OBJECT_HANDLE key = 0;
    CK_ULONG n = 0;
    ASSERT_RV(CKR_OK, lib->C_FindObjectsInit(s, t, 2));
    ASSERT_RV(CKR_OK, lib->C_FindObjects(s, &key, 1, &n));
    ASSERT_RV(CKR_OK, lib->C_FindObjectsFinal(s));
    ASSERT_EQ(n, 1u) << "the key generated through server a is not found through server b";
    CK_MECHANISM m{CKM_ECDSA_SHA256, nullptr, 0};
    CK_ULONG len = rs.size();
    ASSERT_RV(CKR_OK, lib->C_SignInit(s, &m, key));
    ASSERT_RV(CKR_OK, lib->C_Sign(s, reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(data.data())), data.size(),
                                   rs.data(), &len));
    ASSERT_EQ(len, 64u);
  }
  const std::string d = dir();
  write_file(d + "/across.pub.pem", pem_public_key(point));
  write_file(d + "/across.sig", der_signature(rs));
  write_file(d + "/across.data", data);
  write_file(d + "/other.data", data + ".");
  std::string out;
  EXPECT_EQ(openssl_verify(d + "/across.pub.pem", d + "/across.sig", d + "/across.data", out), 0) << out;
  EXPECT_NE(out.find("Verified OK"), std::string::npos) << out;
  // And openssl is not saying yes to anything: other data fails.
  EXPECT_EQ(openssl_verify(d + "/across.pub.pem", d + "/across.sig", d + "/other.data", out), 1) << out;
  EXPECT_NE(out.find("Verification failure"), std::string::npos) << out;
}

TEST(Cluster, WrongPinsSentToDifferentServersLockTheTokenAtTheConfiguredMaximum) {
  constexpr int kMax = 10;  // [pin] max_failed_logins, the default
  {
    Library lib(lib_conf("lockout-make.toml", {2}));
    ASSERT_RV(CKR_OK, lib.init_rv());
    ASSERT_RV(CKR_OK, sidecar_test::make_token(lib.f(), "lockout"));
  }
  // One login at a time, server after server: a, b, c, a, b, …
  auto login = [](int on, const char* pin, CK_FLAGS* flags = nullptr) {
    Library lib(lib_conf("lockout-" + std::to_string(on) + ".toml", {on}));
    if (lib.init_rv() != CKR_OK) return lib.init_rv();
    CK_SLOT_ID slot = 0;
    CK_RV rv = sidecar_test::find_slot(lib.f(), "lockout", slot);
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (rv == CKR_OK) rv = lib->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
    if (rv != CKR_OK) return rv;
    rv = lib->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin)), std::strlen(pin));
    CK_TOKEN_INFO info{};
    if (flags != nullptr && lib->C_GetTokenInfo(slot, &info) == CKR_OK) *flags = info.flags;
    return rv;
  };
  std::vector<CK_RV> answers;
  for (int i = 0; i < kMax + 2 * kServers; ++i) answers.push_back(login(i % kServers, "wrong-pin-0000"));
  for (int i = 0; i < static_cast<int>(answers.size()); ++i)
    EXPECT_RV(i < kMax ? CKR_PIN_INCORRECT : CKR_PIN_LOCKED, answers[static_cast<size_t>(i)])
        << "attempt " << i + 1 << ", through server " << i % kServers;
  // Locked everywhere, the right PIN too.
  for (int on = 0; on < kServers; ++on) {
    CK_FLAGS flags = 0;
    EXPECT_RV(CKR_PIN_LOCKED, login(on, sidecar_test::kUserPin, &flags)) << "server " << on;
    EXPECT_TRUE(flags & CKF_USER_PIN_LOCKED) << "server " << on;
  }
}

}  // namespace
}  // namespace ferrohsm::cluster_test
