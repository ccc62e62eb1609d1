// One [[bridge]] as the process has it once, shared by every application's
// BridgeBackend: its library, its slots and where their tokens are now, and every
// session open on them. This is where failure and recovery live.
//
// Slot j is pinned to its token: by the configured selector (token label, serial or
// pkcs11: URI: one slot), or — with no selector — by the library's slot id of the j-th
// slot with a token at start. While the token is there, the slot is bound to the
// library's slot that holds it. The token is lost when a call answers a code the
// client's recovery ladder (client/recovery.h) sends to re-initialisation
// (CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT), or when a look at it
// (C_GetTokenInfo: at C_GetSlotInfo, C_GetTokenInfo, C_OpenSession, and after a call
// that answered CKR_GENERAL_ERROR) fails or finds another token there. Then every
// session on the slot, of every application, ends; the slot stays (same FerroHSM id)
// with no token. Slot-level calls look for the token again by its pin — at most once
// per retry delay (50 ms, doubling to 1 s) — and, when it is not found, re-initialise
// the library if nothing else is open on it (library.h); when it is found, the slot is
// bound again, wherever the library now has it. Nothing here touches another slot.
#pragma once

#include "backends/bridge/library.h"
#include "base/pkcs11_uri.h"
#include "core/config.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace ferrohsm::bridge {

// One application's session on a bridged slot. Calls hold `gate` shared for their whole
// call into the library; ending it holds `gate` exclusively, so a call racing the end
// finishes (or sees `closed`) before the library's handle is closed — and can never
// land on a session the library later opens under the same number for someone else.
struct BridgeSession {
  CK_SESSION_HANDLE under = CK_INVALID_HANDLE;  // the library's handle
  CK_SLOT_ID slot = 0;                          // FerroHSM's slot id
  size_t index = 0;                             // the bridge's slot j
  uint64_t generation = 0;                      // of the slot's token when it was opened
  std::shared_mutex gate;
  std::atomic<bool> closed{false};  // set with `gate` held exclusively
  std::mutex mech_mu;
  std::optional<CK_MECHANISM_TYPE> message_mech[2];  // of the active message-based operations, by CipherDir
};

class Bridge {
 public:
  // Where slot j's token is now: the library's slot, the slot's generation (moved on
  // at every loss) and the library's epoch it was found in.
  struct Binding {
    CK_SLOT_ID under = 0;
    uint64_t generation = 0;
    uint64_t epoch = 0;
  };

  // Loads the library (shared by path) and pins the slots. `base` is the FerroHSM id of
  // slot 0 (for messages). A configured token that is not there is no error: its slot
  // starts without it.
  static Result<std::shared_ptr<Bridge>> open(const BridgeConfig& config, CK_SLOT_ID base);

  Library& library() const { return *lib_; }
  size_t slot_count() const { return slots_.size(); }

  // Slot j's binding, looking for the token again first when it was lost and the retry
  // delay has passed; CKR_TOKEN_NOT_PRESENT when it is not there.
  Result<Binding> bind(size_t j);
  // f(binding) with slot j bound and the library held against re-initialisation
  // (Library::calls()); CKR_TOKEN_NOT_PRESENT without calling f when the token is gone.
  template <class F>
  auto with_token(size_t j, F&& f) -> decltype(f(std::declval<const Binding&>()));
  // The token behind `b` as the library describes it now (C_GetTokenInfo; the caller
  // holds calls()); when that fails or shows another token, the token is lost: the
  // library's code when the ladder names it, else CKR_TOKEN_NOT_PRESENT.
  Result<CK_TOKEN_INFO> look(size_t j, const Binding& b);
  // The token of generation `generation` is gone: slot j shows no token, every session
  // on it ends (its library session closed), and it is looked for at the next call.
  void lost(size_t j, uint64_t generation, const std::string& why);
  // What a failed slot-level call's code means: lost() for the ladder's
  // re-initialisation codes. Returns `rv`.
  CK_RV settle_slot(size_t j, const Binding& b, CK_RV rv, const char* function);

  // Registers a session opened on binding `b`; false when the token was lost meanwhile.
  bool adopt(size_t j, const Binding& b, const std::shared_ptr<BridgeSession>& s);
  // Ends a session once no call holds it, closing the library's session unless the
  // library already ended it. CKR_SESSION_HANDLE_INVALID when it had ended.
  CK_RV retire(BridgeSession& s, bool close_under = true);
  // What a failed session call's code says, after the call let go of the session: the
  // library ended the session (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED) → it
  // ends here too; a ladder re-initialisation code → the token is lost;
  // CKR_GENERAL_ERROR → look at the token.
  void settle_session(BridgeSession& s, CK_RV rv);

  // Slot info for a slot whose token is gone: the last the library gave (or FerroHSM's
  // own), without CKF_TOKEN_PRESENT.
  CK_SLOT_INFO absent_slot_info(size_t j);
  void seen_slot_info(size_t j, const CK_SLOT_INFO& info);
  // The label of slot j's token when last seen (the configured one before that).
  std::optional<std::string> last_label(size_t j);

 private:
  struct Pin {
    TokenSelector selector;                  // the configured one, or …
    std::optional<CK_SLOT_ID> library_slot;  // … the library's slot id (no selector)
    bool matches(CK_SLOT_ID id, const CK_TOKEN_INFO& info) const {
      return library_slot ? id == *library_slot : selector.matches(info);
    }
  };
  struct Slot {
    Pin pin;
    std::mutex mu;
    bool present = false;
    bool missing = false;  // lost (or never found): its return is logged
    Binding bound;
    std::chrono::steady_clock::time_point next_try{};  // when a lost token is looked for again
    std::chrono::milliseconds delay{0};
    std::optional<CK_SLOT_INFO> last_slot_info;
    std::optional<std::string> last_label;
    std::vector<std::weak_ptr<BridgeSession>> sessions;  // of every application
  };
  struct Found {
    CK_SLOT_ID slot;
    CK_TOKEN_INFO info;
    uint64_t epoch;
  };

  Bridge(std::shared_ptr<Library> lib, std::string name, CK_SLOT_ID base)
      : lib_(std::move(lib)), name_(std::move(name)), base_(base) {}
  // Slot j's token, searched for under calls().
  std::optional<Found> find(size_t j);
  std::string where(size_t j) const;

  std::shared_ptr<Library> lib_;
  std::string name_;  // "bridge <module> (token \"x\")", for messages
  CK_SLOT_ID base_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

template <class F>
auto Bridge::with_token(size_t j, F&& f) -> decltype(f(std::declval<const Binding&>())) {
  // Two tries: a re-initialisation between bind() and calls() moves the epoch on.
  for (int attempt = 0; attempt < 2; ++attempt) {
    FH_ASSIGN_OR_RETURN(Binding b, bind(j));
    auto held = lib_->calls();
    if (lib_->epoch() == b.epoch) return f(b);
  }
  return make_error(CKR_TOKEN_NOT_PRESENT, where(j) + ": the library was re-initialised meanwhile");
}

// The library's return code as a Status ("bridged C_Sign: CKR_PIN_INCORRECT").
Status forward_rv(CK_RV rv, const char* function);

}  // namespace ferrohsm::bridge
