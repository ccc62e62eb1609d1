// The bridge's keys, random, signatures, ciphers, digests and key management: each call
// is the library's, on the library's session, with the caller's buffers (the library
// applies PKCS#11's length convention to an OutBuf itself).
#include "backends/bridge/bridge_backend.h"

#include "backends/bridge/ck_template.h"

#include <mutex>

namespace ferrohsm::bridge {

namespace {

// PKCS#11 takes these as non-const pointers but does not write through them.
CK_MECHANISM_PTR mech(const CK_MECHANISM& m) { return const_cast<CK_MECHANISM_PTR>(&m); }
CK_BYTE_PTR in(ByteView b) { return const_cast<CK_BYTE_PTR>(b.data()); }
CK_ULONG len(ByteView b) { return static_cast<CK_ULONG>(b.size()); }
CK_VOID_PTR par(const void* p) { return const_cast<CK_VOID_PTR>(p); }

}  // namespace

// --- keys and random -------------------------------------------------------------------------

Result<CK_OBJECT_HANDLE> BridgeBackend::generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_GenerateKey, mech(m), t.data(), t.size(), &key));
  return key;
}

Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> BridgeBackend::generate_key_pair(CK_SESSION_HANDLE h,
                                                                                      const CK_MECHANISM& m,
                                                                                      const AttrMap& pub,
                                                                                      const AttrMap& priv) {
  FH_ASSIGN_OR_RETURN(CkTemplate tpub, CkTemplate::of(pub));
  FH_ASSIGN_OR_RETURN(CkTemplate tpriv, CkTemplate::of(priv));
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_GenerateKeyPair, mech(m), tpub.data(), tpub.size(), tpriv.data(), tpriv.size(), &hpub, &hpriv));
  return std::pair{hpub, hpriv};
}

Status BridgeBackend::generate_random(CK_SESSION_HANDLE h, MutableByteView out) {
  return FH_BRIDGE(C_GenerateRandom, out.data(), out.size());
}

Status BridgeBackend::seed_random(CK_SESSION_HANDLE h, ByteView seed) {
  return FH_BRIDGE(C_SeedRandom, in(seed), len(seed));
}

// --- signatures -------------------------------------------------------------------------------------

Status BridgeBackend::sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  return FH_BRIDGE(C_SignInit, mech(m), key);
}
Status BridgeBackend::sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) {
  return FH_BRIDGE(C_Sign, in(data), len(data), sig.data, sig.len);
}
Status BridgeBackend::sign_update(CK_SESSION_HANDLE h, ByteView data) {
  return FH_BRIDGE(C_SignUpdate, in(data), len(data));
}
Status BridgeBackend::sign_final(CK_SESSION_HANDLE h, OutBuf sig) {
  return FH_BRIDGE(C_SignFinal, sig.data, sig.len);
}
Status BridgeBackend::verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  return FH_BRIDGE(C_VerifyInit, mech(m), key);
}
Status BridgeBackend::verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) {
  return FH_BRIDGE(C_Verify, in(data), len(data), in(sig), len(sig));
}
Status BridgeBackend::verify_update(CK_SESSION_HANDLE h, ByteView data) {
  return FH_BRIDGE(C_VerifyUpdate, in(data), len(data));
}
Status BridgeBackend::verify_final(CK_SESSION_HANDLE h, ByteView sig) {
  return FH_BRIDGE(C_VerifyFinal, in(sig), len(sig));
}

// --- ciphers -------------------------------------------------------------------------------------

Status BridgeBackend::cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  if (d == CipherDir::Encrypt) return FH_BRIDGE(C_EncryptInit, mech(m), key);
  return FH_BRIDGE(C_DecryptInit, mech(m), key);
}
Status BridgeBackend::cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  if (d == CipherDir::Encrypt) return FH_BRIDGE(C_Encrypt, in(data), len(data), out.data, out.len);
  return FH_BRIDGE(C_Decrypt, in(data), len(data), out.data, out.len);
}
Status BridgeBackend::cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  if (d == CipherDir::Encrypt)
    return FH_BRIDGE(C_EncryptUpdate, in(data), len(data), out.data, out.len);
  return FH_BRIDGE(C_DecryptUpdate, in(data), len(data), out.data, out.len);
}
Status BridgeBackend::cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) {
  if (d == CipherDir::Encrypt) return FH_BRIDGE(C_EncryptFinal, out.data, out.len);
  return FH_BRIDGE(C_DecryptFinal, out.data, out.len);
}

