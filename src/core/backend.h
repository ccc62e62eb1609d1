// The slot backend port: what serves a slot. A backend says which slots it has and,
// for each, which mechanisms it supports (with their flags and key sizes), and carries
// out sessions, login, objects and cryptography for one application on those slots.
// Its calls are the PKCS#11 functions with C++ types; handles are the backend's own
// (session handles within the range the App gave it).
//
// Implemented by the software keystore (core::Hsm, tokens over an ObjectStore) and by
// the bridge (src/backends/bridge: a token of another PKCS#11 library); the App
// (core/app.h) routes each call to the backend of its slot or session, and applies what
// is the same for every backend: slot visibility, the per-token mechanism policy, and
// later audit and policy rules.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "core/attributes.h"
#include "core/op_kind.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ferrohsm {

// A caller's output buffer with PKCS#11's convention: data == nullptr asks for the
// length; a short buffer gets CKR_BUFFER_TOO_SMALL and the length needed.
struct OutBuf {
  uint8_t* data;
  CK_ULONG* len;
};

enum class CipherDir { Encrypt, Decrypt };

// One mechanism a slot supports, as C_GetMechanismInfo reports it.
struct MechanismCaps {
  CK_MECHANISM_TYPE type = 0;
  CK_MECHANISM_INFO info{};
};

class Backend {
 public:
  virtual ~Backend() = default;

  // --- slots and tokens ---------------------------------------------------------------
  // Every slot, with a token or not: its ids never change while the backend lives.
  virtual Result<std::vector<CK_SLOT_ID>> slots() = 0;
  // Whether the slot holds its token now (C_GetSlotList(CK_TRUE)); a backend whose
  // tokens can go away (the bridge) answers for itself.
  virtual bool token_present(CK_SLOT_ID slot) {
    (void)slot;
    return true;
  }
  virtual Result<CK_SLOT_INFO> slot_info(CK_SLOT_ID slot) = 0;
  virtual Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot) = 0;
  // The label of the slot's token (unpadded), or nothing for an uninitialised token.
  virtual std::optional<std::string> token_label(CK_SLOT_ID slot) = 0;
  // The capabilities the slot advertises, before any policy.
  virtual Result<std::vector<MechanismCaps>> mechanisms(CK_SLOT_ID slot) = 0;
  virtual Status init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) = 0;

  // --- sessions and login --------------------------------------------------------------
  virtual Result<CK_SESSION_HANDLE> open_session(CK_SLOT_ID slot, CK_FLAGS flags) = 0;
  virtual Status close_session(CK_SESSION_HANDLE h) = 0;
  virtual Status close_all_sessions(CK_SLOT_ID slot) = 0;
  virtual Result<CK_SESSION_INFO> session_info(CK_SESSION_HANDLE h) = 0;
  virtual Result<CK_SLOT_ID> session_slot(CK_SESSION_HANDLE h) = 0;
  virtual size_t session_count() = 0;
  virtual Status login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) = 0;
  virtual Status logout(CK_SESSION_HANDLE h) = 0;
  virtual Status init_pin(CK_SESSION_HANDLE h, std::string_view pin) = 0;
  virtual Status set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) = 0;

  // --- objects ---------------------------------------------------------------------------
  virtual Result<CK_OBJECT_HANDLE> create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) = 0;
  virtual Result<CK_OBJECT_HANDLE> copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) = 0;
  virtual Status destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) = 0;
  virtual Result<CK_ULONG> object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) = 0;
  // C_GetAttributeValue with §5.7's rules, into the caller's (checked) array.
  virtual Status get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) = 0;
  virtual Status set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) = 0;
  virtual Status find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) = 0;
  virtual Result<std::vector<CK_OBJECT_HANDLE>> find_next(CK_SESSION_HANDLE h, CK_ULONG max) = 0;
  virtual Status find_final(CK_SESSION_HANDLE h) = 0;

  // --- keys and random -----------------------------------------------------------------
  virtual Result<CK_OBJECT_HANDLE> generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) = 0;
  virtual Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(CK_SESSION_HANDLE h,
                                                                                 const CK_MECHANISM& m,
                                                                                 const AttrMap& pub,
                                                                                 const AttrMap& priv) = 0;
  virtual Status generate_random(CK_SESSION_HANDLE h, MutableByteView out) = 0;
  virtual Status seed_random(CK_SESSION_HANDLE h, ByteView seed) = 0;

  // --- signatures, ciphers, digests ------------------------------------------------------
  virtual Status sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) = 0;
  virtual Status sign_update(CK_SESSION_HANDLE h, ByteView data) = 0;
  virtual Status sign_final(CK_SESSION_HANDLE h, OutBuf sig) = 0;
  virtual Status verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) = 0;
  virtual Status verify_update(CK_SESSION_HANDLE h, ByteView data) = 0;
  virtual Status verify_final(CK_SESSION_HANDLE h, ByteView sig) = 0;
  virtual Status cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) = 0;
  virtual Status cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) = 0;
  virtual Status cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) = 0;
  virtual Status digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) = 0;
  virtual Status digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) = 0;
  virtual Status digest_update(CK_SESSION_HANDLE h, ByteView data) = 0;
  virtual Status digest_final(CK_SESSION_HANDLE h, OutBuf out) = 0;
  virtual Status digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) = 0;
  virtual Status recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out) = 0;

  // --- dual-function calls: both operations must be active ----------------------------------
  virtual Status dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) = 0;

  // --- operation state ---------------------------------------------------------------------
  virtual Status get_operation_state(CK_SESSION_HANDLE h, OutBuf out) = 0;
  virtual Status set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key,
                                     CK_OBJECT_HANDLE auth_key) = 0;

  // --- message-based AEAD ------------------------------------------------------------------
  virtual Status message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad,
                         ByteView in, OutBuf out) = 0;
  virtual Status message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) = 0;
  virtual Status message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in,
                              OutBuf out, CK_FLAGS flags) = 0;
  virtual Status message_final(CipherDir d, CK_SESSION_HANDLE h) = 0;
  // The mechanism of the session's active message-based operation of that direction (the
  // server lays out per-message parameters by it).
  virtual std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, CipherDir d) = 0;

  // --- message-based signatures -------------------------------------------------------------
  // `kind` is OpKind::MessageSign or OpKind::MessageVerify; `sig == nullptr` in the *_next
  // calls marks a part that is not the last.
  virtual Status message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) = 0;
  virtual Status sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                              OutBuf sig) = 0;
  virtual Status verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                ByteView sig) = 0;
  virtual Status message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) = 0;
  virtual Status sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                   const OutBuf* sig) = 0;
  virtual Status verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                                     const ByteView* sig) = 0;
  virtual Status message_sig_final(OpKind kind, CK_SESSION_HANDLE h) = 0;

  // --- key management ----------------------------------------------------------------------
  virtual Status wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                          OutBuf out) = 0;
  virtual Result<CK_OBJECT_HANDLE> unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                              ByteView wrapped, const AttrMap& tmpl) = 0;
  virtual Result<CK_OBJECT_HANDLE> derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                              const AttrMap& tmpl) = 0;

  // Ends an active operation (a call that failed on its arguments ends it too).
  virtual void end_operation(CK_SESSION_HANDLE h, OpKind kind) = 0;
  // Ends every session and login of this application (C_Finalize, a lost connection).
  virtual void wipe() = 0;
};

}  // namespace ferrohsm
