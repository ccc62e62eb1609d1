// The Wycheproof harness: a module loaded with dlopen, a fresh store with a token
// logged in as the user, and one runner per file family. A runner imports each test
// group's key (session objects) and drives every case through PKCS#11; it returns a
// Tally: a case passes when a `valid` case succeeds, an `invalid` case fails, or an
// `acceptable` case does either. A valid case refused with
// CKR_MECHANISM_PARAM_INVALID counts as "rejected by a documented limit" only when
// a row of the file's limit table (wycheproof_test.cc) names that case.
#pragma once

#include <ferrohsm/cryptoki.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace wycheproof {

using Bytes = std::vector<uint8_t>;
using Json = nlohmann::json;

// hex_json.cc
Bytes hex(const std::string& h);
Bytes hex_field(const Json& j, const char* name);  // empty when absent
// DER OCTET STRING / OBJECT IDENTIFIER wrappers.
Bytes der_octet(const Bytes& raw);
// CKA_EC_PARAMS for a Wycheproof curve name ("secp256r1", "brainpoolP256r1", "edwards25519", "curve25519" …).
Bytes curve_oid(const std::string& name);
std::string rv_name(CK_RV rv);

// A limit: a predicate over (group, test) and why the module may refuse such cases.
struct Limit {
  const char* file;
  const char* reason;
  std::function<bool(const Json& group, const Json& test)> applies;
};

struct Tally {
  int passed = 0;
  int limited = 0;  // valid / acceptable cases refused under a Limit
  std::vector<std::string> failures;  // "tcId N: why"
  int total() const { return passed + limited + static_cast<int>(failures.size()); }
};

// One case's outcome: `rv` of the operation (CKR_OK when it succeeded and the
// output matched), `mismatch` when it succeeded with a wrong output.
struct Outcome {
  CK_RV rv = CKR_OK;
  bool mismatch = false;
  std::string where;  // the failing function
};

class Session {
 public:
  CK_FUNCTION_LIST_3_0* f = nullptr;
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;

  CK_RV create(std::vector<CK_ATTRIBUTE> tmpl, CK_OBJECT_HANDLE& out) const;
  void destroy(CK_OBJECT_HANDLE o) const;
  // CKA_VALUE of a (non-sensitive, extractable) key.
  CK_RV value(CK_OBJECT_HANDLE o, Bytes& out) const;
};

// Records `o` for case `t` against its expected result and the file's limits.
void record(Tally& tally, const Json& group, const Json& test, const Outcome& o, const std::vector<const Limit*>& limits);

using Runner = Tally (*)(const Session& s, const Json& file, const std::vector<const Limit*>& limits);

// run_signature.cc
Tally run_ecdsa_p1363(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_eddsa(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_rsa_pkcs1_sig(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_rsa_pss(const Session&, const Json&, const std::vector<const Limit*>&);
// run_mac.cc
Tally run_hmac(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_aes_cmac(const Session&, const Json&, const std::vector<const Limit*>&);
// run_cipher.cc
Tally run_aes_cbc_pad(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_aead(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_rsa_oaep(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_rsa_pkcs1_dec(const Session&, const Json&, const std::vector<const Limit*>&);
// run_derive.cc
Tally run_ecdh(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_xdh(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_hkdf(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_pbkdf2(const Session&, const Json&, const std::vector<const Limit*>&);
Tally run_key_wrap(const Session&, const Json&, const std::vector<const Limit*>&);

// Attribute helpers (the values must outlive the call that uses the template).
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE t, const void* p, size_t n) {
  return CK_ATTRIBUTE{t, const_cast<void*>(p), static_cast<CK_ULONG>(n)};
}
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE t, const Bytes& b) { return attr(t, b.data(), b.size()); }
extern const CK_BBOOL kTrue;
extern const CK_BBOOL kFalse;
extern const CK_OBJECT_CLASS kSecretClass;
extern const CK_OBJECT_CLASS kPublicClass;
extern const CK_OBJECT_CLASS kPrivateClass;

// A session secret key with every usage allowed.
CK_RV import_secret(const Session& s, CK_KEY_TYPE kt, const Bytes& value, CK_OBJECT_HANDLE& out);

}  // namespace wycheproof