// --- digests and recovery -------------------------------------------------------------------------

Status BridgeBackend::digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) {
  return FH_BRIDGE(C_DigestInit, mech(m));
}
Status BridgeBackend::digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  return FH_BRIDGE(C_Digest, in(data), len(data), out.data, out.len);
}
Status BridgeBackend::digest_update(CK_SESSION_HANDLE h, ByteView data) {
  return FH_BRIDGE(C_DigestUpdate, in(data), len(data));
}
Status BridgeBackend::digest_final(CK_SESSION_HANDLE h, OutBuf out) {
  return FH_BRIDGE(C_DigestFinal, out.data, out.len);
}
Status BridgeBackend::digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  return FH_BRIDGE(C_DigestKey, key);
}
Status BridgeBackend::recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  if (kind == OpKind::SignRecover) return FH_BRIDGE(C_SignRecoverInit, mech(m), key);
  return FH_BRIDGE(C_VerifyRecoverInit, mech(m), key);
}
Status BridgeBackend::recover(OpKind kind, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  if (kind == OpKind::SignRecover)
    return FH_BRIDGE(C_SignRecover, in(data), len(data), out.data, out.len);
  return FH_BRIDGE(C_VerifyRecover, in(data), len(data), out.data, out.len);
}

Status BridgeBackend::dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  switch (d) {
    case DualKind::DigestEncrypt:
      return FH_BRIDGE(C_DigestEncryptUpdate, in(data), len(data), out.data, out.len);
    case DualKind::DecryptDigest:
      return FH_BRIDGE(C_DecryptDigestUpdate, in(data), len(data), out.data, out.len);
    case DualKind::SignEncrypt:
      return FH_BRIDGE(C_SignEncryptUpdate, in(data), len(data), out.data, out.len);
    case DualKind::DecryptVerify: break;
  }
  return FH_BRIDGE(C_DecryptVerifyUpdate, in(data), len(data), out.data, out.len);
}

Status BridgeBackend::get_operation_state(CK_SESSION_HANDLE h, OutBuf out) {
  return FH_BRIDGE(C_GetOperationState, out.data, out.len);
}
Status BridgeBackend::set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key,
                                          CK_OBJECT_HANDLE auth_key) {
  return FH_BRIDGE(C_SetOperationState, in(state), len(state), enc_key, auth_key);
}

// --- message-based AEAD (3.0) ----------------------------------------------------------------------

