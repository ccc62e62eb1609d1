// The software keystore: the slot backend (core/backend.h) that serves the tokens of
// an ObjectStore — one application's sessions, login state and object handles over the
// tokens every application of the process shares through the store. Each method is one
// PKCS#11 function with C++ types, returning the spec's code as its error. Thread-safe.
// (The class keeps its historical name; it is the keystore backend, App is the front.)
#pragma once

#include "base/object_store.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/hardening.h"
#include "core/mech/registry.h"
#include "core/session_table.h"
#include "core/slot_events.h"
#include "core/token.h"

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>

namespace ferrohsm {

class Core;

class Hsm final : public Backend {
 public:
  explicit Hsm(Core& core);
  ~Hsm() override;

  const Config& config() const { return cfg_; }

  // --- slots and tokens ------------------------------------------------------
  // Initialised tokens' slots in slot order, then the free slot.
  Result<std::vector<CK_SLOT_ID>> slots() override;
  Result<CK_SLOT_INFO> slot_info(CK_SLOT_ID slot) override;
  Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot) override;
  std::optional<std::string> token_label(CK_SLOT_ID slot) override;
  Result<std::vector<MechanismCaps>> mechanisms(CK_SLOT_ID slot) override;
  // `label` is the caller's 32 bytes, blank-padded.
  Status init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) override;
  // The token in `slot` (initialised), or CKR_SLOT_ID_INVALID / CKR_TOKEN_NOT_RECOGNIZED.
  Result<std::shared_ptr<Token>> token(CK_SLOT_ID slot);
  Status delete_token(CK_SLOT_ID slot);  // CLI: no sessions may be open on it
  std::vector<std::string> logged_in_tokens();

  // --- slot events (hsm_events.cc) -----------------------------------------------
  // The next slot whose token was created or deleted (here or by another process) since
  // open() or its last report, or nullopt. With `block`, waits for one, polling the
  // store; after shutdown() answers CKR_CRYPTOKI_NOT_INITIALIZED.
  Result<std::optional<CK_SLOT_ID>> slot_event(bool block);
  // Wakes every slot_event() wait (C_Finalize).
  void shutdown();

  // --- sessions and login ------------------------------------------------------
  Result<CK_SESSION_HANDLE> open_session(CK_SLOT_ID slot, CK_FLAGS flags) override;
  Status close_session(CK_SESSION_HANDLE h) override;
  Status close_all_sessions(CK_SLOT_ID slot) override;
  Result<CK_SESSION_INFO> session_info(CK_SESSION_HANDLE h) override;
  Status login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) override;
  Status logout(CK_SESSION_HANDLE h) override;
  Status init_pin(CK_SESSION_HANDLE h, std::string_view pin) override;
  Status set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) override;
  Result<CK_SLOT_ID> session_slot(CK_SESSION_HANDLE h) override;
  size_t session_count() override;
  Result<SessionPtr> session(CK_SESSION_HANDLE h);

  // --- objects -----------------------------------------------------------------
  Result<CK_OBJECT_HANDLE> create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<CK_OBJECT_HANDLE> copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Result<CK_ULONG> object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Result<ObjectPtr> object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o);
  Status get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) override;
  Status set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<std::vector<CK_OBJECT_HANDLE>> find_next(CK_SESSION_HANDLE h, CK_ULONG max) override;
  Status find_final(CK_SESSION_HANDLE h) override;

  // --- keys ----------------------------------------------------------------------
  Result<CK_OBJECT_HANDLE> generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) override;
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                                         const AttrMap& pub, const AttrMap& priv) override;
  Status generate_random(CK_SESSION_HANDLE h, MutableByteView out) override;
  Status seed_random(CK_SESSION_HANDLE h, ByteView seed) override;

  // --- signatures ----------------------------------------------------------------
  Status sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) override;
  Status sign_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status sign_final(CK_SESSION_HANDLE h, OutBuf sig) override;
  Status verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) override;
  Status verify_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status verify_final(CK_SESSION_HANDLE h, ByteView sig) override;

  // --- ciphers and digests --------------------------------------------------------------
  Status cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;
  Status cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;
  Status cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) override;
  Status digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) override;
  Status digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) override;
  Status digest_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status digest_final(CK_SESSION_HANDLE h, OutBuf out) override;

  // --- dual-function calls (hsm_dual.cc): both operations must be active ---------------
  Status dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;

  // --- operation state (hsm_state.cc): digests only -----------------------------------------
  Status get_operation_state(CK_SESSION_HANDLE h, OutBuf out) override;
  Status set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key) override;

  // --- message-based AEAD (hsm_message.cc) ----------------------------------------------
  // `param` is the caller's CK_GCM_MESSAGE_PARAMS / CK_CCM_MESSAGE_PARAMS /
  // CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS: a generated IV and the tag are written into it.
  Status message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad, ByteView in,
                 OutBuf out) override;
  Status message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) override;
  Status message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in, OutBuf out,
                      CK_FLAGS flags) override;
  Status message_final(CipherDir d, CK_SESSION_HANDLE h) override;
  std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, CipherDir d) override;

  // --- message-based signatures (hsm_message_sign.cc) -----------------------------------
  // `kind` is OpKind::MessageSign or OpKind::MessageVerify. The per-message parameter
  // must be NULL (no FerroHSM mechanism takes one). `sig == nullptr` in the *_next
  // calls marks a part that is not the last.
  Status message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, OutBuf sig) override;
  Status verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, ByteView sig) override;
  Status message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) override;
  Status sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                           const OutBuf* sig) override;
  Status verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                             const ByteView* sig) override;
  Status message_sig_final(OpKind kind, CK_SESSION_HANDLE h) override;

  // --- key management ----------------------------------------------------------------
  Status wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                  OutBuf out) override;
  Result<CK_OBJECT_HANDLE> unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                      ByteView wrapped, const AttrMap& tmpl) override;
  Result<CK_OBJECT_HANDLE> derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                      const AttrMap& tmpl) override;
  Status digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) override;
  // C_SignRecoverInit / C_VerifyRecoverInit and their single-part calls.
  Status recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;

  // Ends an active operation (a call that failed on its arguments ends it too).
  void end_operation(CK_SESSION_HANDLE h, OpKind kind) override;

  // Wipes all unsealed key material (logout of every token). Called by C_Finalize.
  void wipe() override;

 private:
  // The registry of the configured profile ([hardening] profile).
  const mech::Registry& registry() const { return registry_for(cfg_.hardening); }
  Status reload_tokens();  // picks up tokens another process created or deleted
  Result<SlotEvents::Tokens> token_ids();  // reloads, then each slot's token id
  Result<const mech::Entry*> prepare_key_use(Session& s, const CK_MECHANISM& m, CK_OBJECT_HANDLE key,
                                                CK_ATTRIBUTE_TYPE usage, ObjectPtr& obj, mech::KeyPtr& k);
  // Forgets the sessions' kept operations (session.h SpareOp) on a destroyed or
  // replaced object, so that its key schedule does not outlive it there.
  void drop_spares_of(const Session& s, const Object* obj);
  // The key for a key-management call, with its usage attribute checked; handle
  // errors become `bad_handle` (CKR_WRAPPING_KEY_HANDLE_INVALID …).
  Result<ObjectPtr> key_for(Session& s, CK_OBJECT_HANDLE key, CK_ATTRIBUTE_TYPE usage, CK_RV bad_handle);
  Status check_writable(const Session& s, bool token_object) const;
  Status check_private_access(const Session& s, bool private_object) const;

  Core& core_;
  const Config& cfg_;
  std::shared_ptr<store::ObjectStore> store_;
  mutable std::shared_mutex tokens_mu_;
  std::map<CK_SLOT_ID, std::shared_ptr<Token>> tokens_;
  CK_SLOT_ID free_slot_ = 0;
  SessionTable sessions_;
  SlotEvents events_;
};

}  // namespace ferrohsm
