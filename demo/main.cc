// `make demo`: FerroHSM's main job on the embedded default store under ./var.
// Loads the built PKCS#11 library with dlopen, exactly as an application would,
// creates (or reuses) a token, generates an Ed25519, a P-256 and an RSA-2048 key,
// signs with each, verifies each signature through the library and again with
// OpenSSL from the public key the token exports, and prints how to point
// pkcs11-tool at the token. Its PINs are random, kept in ./var (mode 0600).
#include <ferrohsm/cryptoki.h>

#include "base/pkcs11_library.h"
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

const char* kTokenLabel = "ferrohsm-demo";
CK_FUNCTION_LIST_3_0* p11 = nullptr;

[[noreturn]] void die(const std::string& what, CK_RV rv = CKR_OK) {
  if (rv != CKR_OK) std::fprintf(stderr, "demo: %s failed: 0x%lx\n", what.c_str(), static_cast<unsigned long>(rv));
  else std::fprintf(stderr, "demo: %s\n", what.c_str());
  std::exit(1);
}

void check(CK_RV rv, const std::string& what) {
  if (rv != CKR_OK) die(what, rv);
}

std::string read_or_make_pin(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string pin;
  if (in && std::getline(in, pin) && !pin.empty()) return pin;
  unsigned char raw[9];
  RAND_bytes(raw, sizeof raw);
  static const char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  for (unsigned char c : raw) pin.push_back(kAlphabet[c % 32]);
  mode_t old = umask(077);
  std::ofstream(file) << pin << "\n";
  umask(old);
  return pin;
}

