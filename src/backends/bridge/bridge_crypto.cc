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
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(forward_rv(f_->C_GenerateKey(u, mech(m), t.data(), t.size(), &key), "C_GenerateKey"));
  return key;
}

Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> BridgeBackend::generate_key_pair(CK_SESSION_HANDLE h,
                                                                                      const CK_MECHANISM& m,
                                                                                      const AttrMap& pub,
                                                                                      const AttrMap& priv) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CkTemplate tpub, CkTemplate::of(pub));
  FH_ASSIGN_OR_RETURN(CkTemplate tpriv, CkTemplate::of(priv));
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
  FH_TRY(forward_rv(f_->C_GenerateKeyPair(u, mech(m), tpub.data(), tpub.size(), tpriv.data(), tpriv.size(), &hpub,
                                          &hpriv),
                    "C_GenerateKeyPair"));
  return std::pair{hpub, hpriv};
}

Status BridgeBackend::generate_random(CK_SESSION_HANDLE h, MutableByteView out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_GenerateRandom(u, out.data(), out.size()), "C_GenerateRandom");
}

Status BridgeBackend::seed_random(CK_SESSION_HANDLE h, ByteView seed) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_SeedRandom(u, in(seed), len(seed)), "C_SeedRandom");
}

// --- signatures -------------------------------------------------------------------------------------

Status BridgeBackend::sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_SignInit(u, mech(m), key), "C_SignInit");
}
Status BridgeBackend::sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_Sign(u, in(data), len(data), sig.data, sig.len), "C_Sign");
}
Status BridgeBackend::sign_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_SignUpdate(u, in(data), len(data)), "C_SignUpdate");
}
Status BridgeBackend::sign_final(CK_SESSION_HANDLE h, OutBuf sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_SignFinal(u, sig.data, sig.len), "C_SignFinal");
}
Status BridgeBackend::verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_VerifyInit(u, mech(m), key), "C_VerifyInit");
}
Status BridgeBackend::verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_Verify(u, in(data), len(data), in(sig), len(sig)), "C_Verify");
}
Status BridgeBackend::verify_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_VerifyUpdate(u, in(data), len(data)), "C_VerifyUpdate");
}
Status BridgeBackend::verify_final(CK_SESSION_HANDLE h, ByteView sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_VerifyFinal(u, in(sig), len(sig)), "C_VerifyFinal");
}

// --- ciphers -------------------------------------------------------------------------------------

Status BridgeBackend::cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (d == CipherDir::Encrypt) return forward_rv(f_->C_EncryptInit(u, mech(m), key), "C_EncryptInit");
  return forward_rv(f_->C_DecryptInit(u, mech(m), key), "C_DecryptInit");
}
Status BridgeBackend::cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (d == CipherDir::Encrypt) return forward_rv(f_->C_Encrypt(u, in(data), len(data), out.data, out.len), "C_Encrypt");
  return forward_rv(f_->C_Decrypt(u, in(data), len(data), out.data, out.len), "C_Decrypt");
}
Status BridgeBackend::cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (d == CipherDir::Encrypt)
    return forward_rv(f_->C_EncryptUpdate(u, in(data), len(data), out.data, out.len), "C_EncryptUpdate");
  return forward_rv(f_->C_DecryptUpdate(u, in(data), len(data), out.data, out.len), "C_DecryptUpdate");
}
Status BridgeBackend::cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (d == CipherDir::Encrypt) return forward_rv(f_->C_EncryptFinal(u, out.data, out.len), "C_EncryptFinal");
  return forward_rv(f_->C_DecryptFinal(u, out.data, out.len), "C_DecryptFinal");
}

// --- digests and recovery -------------------------------------------------------------------------

