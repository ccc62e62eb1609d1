// The bridge: a slot backend (core/backend.h) served by the tokens of another PKCS#11
// library — SoftHSMv2 in the tests, a vendor HSM in production — configured by a
// [[bridge]] in ferrohsm.toml. One BridgeBackend is one application's view of one
// [[bridge]]; the library itself is loaded and initialised once per process
// (client::Module, shared by path).
//
// Ids: the App gives bridge i the handles from base = App::kBridgeBase + i·kBridgeSpan.
// Its slots take the same numbers — the j-th bridged slot is FerroHSM slot base + j, in
// the order of the library's C_GetSlotList(token present), or the one slot whose token
// has the configured label — and its sessions are base + 1, base + 2 … (never reused),
// each mapped to the library's own session. Object handles are the library's.
//
// Every call is forwarded with its arguments and answers with the library's return
// code; the App's own checks (visibility, the per-token mechanism policy) and the
// PKCS#11 layer's argument checks come first.
#pragma once

#include "core/backend.h"
#include "core/config.h"

#include <ferrohsm/client/module.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <type_traits>
#include <unordered_map>

namespace ferrohsm::bridge {

// The library's return code as a Status ("C_Sign: CKR_PIN_INCORRECT").
Status forward_rv(CK_RV rv, const char* function);

// A library call on the session `h` of the calling member function (BridgeBackend::call).
#define FH_BRIDGE(fn, ...) call(h, &CK_FUNCTION_LIST::fn, #fn __VA_OPT__(, ) __VA_ARGS__)
#define FH_BRIDGE3(fn, ...) call(h, &CK_FUNCTION_LIST_3_0::fn, #fn __VA_OPT__(, ) __VA_ARGS__)

class BridgeBackend final : public Backend {
 public:
  // Loads the library (once per process) and picks its slots. A library that cannot be
  // loaded, or a configured token that is not there, is an error; the caller logs it.
  static Result<std::unique_ptr<BridgeBackend>> open(const BridgeConfig& config, CK_SESSION_HANDLE base);
  ~BridgeBackend() override;

  // --- slots and tokens ---------------------------------------------------------------
  Result<std::vector<CK_SLOT_ID>> slots() override;
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
  // One session of this application. Calls hold `gate` shared for their whole call into
  // the library; closing holds it exclusively, so a call racing C_CloseSession finishes
  // (or sees `closed`) before the library's handle is closed — and can never land on a
  // session the library later opens under the same number for another application.
  struct Sess {
    CK_SESSION_HANDLE under = CK_INVALID_HANDLE;  // the library's handle
    CK_SLOT_ID slot = 0;                          // FerroHSM's slot id
    std::shared_mutex gate;
    bool closed = false;  // written with `gate` held exclusively
    std::mutex mech_mu;
    std::optional<CK_MECHANISM_TYPE> message_mech[2];  // of the active message-based operations, by CipherDir
  };
  // A session held open for one call.
  struct Lease {
    std::shared_ptr<Sess> s;
    std::shared_lock<std::shared_mutex> hold;
    CK_SESSION_HANDLE under;
  };

  BridgeBackend(std::shared_ptr<client::Module> module, CK_SESSION_HANDLE base, std::vector<CK_SLOT_ID> under_slots);

  // The library's slot behind a FerroHSM slot id, or CKR_SLOT_ID_INVALID.
  Result<CK_SLOT_ID> under_slot(CK_SLOT_ID slot) const;
  // The library's session behind a FerroHSM session handle, held for one call, or
  // CKR_SESSION_HANDLE_INVALID.
  Result<Lease> lease_of(CK_SESSION_HANDLE h) const;
  // Closes the library's session once no call holds it.
  CK_RV retire(const std::shared_ptr<Sess>& s);
  // The 3.0 table, or CKR_FUNCTION_NOT_SUPPORTED for a library with a 2.40 table only.
  Result<CK_FUNCTION_LIST_3_0*> f3() const;
  // One call of the library's on its session behind h, held until the call returns; the
  // call's return code as a Status. Written FH_BRIDGE(C_Sign, ...), or FH_BRIDGE3(C_SignMessage,
  // ...) for a 3.0 function (CKR_FUNCTION_NOT_SUPPORTED for a library with a 2.40 table only).
  template <class List, class Fn, class... Args>
  Status call(CK_SESSION_HANDLE h, Fn List::*fn, const char* name, Args... args) const {
    FH_ASSIGN_OR_RETURN(Lease lease, lease_of(h));
    if constexpr (std::is_same_v<List, CK_FUNCTION_LIST_3_0>) {
      FH_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_3_0 * f, f3());
      return forward_rv((f->*fn)(lease.under, args...), name);
    } else {
      return forward_rv((f_->*fn)(lease.under, args...), name);
    }
  }

  std::shared_ptr<client::Module> module_;
  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE base_;
  std::vector<CK_SLOT_ID> under_slots_;  // FerroHSM slot base_ + j is the library's under_slots_[j]

  mutable std::shared_mutex mu_;
  std::unordered_map<CK_SESSION_HANDLE, std::shared_ptr<Sess>> sessions_;
  CK_SESSION_HANDLE next_ = 1;  // the next session is base_ + next_
};

// What a composition root registers with Core::add_backend for one [[bridge]].
std::function<Result<std::unique_ptr<Backend>>(CK_SESSION_HANDLE)> bridge_maker(BridgeConfig config);

}  // namespace ferrohsm::bridge
