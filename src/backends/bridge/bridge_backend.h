// The bridge: a slot backend (core/backend.h) served by the tokens of another PKCS#11
// library — SoftHSMv2 in the tests, a vendor HSM in production — configured by a
// [[bridge]] in ferrohsm.toml. One BridgeBackend is one application's view of one
// [[bridge]]; what the process has once — the library (library.h) and the slots with
// their tokens, failures and recovery (bridge.h) — is shared by every application.
//
// Ids: the App gives bridge i the handles from base = App::kBridgeBase + i·kBridgeSpan.
// Its slots take the same numbers — bridged slot j is FerroHSM slot base + j: the one
// slot of the configured token (token, serial or uri), or with no selector the j-th slot
// of the library with a token at start — and keep them while their tokens come and go.
// Its sessions are base + 1, base + 2 … (never reused), each mapped to the library's own
// session. Object handles are the library's.
//
// Every call is forwarded with its arguments and answers with the library's return
// code; the App's own checks (visibility, the mechanism policy) and the PKCS#11 layer's
// argument checks come first. A session whose token was lost answers
// CKR_SESSION_HANDLE_INVALID; a slot without its token CKR_TOKEN_NOT_PRESENT.
#pragma once

#include "backends/bridge/bridge.h"
#include "core/backend.h"
#include "core/config.h"

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <type_traits>
#include <unordered_map>

namespace ferrohsm {
class Core;
}

namespace ferrohsm::bridge {

// A library call on the session `h` of the calling member function (BridgeBackend::call).
#define FH_BRIDGE(fn, ...) call(h, &CK_FUNCTION_LIST::fn, #fn __VA_OPT__(, ) __VA_ARGS__)
#define FH_BRIDGE3(fn, ...) call(h, &CK_FUNCTION_LIST_3_0::fn, #fn __VA_OPT__(, ) __VA_ARGS__)

class BridgeBackend final : public Backend {
 public:
  BridgeBackend(std::shared_ptr<Bridge> bridge, CK_SESSION_HANDLE base);
  ~BridgeBackend() override;

  // --- slots and tokens ---------------------------------------------------------------
  Result<std::vector<CK_SLOT_ID>> slots() override;
  bool token_present(CK_SLOT_ID slot) override;
  Result<CK_SLOT_INFO> slot_info(CK_SLOT_ID slot) override;
  Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot) override;
  std::optional<std::string> token_label(CK_SLOT_ID slot) override;
  Result<std::vector<MechanismCaps>> mechanisms(CK_SLOT_ID slot) override;
  Status init_token(CK_SLOT_ID slot, std::string_view so_pin, std::string_view label) override;

  // --- sessions and login --------------------------------------------------------------
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

  // --- objects ---------------------------------------------------------------------------
  Result<CK_OBJECT_HANDLE> create_object(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<CK_OBJECT_HANDLE> copy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Result<CK_ULONG> object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) override;
  Status get_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, std::span<CK_ATTRIBUTE> tmpl) override;
  Status set_attributes(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, const AttrMap& tmpl) override;
  Status find_init(CK_SESSION_HANDLE h, const AttrMap& tmpl) override;
  Result<std::vector<CK_OBJECT_HANDLE>> find_next(CK_SESSION_HANDLE h, CK_ULONG max) override;
  Status find_final(CK_SESSION_HANDLE h) override;

  // --- keys and random (bridge_crypto.cc from here on) -----------------------------------
  Result<CK_OBJECT_HANDLE> generate_key(CK_SESSION_HANDLE h, const CK_MECHANISM& m, const AttrMap& tmpl) override;
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM& m,
                                                                         const AttrMap& pub,
                                                                         const AttrMap& priv) override;
  Status generate_random(CK_SESSION_HANDLE h, MutableByteView out) override;
  Status seed_random(CK_SESSION_HANDLE h, ByteView seed) override;

  // --- signatures, ciphers, digests ------------------------------------------------------
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

  // --- 3.0 calls: CKR_FUNCTION_NOT_SUPPORTED when the library has a 2.40 table only -------
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
  // A session held open for one call.
  struct Lease {
    std::shared_ptr<BridgeSession> s;
    std::shared_lock<std::shared_mutex> hold;
    CK_SESSION_HANDLE under;
  };

  // The bridge's slot j behind a FerroHSM slot id, or CKR_SLOT_ID_INVALID.
  Result<size_t> index_of(CK_SLOT_ID slot) const;
  // The library's session behind a FerroHSM session handle, held for one call, or
  // CKR_SESSION_HANDLE_INVALID (never opened, closed, or ended with its token).
  Result<Lease> lease_of(CK_SESSION_HANDLE h) const;
  // After a call that failed: lets go of the session, then tells the bridge what the
  // code says about it or its token (Bridge::settle_session).
  void settle(Lease& lease, CK_RV rv) const;
  // Forgets sessions that ended with their token (mu_ held).
  void sweep_locked();
  // The 3.0 table, or CKR_FUNCTION_NOT_SUPPORTED for a library with a 2.40 table only.
  Result<CK_FUNCTION_LIST_3_0*> f3() const;
  // One call of the library's on its session behind h, held until the call returns; the
  // call's return code as a Status. Written FH_BRIDGE(C_Sign, ...), or FH_BRIDGE3(C_SignMessage,
  // ...) for a 3.0 function (CKR_FUNCTION_NOT_SUPPORTED for a library with a 2.40 table only).
  template <class List, class Fn, class... Args>
  Status call(CK_SESSION_HANDLE h, Fn List::*fn, const char* name, Args... args) const {
    FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
    CK_RV rv;
    if constexpr (std::is_same_v<List, CK_FUNCTION_LIST_3_0>) {
      FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
      rv = (f->*fn)(lease.under, args...);
    } else {
      rv = (f_->*fn)(lease.under, args...);
    }
    if (rv != CKR_OK) settle(lease, rv);
    return forward_rv(rv, name);
  }

  std::shared_ptr<Bridge> bridge_;
  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE base_;

  mutable std::shared_mutex mu_;
  std::unordered_map<CK_SESSION_HANDLE, std::shared_ptr<BridgeSession>> sessions_;
  CK_SESSION_HANDLE next_ = 1;  // the next session is base_ + next_
};

// What a composition root registers with Core::add_backend for one [[bridge]]: the
// first application opens the bridge (loads the library, pins the slots); every
// application gets its own BridgeBackend on it. A library that cannot be loaded is the
// maker's error (the App keeps the bridge's place empty).
std::function<Result<std::unique_ptr<Backend>>(CK_SESSION_HANDLE)> bridge_maker(BridgeConfig config);
// Registers every [[bridge]], in the configuration's order, with its mechanism list.
void add_bridges(Core& core, const std::vector<BridgeConfig>& bridges);

}  // namespace ferrohsm::bridge