Status BridgeBackend::message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  const bool enc = d == CipherDir::Encrypt;
  CK_RV rv = enc ? f->C_MessageEncryptInit(u, mech(m), key) : f->C_MessageDecryptInit(u, mech(m), key);
  if (rv != CKR_OK) {
    settle(lease, rv);
    return forward_rv(rv, enc ? "C_MessageEncryptInit" : "C_MessageDecryptInit");
  }
  std::lock_guard lock(lease.s->mech_mu);
  lease.s->message_mech[static_cast<int>(d)] = m.mechanism;
  return {};
}
Status BridgeBackend::message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad,
                              ByteView data, OutBuf out) {
  if (d == CipherDir::Encrypt)
    return FH_BRIDGE3(C_EncryptMessage, param, param_len, in(aad), len(aad), in(data), len(data), out.data, out.len);
  return FH_BRIDGE3(C_DecryptMessage, param, param_len, in(aad), len(aad), in(data), len(data), out.data, out.len);
}
Status BridgeBackend::message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) {
  if (d == CipherDir::Encrypt)
    return FH_BRIDGE3(C_EncryptMessageBegin, param, param_len, in(aad), len(aad));
  return FH_BRIDGE3(C_DecryptMessageBegin, param, param_len, in(aad), len(aad));
}
Status BridgeBackend::message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView data,
                                   OutBuf out, CK_FLAGS flags) {
  if (d == CipherDir::Encrypt)
    return FH_BRIDGE3(C_EncryptMessageNext, param, param_len, in(data), len(data), out.data, out.len, flags);
  return FH_BRIDGE3(C_DecryptMessageNext, param, param_len, in(data), len(data), out.data, out.len, flags);
}
Status BridgeBackend::message_final(CipherDir d, CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  const bool enc = d == CipherDir::Encrypt;
  CK_RV rv = enc ? f->C_MessageEncryptFinal(u) : f->C_MessageDecryptFinal(u);
  {
    std::lock_guard lock(lease.s->mech_mu);
    lease.s->message_mech[static_cast<int>(d)].reset();
  }
  if (rv != CKR_OK) settle(lease, rv);
  return forward_rv(rv, enc ? "C_MessageEncryptFinal" : "C_MessageDecryptFinal");
}
std::optional<CK_MECHANISM_TYPE> BridgeBackend::message_mechanism(CK_SESSION_HANDLE h, CipherDir d) {
  auto lease = lease_of(h);
  if (!lease.ok()) return std::nullopt;
  std::lock_guard lock(lease->s->mech_mu);
  return lease->s->message_mech[static_cast<int>(d)];
}

// --- message-based signatures (3.0) ------------------------------------------------------------------

Status BridgeBackend::message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  if (kind == OpKind::MessageSign) return FH_BRIDGE3(C_MessageSignInit, mech(m), key);
  return FH_BRIDGE3(C_MessageVerifyInit, mech(m), key);
}
Status BridgeBackend::sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                   OutBuf sig) {
  return FH_BRIDGE3(C_SignMessage, par(param), param_len, in(data), len(data), sig.data, sig.len);
}
Status BridgeBackend::verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                     ByteView sig) {
  return FH_BRIDGE3(C_VerifyMessage, par(param), param_len, in(data), len(data), in(sig), len(sig));
}
Status BridgeBackend::message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) {
  if (kind == OpKind::MessageSign)
    return FH_BRIDGE3(C_SignMessageBegin, par(param), param_len);
  return FH_BRIDGE3(C_VerifyMessageBegin, par(param), param_len);
}
Status BridgeBackend::sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                        const OutBuf* sig) {
  return FH_BRIDGE3(C_SignMessageNext, par(param), param_len, in(data), len(data), sig ? sig->data : nullptr,
                    sig ? sig->len : nullptr);
}
Status BridgeBackend::verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                          const ByteView* sig) {
  return FH_BRIDGE3(C_VerifyMessageNext, par(param), param_len, in(data), len(data), sig ? in(*sig) : nullptr,
                    sig ? len(*sig) : CK_ULONG{0});
}
Status BridgeBackend::message_sig_final(OpKind kind, CK_SESSION_HANDLE h) {
  if (kind == OpKind::MessageSign) return FH_BRIDGE3(C_MessageSignFinal);
  return FH_BRIDGE3(C_MessageVerifyFinal);
}

// --- key management ------------------------------------------------------------------------------------

Status BridgeBackend::wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping,
                               CK_OBJECT_HANDLE key, OutBuf out) {
  return FH_BRIDGE(C_WrapKey, mech(m), wrapping, key, out.data, out.len);
}
Result<CK_OBJECT_HANDLE> BridgeBackend::unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                   CK_OBJECT_HANDLE unwrapping, ByteView wrapped,
                                                   const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_UnwrapKey, mech(m), unwrapping, in(wrapped), len(wrapped), t.data(), t.size(), &key));
  return key;
}
Result<CK_OBJECT_HANDLE> BridgeBackend::derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                                   const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(FH_BRIDGE(C_DeriveKey, mech(m), base, t.data(), t.size(), &key));
  return key;
}

}  // namespace ferrohsm::bridge
