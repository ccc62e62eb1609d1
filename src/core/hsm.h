// The HSM core as one object: slots and tokens over the store, sessions and login
// state, objects, and cryptographic operations. The PKCS#11 module, the CLI and the
// server each hold one Hsm and call it; each method is one PKCS#11 function with C++
// types, returning the spec's code as its error. Thread-safe.
#pragma once

#include "core/config.h"
#include "core/mech/registry.h"
#include "core/session_table.h"
#include "core/slot_events.h"
#include "core/token.h"
#include "store/sqlite_store.h"

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>

namespace ferrohsm {

// A caller's output buffer with PKCS#11's convention: data == nullptr asks for the
// length; a short buffer gets CKR_BUFFER_TOO_SMALL and the length needed.
struct OutBuf {
  uint8_t* data;
  CK_ULONG* len;
};

enum class CipherDir { Encrypt, Decrypt };
enum class OpKind { Sign, Verify, Encrypt, Decrypt, Digest, SignRecover, VerifyRecover, MessageEncrypt, MessageDecrypt };

class Hsm {
 public:
  static Result<std::unique_ptr<Hsm>> open(const Config& cfg);
  ~Hsm();

  const Config& config() const { return cfg_; }
  store::SqliteStore& store() { return *store_; }

  // --- slots and tokens ------------------------------------------------------
  // Initialised tokens' slots in slot order, then the free slot.
  Result<std::vector<CK_SLOT_ID>> slots();
  Result<CK_SLOT_INFO> slot_info(CK_SLOT_ID slot);
  Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot);
  Result<std::vector<CK_MECHANISM_TYPE>> mechanisms(CK_SLOT_ID slot);
  Result<CK_MECHANISM_INFO> mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type);
  // `label` is the caller's 32 bytes, blank-padded.
  Status init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label);
  // The token in `slot` (initialised), or CKR_SLOT_ID_INVALID / CKR_TOKEN_NOT_RECOGNIZED.
  Result<std::shared_ptr<Token>> token(CK_SLOT_ID slot);
  Status delete_token(CK_SLOT_ID slot);  // CLI: no sessions may be open on it

  // --- slot events (hsm_events.cc) -----------------------------------------------
  // The next slot whose token was created or deleted (here or by another process) since
  // open() or its last report, or nullopt. With `block`, waits for one, polling the
  // store; after shutdown() answers CKR_CRYPTOKI_NOT_INITIALIZED.
  Result<std::optional<CK_SLOT_ID>> slot_event(bool block);
  // Wakes every slot_event() wait (C_Finalize).
  void shutdown();

  // --- sessions and login ------------------------------------------------------
  Result<CK_SESSION_HANDLE> open_session(CK_SLOT_ID slot, CK_FLAGS flags);
  Status close_session(CK_SESSION_HANDLE h);
  Status close_all_sessions(CK_SLOT_ID slot);
  Result<CK_SESSION_INFO> session_info(CK_SESSION_HANDLE h);
  Status login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin);
  Status logout(CK_SESSION_HANDLE h);
  Status init_pin(CK_SESSION_HANDLE h, std::string_view pin);
  Status set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin);
  Result<SessionPtr> session(CK_SESSION_HANDLE h);

  // --- objects -----------------------------------------------------------------
  Result<CK_OBJECT_HANDLE> create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl);
  Result<CK_OBJECT_HANDLE> copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl);
  Status destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o);
  Result<CK_ULONG> object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o);
  Result<ObjectPtr> object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o);
  Status set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl);
  Status find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl);
  Result<std::vector<CK_OBJECT_HANDLE>> find_next(CK_SESSION_HANDLE h, CK_ULONG max);
  Status find_final(CK_SESSION_HANDLE h);

  // --- keys ----------------------------------------------------------------------
  Result<CK_OBJECT_HANDLE> generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl);
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                                         const AttrMap& pub, const AttrMap& priv);
  Status generate_random(CK_SESSION_HANDLE h, MutableByteView out);
  Status seed_random(CK_SESSION_HANDLE h, ByteView seed);

  // --- signatures ----------------------------------------------------------------
  Status sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key);
  Status sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig);
  Status sign_update(CK_SESSION_HANDLE h, ByteView data);
  Status sign_final(CK_SESSION_HANDLE h, OutBuf sig);
  Status verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key);
  Status verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig);
  Status verify_update(CK_SESSION_HANDLE h, ByteView data);
  Status verify_final(CK_SESSION_HANDLE h, ByteView sig);

  // --- ciphers and digests --------------------------------------------------------------
  Status cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key);
  Status cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out);
  Status cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out);
  Status cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out);
  Status digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m);
  Status digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out);
  Status digest_update(CK_SESSION_HANDLE h, ByteView data);
  Status digest_final(CK_SESSION_HANDLE h, OutBuf out);

  // --- operation state (hsm_state.cc): digests only -----------------------------------------
  Status get_operation_state(CK_SESSION_HANDLE h, OutBuf out);
  Status set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key);

  // --- message-based AEAD (hsm_message.cc) ----------------------------------------------
  // `param` is the caller's CK_GCM_MESSAGE_PARAMS / CK_CCM_MESSAGE_PARAMS /
  // CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS: a generated IV and the tag are written into it.
  Status message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key);
  Status message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad, ByteView in,
                 OutBuf out);
  Status message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad);
  Status message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in, OutBuf out,
                      CK_FLAGS flags);
  Status message_final(CipherDir d, CK_SESSION_HANDLE h);

  // --- key management ----------------------------------------------------------------
  Status wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                  OutBuf out);
  Result<CK_OBJECT_HANDLE> unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                      ByteView wrapped, const AttrMap& tmpl);
  Result<CK_OBJECT_HANDLE> derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                      const AttrMap& tmpl);
  Status digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key);
  // C_SignRecoverInit / C_VerifyRecoverInit and their single-part calls.
  Status recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key);
  Status recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out);

  // Ends an active operation (a call that failed on its arguments ends it too).
  void end_operation(CK_SESSION_HANDLE h, OpKind kind);

  // Wipes all unsealed key material (logout of every token). Called by C_Finalize.
  void wipe();

 private:
  explicit Hsm(Config cfg) : cfg_(std::move(cfg)) {}
  Status reload_tokens();  // picks up tokens another process created or deleted
  Result<SlotEvents::Tokens> token_ids();  // reloads, then each slot's token id
  bool mechanism_allowed(const Token* token, CK_MECHANISM_TYPE type) const;
  Result<const mech::Entry*> prepare_key_use(Session& s, const CK_MECHANISM& m, CK_OBJECT_HANDLE key,
                                                CK_ATTRIBUTE_TYPE usage, ObjectPtr& obj, mech::KeyPtr& k);
  // The key for a key-management call, with its usage attribute checked; handle
  // errors become `bad_handle` (CKR_WRAPPING_KEY_HANDLE_INVALID …).
  Result<ObjectPtr> key_for(Session& s, CK_OBJECT_HANDLE key, CK_ATTRIBUTE_TYPE usage, CK_RV bad_handle);
  Status check_writable(const Session& s, bool token_object) const;
  Status check_private_access(const Session& s, bool private_object) const;

  Config cfg_;
  std::unique_ptr<store::SqliteStore> store_;
  mutable std::shared_mutex tokens_mu_;
  std::map<CK_SLOT_ID, std::shared_ptr<Token>> tokens_;
  CK_SLOT_ID free_slot_ = 0;
  SessionTable sessions_;
  SlotEvents events_;
};

}  // namespace ferrohsm
