// The mechanism registry: one entry per CK_MECHANISM_TYPE, each saying what it can
// do (CK_MECHANISM_INFO flags and key sizes), which key types it takes, and how to
// start each operation. Each algorithm family lives in its own file and adds its
// entries through a register_* function called from registry.cc. A slot's mechanism
// list is this registry, filtered by the slot's policy.
#pragma once

#include "core/attributes.h"
#include "core/mech/key.h"
#include "core/mech/operation.h"

#include <memory>
#include <vector>

namespace ferrohsm::mech {

// The key material attributes a key generation produced (CKA_KEY_TYPE, CKA_MODULUS,
// CKA_PRIVATE_EXPONENT, CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE, CKA_VALUE_LEN …).
// The object layer adds the template, defaults and derived attributes.
struct GeneratedKeyPair {
  AttrMap public_attrs;
  AttrMap private_attrs;
};

// `mech.pParameter` is only valid during the call: factories copy what they keep.
// Key type and key size were already checked against the entry by the caller.
using SignFactory = Result<std::unique_ptr<SignOp>> (*)(const CK_MECHANISM& mech, KeyPtr key);
using VerifyFactory = Result<std::unique_ptr<VerifyOp>> (*)(const CK_MECHANISM& mech, KeyPtr key);
using CipherFactory = Result<std::unique_ptr<CipherOp>> (*)(const CK_MECHANISM& mech, KeyPtr key);
using DigestFactory = Result<std::unique_ptr<DigestOp>> (*)(const CK_MECHANISM& mech);
// Templates are the caller's, already parsed; generation reads CKA_MODULUS_BITS,
// CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS, CKA_VALUE_LEN from them.
using KeyPairGenerator = Result<GeneratedKeyPair> (*)(const CK_MECHANISM& mech, const AttrMap& pub_tmpl,
                                                      const AttrMap& priv_tmpl);
using KeyGenerator = Result<AttrMap> (*)(const CK_MECHANISM& mech, const AttrMap& tmpl);

struct Entry {
  CK_MECHANISM_TYPE type = 0;
  CK_MECHANISM_INFO info{};            // ulMinKeySize, ulMaxKeySize, flags (CKF_SIGN, CKF_VERIFY, …)
  std::vector<CK_KEY_TYPE> key_types;  // key types the operations accept
  SignFactory sign = nullptr;          // also used for CKF_SIGN with secret keys (HMAC)
  VerifyFactory verify = nullptr;
  CipherFactory encrypt = nullptr;
  CipherFactory decrypt = nullptr;
  DigestFactory digest = nullptr;
  KeyPairGenerator generate_key_pair = nullptr;
  KeyGenerator generate_key = nullptr;
};

class Registry {
 public:
  // The process-wide registry with every family registered (built on first use).
  static const Registry& global();

  void add(Entry e);
  const Entry* find(CK_MECHANISM_TYPE type) const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;  // sorted by type after registration
};

// One per family file.
void register_rsa(Registry& r);
void register_ecdsa(Registry& r);
void register_eddsa(Registry& r);
void register_aes(Registry& r);
void register_digest(Registry& r);
void register_hmac(Registry& r);
void register_generic_secret(Registry& r);

}  // namespace ferrohsm::mech
