// The mechanism registry: one entry per CK_MECHANISM_TYPE, each saying what it can
// do (CK_MECHANISM_INFO flags and key sizes), which key types it takes, and how to
// start each operation. Each algorithm family lives in its own file and adds its
// entries through a register_* function called from registry.cc. A slot's mechanism
// list is this registry, filtered by the slot's policy.
#pragma once

#include "core/attributes.h"
#include "core/mech/key.h"
#include "core/mech/operation.h"

#include <functional>
#include <memory>
#include <vector>

namespace ferrohsm::mech {

// The key material attributes a key generation produced (CKA_KEY_TYPE, CKA_MODULUS,
// CKA_PRIVATE_EXPONENT, CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE, CKA_VALUE_LEN …)
// together with the attributes that follow from it (CKA_PUBLIC_KEY_INFO on both
// halves, CKA_EC_POINT on the private one, CKA_MODULUS_BITS), each computed once, and
// the generated key itself: the private object keeps it rather than building it again
// from its attributes. The object layer adds the template and defaults.
struct GeneratedKeyPair {
  AttrMap public_attrs;
  AttrMap private_attrs;
  KeyPtr private_key;
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

// What a derivation may need besides its base key: other keys named by handle in
// the mechanism parameters (CKM_CONCATENATE_BASE_AND_KEY …), resolved by the core
// with the caller's access rights.
struct DeriveContext {
  std::function<Result<KeyPtr>(CK_OBJECT_HANDLE)> resolve_key;
};
// Returns the derived secret's bytes. `value_len` is the template's CKA_VALUE_LEN,
// or 0 when it gave none (the mechanism's natural length, or
// CKR_TEMPLATE_INCOMPLETE where there is none). `base` is null for mechanisms
// that take no base key (CKM_HKDF_DATA takes its input in the parameters).
using Deriver = Result<SecureBytes> (*)(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len,
                                        const DeriveContext& ctx);

struct Entry {
  CK_MECHANISM_TYPE type = 0;
  // ulMinKeySize, ulMaxKeySize, flags (CKF_SIGN, CKF_VERIFY, …). Registry::add sets
  // CKF_MESSAGE_SIGN / CKF_MESSAGE_VERIFY on every entry that signs / verifies: a
  // message is one signature under the context's key and init parameters
  // (core/hsm_message_sign.cc), so a signature mechanism's parameters must be ones
  // mech/kept_mechanism.h can keep.
  CK_MECHANISM_INFO info{};
  std::vector<CK_KEY_TYPE> key_types;  // key types the operations accept
  SignFactory sign = nullptr;          // also used for CKF_SIGN with secret keys (HMAC)
  VerifyFactory verify = nullptr;
  CipherFactory encrypt = nullptr;
  CipherFactory decrypt = nullptr;
  DigestFactory digest = nullptr;
  KeyPairGenerator generate_key_pair = nullptr;
  KeyGenerator generate_key = nullptr;
  // C_SignRecover / C_VerifyRecover (RSA): single-part "ciphers" over the private
  // and the public key respectively.
  CipherFactory sign_recover = nullptr;
  CipherFactory verify_recover = nullptr;
  // C_DeriveKey.
  Deriver derive = nullptr;
  // C_WrapKey / C_UnwrapKey use `encrypt` / `decrypt` (one-shot) over the key's
  // material — a secret key's CKA_VALUE, a private key's PKCS#8 DER — for the
  // entries whose info.flags carry CKF_WRAP / CKF_UNWRAP.
  // The mechanisms that do not pad (ECB, CBC, RFC 3394 KW) wrap the material
  // zero-padded to a multiple of this many bytes and unwrap by cutting the zeros
  // off again (mech/wrap_padding.h); 0: the mechanism takes any length as it is.
  size_t wrap_pad_block = 0;
  // A legacy mechanism (MD5-based: CKM_MD5, CKM_MD5_RSA_PKCS, CKM_MD5_HMAC …), still
  // asked for by old clients. One flag, so that a strict policy profile can drop
  // them all.
  bool legacy = false;
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
void register_ecdh(Registry& r);
void register_aes_modes(Registry& r);
void register_aes_kw(Registry& r);
void register_aes_mac(Registry& r);
void register_aead(Registry& r);
void register_des(Registry& r);
void register_hkdf(Registry& r);
void register_sp800_108(Registry& r);
void register_pbkdf2(Registry& r);
void register_simple_derive(Registry& r);

}  // namespace ferrohsm::mech
