// The working context of the mechanism round-trip suite: one logged-in R/W session
// on a fresh token (made once per process), the mechanism's CK_MECHANISM_INFO, the
// operation flags a case has exercised so far, keys made once and reused, and thin
// wrappers over the C ABI calls the cases make.
#pragma once

#include <ferrohsm/cryptoki.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fixture/attributes.h"
#include "fixture/ckr_names.h"
#include "fixture/keys.h"
#include "fixture/module.h"

namespace ferrohsm::abi::roundtrip {

// The operation flags of CK_MECHANISM_INFO a case must exercise when reported
// (the message-based encryption flags are message_aead_test.cc's).
constexpr CK_FLAGS kOperationFlags = CKF_ENCRYPT | CKF_DECRYPT | CKF_DIGEST | CKF_SIGN | CKF_SIGN_RECOVER |
                                     CKF_VERIFY | CKF_VERIFY_RECOVER | CKF_GENERATE | CKF_GENERATE_KEY_PAIR |
                                     CKF_WRAP | CKF_UNWRAP | CKF_DERIVE | CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY;

struct Out {
  CK_RV rv = CKR_GENERAL_ERROR;
  Bytes bytes;
};

class Ctx {
 public:
  Ctx(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, CK_SESSION_HANDLE s, CK_MECHANISM_INFO info)
      : f(f), slot(slot), s(s), info(info) {}

  CK_FUNCTION_LIST_PTR f;
  CK_FUNCTION_LIST_3_0_PTR f3 = GetModule().fl3;  // the message-based functions
  CK_SLOT_ID slot;
  CK_SESSION_HANDLE s;
  CK_MECHANISM_INFO info;
  CK_FLAGS done = 0;  // operation flags exercised by the case

  bool Has(CK_FLAGS flag) const { return (info.flags & flag) != 0; }
  void Did(CK_FLAGS flags) { done |= flags; }

  // --- keys made once per process (RSA through CKM_RSA_PKCS_KEY_PAIR_GEN) ---
  // RSA-2048, e = 65537, every usage on; ASSERT-style failures are recorded.
  const KeyPair& Rsa();
  // EC / Montgomery / Edwards pairs by curve name ("P-256", "X25519", "Ed25519" …),
  // made with CKM_EC_KEY_PAIR_GEN / _MONTGOMERY_ / _EDWARDS_ and every usage on.
  const KeyPair& Pair(const std::string& curve);
  // A fresh pair (not cached).
  KeyPair NewPair(const std::string& curve);

  // --- objects ---
  // A session secret key of `type` holding `value`, not sensitive, extractable,
  // with every usage the type allows on (sign, verify, encrypt, decrypt, wrap,
  // unwrap, derive).
  CK_OBJECT_HANDLE Secret(CK_KEY_TYPE type, const Bytes& value);
  // The template for keys a case makes (generate, unwrap, derive): readable, usable.
  static Template UsableSecret(CK_KEY_TYPE type, CK_ULONG value_len = 0);
  Bytes Value(CK_OBJECT_HANDLE key);  // CKA_VALUE (empty on failure)

  // --- operations (single-part, with the length query) ---
  Out Sign(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data);
  CK_RV Verify(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data, const Bytes& sig);
  Out Encrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data);
  Out Decrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data);
  Out Digest(CK_MECHANISM* m, const Bytes& data);
  Out SignRecover(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data);
  Out VerifyRecover(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& sig);
  Out Wrap(CK_MECHANISM* m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key);
  Created Unwrap(CK_MECHANISM* m, CK_OBJECT_HANDLE unwrapping, const Bytes& wrapped, Template t);
  Created Derive(CK_MECHANISM* m, CK_OBJECT_HANDLE base, Template t);
  Created Generate(CK_MECHANISM* m, Template t);

  // --- checks shared by many cases (each marks the flags it exercised) ---
  // Sign, verify (CKR_OK), verify a tampered signature (CKR_SIGNATURE_INVALID) and a
  // tampered message; when the module reports CKF_MESSAGE_SIGN / CKF_MESSAGE_VERIFY,
  // also the message-based calls (MessageSignVerify). Returns the signature (empty
  // on failure).
  Bytes SignVerify(CK_MECHANISM* m, CK_OBJECT_HANDLE sign_key, CK_OBJECT_HANDLE verify_key, const Bytes& data);
  // C_MessageSignInit, C_SignMessage and a C_SignMessageBegin/Next message, each
  // signature checked by C_Verify; C_MessageVerifyInit, C_VerifyMessage of
  // `reference` (and of a tampered copy) and a Begin/Next verification.
  void MessageSignVerify(CK_MECHANISM* m, CK_OBJECT_HANDLE sign_key, CK_OBJECT_HANDLE verify_key, const Bytes& data,
                         const Bytes& reference);
  // Encrypts with the module and compares with `expected` (when not empty), then
  // decrypts back to `plain`, and decrypts `expected` too. Returns the ciphertext.
  Bytes EncryptDecrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& plain, const Bytes& expected);
  // Wraps an AES key holding `target_value` with `wrapping`, compares with
  // `expected` (deterministic wrappings; skipped when empty), unwraps with
  // `unwrapping` and checks the unwrapped key's value and that it decrypts what the
  // original encrypted; also unwraps `foreign` (a wrapping made independently, by
  // OpenSSL or a published vector) when given; a tampered wrapping must not unwrap
  // when `tamper_detected`.
  void WrapUnwrap(CK_MECHANISM* m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE unwrapping, const Bytes& target_value,
                  const Bytes& expected, const Bytes& foreign, bool tamper_detected);

 private:
  std::map<std::string, KeyPair>& cache();
};

// Random bytes from OpenSSL (test data and key values: never hard-coded results).
Bytes Random(size_t n);
Bytes Hex(const char* hex);
Bytes Concat(const Bytes& a, const Bytes& b);
// One byte flipped (the last by default).
Bytes Tampered(Bytes b, size_t at = ~size_t{0});
std::string HexOf(const Bytes& b);

// The suite's one module session; set by the suite fixture.
struct Session {
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_SLOT_ID slot = 0;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
};
void ResetKeyCache();

}  // namespace ferrohsm::abi::roundtrip