Status BridgeBackend::digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_DigestInit(u, mech(m)), "C_DigestInit");
}
Status BridgeBackend::digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_Digest(u, in(data), len(data), out.data, out.len), "C_Digest");
}
Status BridgeBackend::digest_update(CK_SESSION_HANDLE h, ByteView data) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_DigestUpdate(u, in(data), len(data)), "C_DigestUpdate");
}
Status BridgeBackend::digest_final(CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_DigestFinal(u, out.data, out.len), "C_DigestFinal");
}
Status BridgeBackend::digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_DigestKey(u, key), "C_DigestKey");
}
Status BridgeBackend::recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (kind == OpKind::SignRecover) return forward_rv(f_->C_SignRecoverInit(u, mech(m), key), "C_SignRecoverInit");
  return forward_rv(f_->C_VerifyRecoverInit(u, mech(m), key), "C_VerifyRecoverInit");
}
Status BridgeBackend::recover(OpKind kind, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  if (kind == OpKind::SignRecover)
    return forward_rv(f_->C_SignRecover(u, in(data), len(data), out.data, out.len), "C_SignRecover");
  return forward_rv(f_->C_VerifyRecover(u, in(data), len(data), out.data, out.len), "C_VerifyRecover");
}

Status BridgeBackend::dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  switch (d) {
    case DualKind::DigestEncrypt:
      return forward_rv(f_->C_DigestEncryptUpdate(u, in(data), len(data), out.data, out.len), "C_DigestEncryptUpdate");
    case DualKind::DecryptDigest:
      return forward_rv(f_->C_DecryptDigestUpdate(u, in(data), len(data), out.data, out.len), "C_DecryptDigestUpdate");
    case DualKind::SignEncrypt:
      return forward_rv(f_->C_SignEncryptUpdate(u, in(data), len(data), out.data, out.len), "C_SignEncryptUpdate");
    case DualKind::DecryptVerify: break;
  }
  return forward_rv(f_->C_DecryptVerifyUpdate(u, in(data), len(data), out.data, out.len), "C_DecryptVerifyUpdate");
}

Status BridgeBackend::get_operation_state(CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_GetOperationState(u, out.data, out.len), "C_GetOperationState");
}
Status BridgeBackend::set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key,
                                          CK_OBJECT_HANDLE auth_key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_SetOperationState(u, in(state), len(state), enc_key, auth_key), "C_SetOperationState");
}

// --- message-based AEAD (3.0) ----------------------------------------------------------------------

Status BridgeBackend::message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (d == CipherDir::Encrypt) FH_TRY(forward_rv(f->C_MessageEncryptInit(u, mech(m), key), "C_MessageEncryptInit"));
  else FH_TRY(forward_rv(f->C_MessageDecryptInit(u, mech(m), key), "C_MessageDecryptInit"));
  std::lock_guard lock(lease.s->mech_mu);
  lease.s->message_mech[static_cast<int>(d)] = m.mechanism;
  return {};
}
Status BridgeBackend::message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad,
                              ByteView data, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (d == CipherDir::Encrypt)
    return forward_rv(f->C_EncryptMessage(u, param, param_len, in(aad), len(aad), in(data), len(data), out.data,
                                          out.len),
                      "C_EncryptMessage");
  return forward_rv(f->C_DecryptMessage(u, param, param_len, in(aad), len(aad), in(data), len(data), out.data, out.len),
                    "C_DecryptMessage");
}
Status BridgeBackend::message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (d == CipherDir::Encrypt)
    return forward_rv(f->C_EncryptMessageBegin(u, param, param_len, in(aad), len(aad)), "C_EncryptMessageBegin");
  return forward_rv(f->C_DecryptMessageBegin(u, param, param_len, in(aad), len(aad)), "C_DecryptMessageBegin");
}
Status BridgeBackend::message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView data,
                                   OutBuf out, CK_FLAGS flags) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (d == CipherDir::Encrypt)
    return forward_rv(f->C_EncryptMessageNext(u, param, param_len, in(data), len(data), out.data, out.len, flags),
                      "C_EncryptMessageNext");
  return forward_rv(f->C_DecryptMessageNext(u, param, param_len, in(data), len(data), out.data, out.len, flags),
                    "C_DecryptMessageNext");
}
Status BridgeBackend::message_final(CipherDir d, CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  Status s = d == CipherDir::Encrypt ? forward_rv(f->C_MessageEncryptFinal(u), "C_MessageEncryptFinal")
                                     : forward_rv(f->C_MessageDecryptFinal(u), "C_MessageDecryptFinal");
  std::lock_guard lock(lease.s->mech_mu);
  lease.s->message_mech[static_cast<int>(d)].reset();
  return s;
}
std::optional<CK_MECHANISM_TYPE> BridgeBackend::message_mechanism(CK_SESSION_HANDLE h, CipherDir d) {
  auto lease = lease_of(h);
  if (!lease.ok()) return std::nullopt;
  std::lock_guard lock(lease->s->mech_mu);
  return lease->s->message_mech[static_cast<int>(d)];
}