CK_SLOT_ID find_or_init_token(const std::string& so_pin, const std::string& user_pin) {
  CK_ULONG n = 0;
  check(p11->C_GetSlotList(CK_FALSE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(p11->C_GetSlotList(CK_FALSE, slots.data(), &n), "C_GetSlotList");
  CK_SLOT_ID free_slot = 0;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO ti;
    check(p11->C_GetTokenInfo(s, &ti), "C_GetTokenInfo");
    std::string label(reinterpret_cast<char*>(ti.label), 32);
    label.erase(label.find_last_not_of(' ') + 1);
    if ((ti.flags & CKF_TOKEN_INITIALIZED) && label == kTokenLabel) {
      std::printf("Using token '%s' in slot %lu.\n", kTokenLabel, static_cast<unsigned long>(s));
      return s;
    }
    if (!(ti.flags & CKF_TOKEN_INITIALIZED)) free_slot = s;
  }
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof label);
  std::memcpy(label, kTokenLabel, std::strlen(kTokenLabel));
  check(p11->C_InitToken(free_slot, (CK_UTF8CHAR_PTR)so_pin.data(), so_pin.size(), label), "C_InitToken");
  CK_SESSION_HANDLE s;
  check(p11->C_OpenSession(free_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
  check(p11->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin.data(), so_pin.size()), "C_Login(SO)");
  check(p11->C_InitPIN(s, (CK_UTF8CHAR_PTR)user_pin.data(), user_pin.size()), "C_InitPIN");
  check(p11->C_CloseSession(s), "C_CloseSession");
  std::printf("Created token '%s' in slot %lu.\n", kTokenLabel, static_cast<unsigned long>(free_slot));
  return free_slot;
}

void delete_by_label(CK_SESSION_HANDLE s, const std::string& label) {
  CK_ATTRIBUTE t[] = {{CKA_LABEL, (void*)label.data(), label.size()}};
  check(p11->C_FindObjectsInit(s, t, 1), "C_FindObjectsInit");
  CK_OBJECT_HANDLE found[16];
  CK_ULONG n = 0;
  check(p11->C_FindObjects(s, found, 16, &n), "C_FindObjects");
  check(p11->C_FindObjectsFinal(s), "C_FindObjectsFinal");
  for (CK_ULONG i = 0; i < n; ++i) check(p11->C_DestroyObject(s, found[i]), "C_DestroyObject");
}

struct Demo {
  const char* name;
  const char* label;
  CK_MECHANISM_TYPE gen;
  std::vector<unsigned char> params;  // CKA_EC_PARAMS (EC / Edwards)
  CK_MECHANISM_TYPE sign;
  const EVP_MD* md;  // OpenSSL digest for the independent check (nullptr: pure EdDSA)
};

bool openssl_verify(const std::vector<unsigned char>& spki, const EVP_MD* md, const std::string& data,
                    const std::vector<unsigned char>& sig, CK_MECHANISM_TYPE mech) {
  const unsigned char* p = spki.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (pkey == nullptr) return false;
  std::vector<unsigned char> der_sig = sig;
  if (mech == CKM_ECDSA_SHA256) {  // PKCS#11 gives r||s; OpenSSL wants DER
    ECDSA_SIG* es = ECDSA_SIG_new();
    size_t half = sig.size() / 2;
    ECDSA_SIG_set0(es, BN_bin2bn(sig.data(), half, nullptr), BN_bin2bn(sig.data() + half, half, nullptr));
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es, &out);
    der_sig.assign(out, out + len);
    OPENSSL_free(out);
    ECDSA_SIG_free(es);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, der_sig.data(), der_sig.size(), (const unsigned char*)data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

}  // namespace

#include <openssl/ec.h>

int main(int argc, char** argv) {
  std::string var = "./var", module;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--var")) var = argv[i + 1];
    else if (!std::strcmp(argv[i], "--module")) module = argv[i + 1];
  }
  if (module.empty()) die("usage: ferrohsm-demo --var DIR --module PATH/libferrohsm-pkcs11.so");
  namespace fs = std::filesystem;
  fs::create_directories(var);
  var = fs::weakly_canonical(fs::absolute(var)).string();
  module = fs::weakly_canonical(fs::absolute(module)).string();
  fs::path conf = fs::path(var) / "ferrohsm.toml";
  if (!fs::exists(conf))
    std::ofstream(conf) << "# Written by make demo: the embedded default store, under ./var.\n[store]\npath = \""
                        << (fs::absolute(var) / "ferrohsm.db").string() << "\"\n[log]\nlevel = \"warn\"\n";
  {
    // The audit trail (docs/AUDIT.md): every key use of the demo, hash-chained, with
    // checkpoints signed by a "ferrohsm-audit" key in the demo's token. `make demo`
    // then runs `ferrohsm audit verify` on it.
    std::ifstream in(conf);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("[audit]") == std::string::npos) {
      fs::create_directories(fs::path(var) / "audit");
      std::ofstream(conf, std::ios::app) << "[audit]\nfile = \"" << (fs::path(var) / "audit" / "audit.jsonl").string()
                                         << "\"\ntoken = \"" << kTokenLabel << "\"\npin = \"file:"
                                         << (fs::path(var) / "demo-user.pin").string() << "\"\n";
    }
  }
  setenv("FERROHSM_CONF", conf.c_str(), 1);
  std::string so_pin = read_or_make_pin(fs::path(var) / "demo-so.pin");
  std::string user_pin = read_or_make_pin(fs::path(var) / "demo-user.pin");

  // dlopen and C_GetInterface("PKCS 11"), as an application would.
  auto lib = ferrohsm::load_pkcs11_library(module, RTLD_NOW | RTLD_LOCAL);
  if (!lib.ok()) die(lib.error().message);
  if (lib->functions_3_0 == nullptr) die("the library offers no PKCS#11 3.0 interface");
  p11 = lib->functions_3_0;
  std::printf("Loaded %s (PKCS#11 %d.%d interface).\n", module.c_str(), p11->version.major, p11->version.minor);

  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  check(p11->C_Initialize(&args), "C_Initialize");
  CK_SLOT_ID slot = find_or_init_token(so_pin, user_pin);
  CK_SESSION_HANDLE s;
  check(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
  check(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)user_pin.data(), user_pin.size()), "C_Login");

  const std::vector<unsigned char> p256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  const std::vector<unsigned char> ed25519 = {0x06, 0x03, 0x2b, 0x65, 0x70};
  Demo demos[] = {
      {"Ed25519", "demo-ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519, CKM_EDDSA, nullptr},
      {"ECDSA P-256", "demo-p256", CKM_EC_KEY_PAIR_GEN, p256, CKM_ECDSA_SHA256, EVP_sha256()},
      {"RSA-2048", "demo-rsa2048", CKM_RSA_PKCS_KEY_PAIR_GEN, {}, CKM_SHA256_RSA_PKCS, EVP_sha256()},
  };
  const std::string message = "FerroHSM demo: signed inside the token";
  int verified = 0;
  for (Demo& d : demos) {
    delete_by_label(s, d.label);
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits = 2048;
    CK_BYTE e[] = {1, 0, 1};
    std::vector<CK_ATTRIBUTE> pub = {{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
                                     {CKA_LABEL, (void*)d.label, std::strlen(d.label)}};
    std::vector<CK_ATTRIBUTE> priv = {{CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &yes, 1}, {CKA_SIGN, &yes, 1},
                                      {CKA_SENSITIVE, &yes, 1}, {CKA_EXTRACTABLE, &no, 1},
                                      {CKA_LABEL, (void*)d.label, std::strlen(d.label)}};
    if (d.gen == CKM_RSA_PKCS_KEY_PAIR_GEN) {
      pub.push_back({CKA_MODULUS_BITS, &bits, sizeof bits});
      pub.push_back({CKA_PUBLIC_EXPONENT, e, sizeof e});
    } else {
      pub.push_back({CKA_EC_PARAMS, d.params.data(), d.params.size()});
    }
    CK_MECHANISM gen = {d.gen, nullptr, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    check(p11->C_GenerateKeyPair(s, &gen, pub.data(), pub.size(), priv.data(), priv.size(), &hpub, &hpriv),
          std::string("C_GenerateKeyPair ") + d.name);
    CK_MECHANISM m = {d.sign, nullptr, 0};
    check(p11->C_SignInit(s, &m, hpriv), "C_SignInit");
    CK_ULONG len = 0;
    check(p11->C_Sign(s, (CK_BYTE_PTR)message.data(), message.size(), nullptr, &len), "C_Sign (length)");
    std::vector<unsigned char> sig(len);
    check(p11->C_Sign(s, (CK_BYTE_PTR)message.data(), message.size(), sig.data(), &len), "C_Sign");
    sig.resize(len);
    check(p11->C_VerifyInit(s, &m, hpub), "C_VerifyInit");
    CK_RV token_rv = p11->C_Verify(s, (CK_BYTE_PTR)message.data(), message.size(), sig.data(), sig.size());
    CK_ATTRIBUTE info = {CKA_PUBLIC_KEY_INFO, nullptr, 0};
    check(p11->C_GetAttributeValue(s, hpub, &info, 1), "C_GetAttributeValue(CKA_PUBLIC_KEY_INFO)");
    std::vector<unsigned char> spki(info.ulValueLen);
    info.pValue = spki.data();
    check(p11->C_GetAttributeValue(s, hpub, &info, 1), "C_GetAttributeValue(CKA_PUBLIC_KEY_INFO)");
    bool ossl = openssl_verify(spki, d.md, message, sig, d.sign);
    bool ok = token_rv == CKR_OK && ossl;
    verified += ok;
    std::printf("  %-12s key '%s': %zu-byte signature, verified by the token: %s, by OpenSSL: %s\n", d.name,
                d.label, sig.size(), token_rv == CKR_OK ? "yes" : "NO", ossl ? "yes" : "NO");
  }
  check(p11->C_Logout(s), "C_Logout");
  check(p11->C_CloseSession(s), "C_CloseSession");
  check(p11->C_Finalize(nullptr), "C_Finalize");
  std::printf("\n%d of 3 signatures verified.\n\n", verified);
  std::printf("Point pkcs11-tool at the same token (the user PIN is in %s/demo-user.pin):\n",
              fs::absolute(var).c_str());
  std::printf("  export FERROHSM_CONF=%s\n", conf.c_str());
  std::printf("  pkcs11-tool --module %s --token-label %s --login --list-objects\n",
              fs::absolute(module).c_str(), kTokenLabel);
  std::printf("  pkcs11-tool --module %s --list-mechanisms\n", fs::absolute(module).c_str());
  return verified == 3 ? 0 : 1;
}
