// One PKCS#11 application: what C_Initialize starts in the embedded library, and what
// one connection is in ferrohsm-server. It owns the application's instance of each slot
// backend (the software keystore and any bridges), routes every call to the backend of
// its slot or session, and applies what is the same for all of them: which slots this
// application may see (a server's access rules), who may initialise tokens, the
// mechanism policy — per bridge and per token — (also filtering C_GetMechanismList and
// C_GetMechanismInfo), and a session limit.
//
// Session handles tell their backend by range: the keystore's lie below kBridgeBase,
// bridge i's in the 2^24 handles from kBridgeBase + i·2^24 — routing is arithmetic, no
// lookup on the hot path.
#pragma once

#include "core/app_audit.h"
#include "core/backend.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ferrohsm {

class Core;
class Hsm;
class PolicyGate;

struct AppOptions {
  std::string identity = "embedded";  // who this application is, for logs, audit and [[policy]] rules
  bool admin = true;                  // may initialise and delete tokens
  // Whether a token with this label is visible (a server's access rules); unset: all are.
  std::function<bool(const std::string& label)> sees_token;
  uint64_t max_sessions = 0;  // 0: no limit
  bool audited = true;        // records its calls when [audit] is on (not the audit key's own App)
  bool in_process = false;    // the caller is this process (the embedded library, the CLI): audit adds its pid and exe
};

class App final : public Backend {
 public:
  static constexpr CK_SESSION_HANDLE kBridgeBase = 0x40000000;
  static constexpr CK_SESSION_HANDLE kBridgeSpan = 0x01000000;

  App(Core& core, AppOptions options, std::unique_ptr<Hsm> keystore, std::vector<std::unique_ptr<Backend>> bridges);
  ~App() override;

  const AppOptions& options() const { return options_; }
  Hsm& keystore() { return *keystore_; }
  // Ends every session and login (a closed connection, C_Finalize).
  void close() { wipe(); }
  // A keystore token deleted (the CLI's `token delete`; no PKCS#11 function does this).
  Status delete_token(CK_SLOT_ID slot);
  std::vector<std::string> logged_in_tokens();
  // C_WaitForSlotEvent on the keystore's slots (tokens created or deleted, by anyone
  // on the store); shutdown() wakes a waiting thread (C_Finalize).
  Result<std::optional<CK_SLOT_ID>> slot_event(bool block);
  void shutdown();

