#include "p11_ops.h"

#include "base/pkcs11_library.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ferrohsm::sidecar_test {
namespace {

CK_UTF8CHAR_PTR u8(const char* s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s)); }

// The key of class `cls` labelled kKeyLabel.
CK_RV find_key(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE& key) {
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, const_cast<char*>(kKeyLabel), std::strlen(kKeyLabel)}};
  CK_ULONG n = 0;
  CK_RV rv = f->C_FindObjectsInit(s, t, 2);
  if (rv != CKR_OK) return rv;
  rv = f->C_FindObjects(s, &key, 1, &n);
  CK_RV fin = f->C_FindObjectsFinal(s);
  if (rv != CKR_OK) return rv;
  if (fin != CKR_OK) return fin;
  return n == 1 ? CKR_OK : CKR_KEY_HANDLE_INVALID;
}

std::string padded(const std::string& label) {
  std::string s = label;
  s.resize(32, ' ');
  return s;
}

}  // namespace

CK_FUNCTION_LIST_3_0* load_module(const std::string& path) {
  static CK_FUNCTION_LIST_3_0* f = [&] {
    auto lib = load_pkcs11_library(path);
    if (!lib.ok() || lib->functions_3_0 == nullptr) {
      std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), lib.ok() ? "no 3.0 interface" : lib.error().message.c_str());
      std::abort();
    }
    return lib->functions_3_0;
  }();
  return f;
}

CK_RV initialize(CK_FUNCTION_LIST_3_0* f, const std::string& conf) {
  std::string reserved = "ferrohsm_conf=" + conf;
  FH_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  args.pReserved = reserved.data();
  return f->C_Initialize(&args);
}

CK_RV find_slot(CK_FUNCTION_LIST_3_0* f, const std::string& label, CK_SLOT_ID& slot) {
  CK_SLOT_ID ids[64];
  CK_ULONG n = 64;
  CK_RV rv = f->C_GetSlotList(CK_TRUE, ids, &n);
  if (rv != CKR_OK) return rv;
  const std::string want = padded(label);
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO info{};
    if (f->C_GetTokenInfo(ids[i], &info) != CKR_OK) continue;
    if (std::string(reinterpret_cast<char*>(info.label), sizeof info.label) == want) {
      slot = ids[i];
      return CKR_OK;
    }
  }
  return CKR_TOKEN_NOT_PRESENT;
}

CK_RV make_token(CK_FUNCTION_LIST_3_0* f, const std::string& label) {
  CK_SLOT_ID ids[64];
  CK_ULONG n = 64;
  CK_RV rv = f->C_GetSlotList(CK_FALSE, ids, &n);
  if (rv != CKR_OK) return rv;
  CK_SLOT_ID free_slot = ~CK_SLOT_ID{0};
  for (CK_ULONG i = 0; i < n && free_slot == ~CK_SLOT_ID{0}; ++i) {
    CK_TOKEN_INFO info{};
    if (f->C_GetTokenInfo(ids[i], &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) free_slot = ids[i];
  }
  if (free_slot == ~CK_SLOT_ID{0}) return CKR_SLOT_ID_INVALID;
  std::string l = padded(label);
  rv = f->C_InitToken(free_slot, u8(kSoPin), std::strlen(kSoPin), reinterpret_cast<CK_UTF8CHAR_PTR>(l.data()));
  if (rv != CKR_OK) return rv;
  CK_SLOT_ID slot = 0;
  if ((rv = find_slot(f, label, slot)) != CKR_OK) return rv;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s)) != CKR_OK) return rv;
  rv = f->C_Login(s, CKU_SO, u8(kSoPin), std::strlen(kSoPin));
  if (rv == CKR_OK) rv = f->C_InitPIN(s, u8(kUserPin), std::strlen(kUserPin));
  if (rv == CKR_OK) rv = f->C_Logout(s);
  if (rv == CKR_OK) rv = f->C_Login(s, CKU_USER, u8(kUserPin), std::strlen(kUserPin));
  if (rv == CKR_OK) {
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    static const unsigned char kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, sizeof yes},
                          {CKA_VERIFY, &yes, sizeof yes},
                          {CKA_EC_PARAMS, const_cast<unsigned char*>(kP256), sizeof kP256},
                          {CKA_LABEL, const_cast<char*>(kKeyLabel), std::strlen(kKeyLabel)}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, sizeof yes},
                           {CKA_SIGN, &yes, sizeof yes},
                           {CKA_PRIVATE, &yes, sizeof yes},
                           {CKA_SENSITIVE, &yes, sizeof yes},
                           {CKA_LABEL, const_cast<char*>(kKeyLabel), std::strlen(kKeyLabel)}};
    CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
    rv = f->C_GenerateKeyPair(s, &m, pub, 4, priv, 5, &hpub, &hpriv);
  }
  CK_RV closed = f->C_CloseSession(s);
  return rv != CKR_OK ? rv : closed;
}

CK_RV open_and_login(CK_FUNCTION_LIST_3_0* f, const std::string& label, CK_SESSION_HANDLE& session) {
  CK_SLOT_ID slot = 0;
  CK_RV rv = find_slot(f, label, slot);
  if (rv != CKR_OK) return rv;
  if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session)) != CKR_OK) return rv;
  rv = f->C_Login(session, CKU_USER, u8(kUserPin), std::strlen(kUserPin));
  return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

CK_RV sign_and_verify(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& data) {
  CK_OBJECT_HANDLE priv = 0, pub = 0;
  CK_RV rv = find_key(f, s, CKO_PRIVATE_KEY, priv);
  if (rv != CKR_OK) return rv;
  if ((rv = find_key(f, s, CKO_PUBLIC_KEY, pub)) != CKR_OK) return rv;
  CK_MECHANISM m{CKM_ECDSA_SHA256, nullptr, 0};
  auto* bytes = reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(data.data()));
  unsigned char sig[128];
  CK_ULONG len = sizeof sig;
  if ((rv = f->C_SignInit(s, &m, priv)) != CKR_OK) return rv;
  if ((rv = f->C_Sign(s, bytes, data.size(), sig, &len)) != CKR_OK) return rv;
  if (len != 64) return CKR_GENERAL_ERROR;
  if ((rv = f->C_VerifyInit(s, &m, pub)) != CKR_OK) return rv;
  if ((rv = f->C_Verify(s, bytes, data.size(), sig, len)) != CKR_OK) return rv;
  // and the signature belongs to this data, not to whatever else was signed meanwhile
  std::string other = data + "!";
  if ((rv = f->C_VerifyInit(s, &m, pub)) != CKR_OK) return rv;
  rv = f->C_Verify(s, reinterpret_cast<CK_BYTE_PTR>(other.data()), other.size(), sig, len);
  if (rv == CKR_OK) return CKR_GENERAL_ERROR;  // verified the wrong data
  return rv == CKR_SIGNATURE_INVALID ? CKR_OK : rv;
}

CK_RV digest(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& data, std::vector<unsigned char>& out) {
  CK_MECHANISM m{CKM_SHA256, nullptr, 0};
  CK_RV rv = f->C_DigestInit(s, &m);
  if (rv != CKR_OK) return rv;
  out.assign(32, 0);
  CK_ULONG len = out.size();
  rv = f->C_Digest(s, reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(data.data())), data.size(), out.data(), &len);
  out.resize(rv == CKR_OK ? len : 0);
  return rv;
}

}  // namespace ferrohsm::sidecar_test
