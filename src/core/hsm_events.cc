// Hsm: slot events (C_WaitForSlotEvent) and the shutdown that C_Finalize starts.
#include "core/hsm.h"

#include <mutex>

namespace ferrohsm {
namespace {

// How often a blocked C_WaitForSlotEvent looks at the store (tokens are created and
// deleted by people, so a tenth of a second or so is prompt enough, and cheap).
constexpr std::chrono::milliseconds kPollInterval{150};

}  // namespace

Result<SlotEvents::Tokens> Hsm::token_ids() {
  FH_TRY(reload_tokens());
  std::shared_lock lock(tokens_mu_);
  SlotEvents::Tokens out;
  for (const auto& [slot, t] : tokens_) out.emplace(slot, t->id());
  return out;
}

Result<std::optional<CK_SLOT_ID>> Hsm::slot_event(bool block) {
  for (;;) {
    if (events_.shut_down()) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "C_Finalize was called");
    FH_ASSIGN_OR_RETURN(SlotEvents::Tokens now, token_ids());
    if (std::optional<CK_SLOT_ID> slot = events_.take(now)) return slot;
    if (!block) return std::optional<CK_SLOT_ID>();
    if (!events_.sleep(kPollInterval)) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "C_Finalize was called");
  }
}

void Hsm::shutdown() { events_.shutdown(); }

}  // namespace ferrohsm