  // --- Backend ---------------------------------------------------------------------------
  Result<std::vector<CK_SLOT_ID>> slots() override;  // every slot this application may see
  // C_GetSlotList: the slots, or only those with a token present.
  Result<std::vector<CK_SLOT_ID>> slot_list(bool token_present);
  Result<CK_SLOT_INFO> slot_info(CK_SLOT_ID slot) override;
  Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot) override;
  std::optional<std::string> token_label(CK_SLOT_ID slot) override;
  Result<std::vector<MechanismCaps>> mechanisms(CK_SLOT_ID slot) override;
  Result<std::vector<CK_MECHANISM_TYPE>> mechanism_list(CK_SLOT_ID slot);
  Result<CK_MECHANISM_INFO> mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type);
  Status init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) override;

  Result<CK_SESSION_HANDLE> open_session(CK_SLOT_ID slot, CK_FLAGS flags) override;
  Status close_session(CK_SESSION_HANDLE h) override;
  Status close_all_sessions(CK_SLOT_ID slot) override;
  Result<CK_SESSION_INFO> session_info(CK_SESSION_HANDLE h) override;
  Result<CK_SLOT_ID> session_slot(CK_SESSION_HANDLE h) override;
  size_t session_count() override;
  Status login(CK_SESSION_HANDLE h, CK_USER_TYPE user, std::string_view pin) override;
  Status logout(CK_SESSION_HANDLE h) override;
  Status init_pin(CK_SESSION_HANDLE h, std::string_view pin) override;
  Status set_pin(CK_SESSION_HANDLE h, std::string_view old_pin, std::string_view new_pin) override;

  Result<CK_OBJECT_HANDLE> create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<CK_OBJECT_HANDLE> copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Result<CK_ULONG> object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Status get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) override;
  Status set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<std::vector<CK_OBJECT_HANDLE>> find_next(CK_SESSION_HANDLE h, CK_ULONG max) override;
  Status find_final(CK_SESSION_HANDLE h) override;

  Result<CK_OBJECT_HANDLE> generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) override;
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                                         const AttrMap& pub,
                                                                         const AttrMap& priv) override;
  Status generate_random(CK_SESSION_HANDLE h, MutableByteView out) override;
  Status seed_random(CK_SESSION_HANDLE h, ByteView seed) override;

  Status sign_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status sign(CK_SESSION_HANDLE h, ByteView data, OutBuf sig) override;
  Status sign_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status sign_final(CK_SESSION_HANDLE h, OutBuf sig) override;
  Status verify_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status verify(CK_SESSION_HANDLE h, ByteView data, ByteView sig) override;
  Status verify_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status verify_final(CK_SESSION_HANDLE h, ByteView sig) override;
  Status cipher_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status cipher(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;
  Status cipher_update(CipherDir d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;
  Status cipher_final(CipherDir d, CK_SESSION_HANDLE h, OutBuf out) override;
  Status digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM& m) override;
  Status digest(CK_SESSION_HANDLE h, ByteView data, OutBuf out) override;
  Status digest_update(CK_SESSION_HANDLE h, ByteView data) override;
  Status digest_final(CK_SESSION_HANDLE h, OutBuf out) override;
  Status digest_key(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) override;
  Status recover_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status recover(OpKind kind, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;

  Status dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) override;

  Status get_operation_state(CK_SESSION_HANDLE h, OutBuf out) override;
  Status set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key,
                             CK_OBJECT_HANDLE auth_key) override;

  Status message_init(CipherDir d, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status message(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad, ByteView in,
                 OutBuf out) override;
  Status message_begin(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView aad) override;
  Status message_next(CipherDir d, CK_SESSION_HANDLE h, void* param, CK_ULONG param_len, ByteView in, OutBuf out,
                      CK_FLAGS flags) override;
  Status message_final(CipherDir d, CK_SESSION_HANDLE h) override;
  std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, CipherDir d) override;

  Status message_sig_init(OpKind kind, CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE key) override;
  Status sign_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data, OutBuf sig) override;
  Status verify_message(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                        ByteView sig) override;
  Status message_sig_begin(OpKind kind, CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len) override;
  Status sign_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                           const OutBuf* sig) override;
  Status verify_message_next(CK_SESSION_HANDLE h, const void* param, CK_ULONG param_len, ByteView data,
                             const ByteView* sig) override;
  Status message_sig_final(OpKind kind, CK_SESSION_HANDLE h) override;

  Status wrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                  OutBuf out) override;
  Result<CK_OBJECT_HANDLE> unwrap_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE unwrapping,
                                      ByteView wrapped, const AttrMap& tmpl) override;
  Result<CK_OBJECT_HANDLE> derive_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, CK_OBJECT_HANDLE base,
                                      const AttrMap& tmpl) override;

  void end_operation(CK_SESSION_HANDLE h, OpKind kind) override;
  void wipe() override;

 private:
  Backend& of_session(CK_SESSION_HANDLE h);
  // The backend serving a slot this application may see, or CKR_SLOT_ID_INVALID.
  Result<Backend*> of_slot(CK_SLOT_ID slot);
  bool visible(Backend& b, CK_SLOT_ID slot);
  // The mechanism policy: the bridge's own list ([[bridge]] mechanisms), then the
  // per-token one of the configuration ([token."label"]).
  bool mechanism_allowed(Backend& b, CK_SLOT_ID slot, CK_MECHANISM_TYPE type);
  // CKR_MECHANISM_INVALID when the session's token does not allow `m`.
  Status check_mechanism(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE m);

  // Runs `act`, recorded in the audit trail when it is on (core/app_audit.h).
  template <typename R = Status, typename F>
  R audited(AuditKind kind, const AuditCall& call, F&& act);

  Core& core_;
  AppOptions options_;
  std::unique_ptr<Hsm> keystore_;
  // Bridge i at place i; nullptr where its maker failed (no slots, its range unused).
  std::vector<std::unique_ptr<Backend>> bridges_;
  const bool has_policy_;  // any per-token or per-bridge mechanism policy
  std::unique_ptr<PolicyGate> policy_;  // the [[policy]] rules (core/policy_gate.h)
  std::unique_ptr<AppAudit> audit_;  // null: audit off
};

}  // namespace ferrohsm