// --- message-based signatures (3.0) ------------------------------------------------------------------

Status BridgeBackend::message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (kind == OpKind::MessageSign) return forward_rv(f->C_MessageSignInit(u, mech(m), key), "C_MessageSignInit");
  return forward_rv(f->C_MessageVerifyInit(u, mech(m), key), "C_MessageVerifyInit");
}
Status BridgeBackend::sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                   OutBuf sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  return forward_rv(f->C_SignMessage(u, par(param), param_len, in(data), len(data), sig.data, sig.len),
                    "C_SignMessage");
}
Status BridgeBackend::verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                     ByteView sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  return forward_rv(f->C_VerifyMessage(u, par(param), param_len, in(data), len(data), in(sig), len(sig)),
                    "C_VerifyMessage");
}
Status BridgeBackend::message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (kind == OpKind::MessageSign)
    return forward_rv(f->C_SignMessageBegin(u, par(param), param_len), "C_SignMessageBegin");
  return forward_rv(f->C_VerifyMessageBegin(u, par(param), param_len), "C_VerifyMessageBegin");
}
Status BridgeBackend::sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                        const OutBuf* sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  return forward_rv(f->C_SignMessageNext(u, par(param), param_len, in(data), len(data), sig ? sig->data : nullptr,
                                         sig ? sig->len : nullptr),
                    "C_SignMessageNext");
}
Status BridgeBackend::verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                          const ByteView* sig) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  return forward_rv(f->C_VerifyMessageNext(u, par(param), param_len, in(data), len(data), sig ? in(*sig) : nullptr,
                                           sig ? len(*sig) : 0),
                    "C_VerifyMessageNext");
}
Status BridgeBackend::message_sig_final(OpKind kind, CK_SESSION_HANDLE h) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
  if (kind == OpKind::MessageSign) return forward_rv(f->C_MessageSignFinal(u), "C_MessageSignFinal");
  return forward_rv(f->C_MessageVerifyFinal(u), "C_MessageVerifyFinal");
}

// --- key management ------------------------------------------------------------------------------------

Status BridgeBackend::wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping,
                               CK_OBJECT_HANDLE key, OutBuf out) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  return forward_rv(f_->C_WrapKey(u, mech(m), wrapping, key, out.data, out.len), "C_WrapKey");
}
Result<CK_OBJECT_HANDLE> BridgeBackend::unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                   CK_OBJECT_HANDLE unwrapping, ByteView wrapped,
                                                   const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(forward_rv(f_->C_UnwrapKey(u, mech(m), unwrapping, in(wrapped), len(wrapped), t.data(), t.size(), &key),
                    "C_UnwrapKey"));
  return key;
}
Result<CK_OBJECT_HANDLE> BridgeBackend::derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                                   const AttrMap& tmpl) {
  FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
  const CK_SESSION_HANDLE u = lease.under;
  FH_ASSIGN_OR_RETURN(CkTemplate t, CkTemplate::of(tmpl));
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  FH_TRY(forward_rv(f_->C_DeriveKey(u, mech(m), base, t.data(), t.size(), &key), "C_DeriveKey"));
  return key;
}

}  // namespace ferrohsm::bridge
