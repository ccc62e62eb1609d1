// The cryptographic operations measured, the same list for every peer (a PKCS#11
// module or OpenSSL EVP directly). Each PKCS#11 operation is what an application
// does per message: the *Init call plus the one-shot call; key generation creates a
// session key pair and destroys it.
#pragma once

#include "harness.h"
#include "p11.h"

#include <cstddef>
#include <new>
#include <string>
#include <vector>

namespace p11bench {

// Allocates whole cache lines: a thread's message and output buffers never share a
// line with another thread's, wherever they were allocated (the states are made on
// the main thread, one after another).
template <class T>
struct LineAllocator {
  using value_type = T;
  static constexpr size_t kLine = 64;
  LineAllocator() = default;
  template <class U>
  LineAllocator(const LineAllocator<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = (n * sizeof(T) + kLine - 1) / kLine * kLine;
    return static_cast<T*>(::operator new(bytes, std::align_val_t(kLine)));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(kLine)); }
  template <class U>
  bool operator==(const LineAllocator<U>&) const { return true; }
};
using Buffer = std::vector<uint8_t, LineAllocator<uint8_t>>;

enum class Alg { kNone, kRsaPkcs1, kRsaPss, kEcdsaP256, kEcdsaP384, kEd25519, kAesGcm, kAesCbc, kSha256, kHmacSha256,
                 kGenRsa2048, kGenP256, kGenEd25519 };
// kNull: C_GetSessionInfo alone, the cheapest call a module answers (through a sidecar,
// one round trip); it has no OpenSSL equivalent.
enum class Kind { kNull, kSign, kVerify, kEncrypt, kDecrypt, kDigest, kGenerate };

struct OpSpec {
  std::string name;  // the table's row label
  Alg alg;
  Kind kind;
  size_t len;  // message bytes
};

const std::vector<OpSpec>& crypto_ops();
// The row name of the null call (crypto_ops()[0]).
extern const char* const kNullCallOp;

// The token keys the PKCS#11 operations use (created by `p11bench setup`, looked up by label).
struct TokenKeys {
  CK_OBJECT_HANDLE rsa_priv = 0, rsa_pub = 0, p256_priv = 0, p256_pub = 0, p384_priv = 0, p384_pub = 0,
                   ed_priv = 0, ed_pub = 0, aes = 0, hmac = 0;
};
// Generates every benchmark key that is missing on the token (logged-in session);
// prints one line per key the module cannot generate.
void create_token_keys(const Module& m, CK_SESSION_HANDLE s);
TokenKeys find_token_keys(const Module& m, CK_SESSION_HANDLE s);

// Thread i of a PKCS#11 measurement works on sessions[i].
Factory p11_factory(const Module& m, const std::vector<CK_SESSION_HANDLE>& sessions, const TokenKeys& k,
                    const OpSpec& op);
// The same operation through OpenSSL EVP with keys generated in memory.
Factory ossl_factory(const OpSpec& op);
// FerroHSM's PIN KDF at its default cost (PBKDF2-HMAC-SHA256, 600,000 iterations), in ms.
double ossl_pbkdf2_ms();

}  // namespace p11bench
