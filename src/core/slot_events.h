// Slot events for C_WaitForSlotEvent: a slot whose token appeared or went away since
// it was last reported. The Hsm hands in each slot's token as the store lists it, so a
// token created or deleted by another process sharing the store is an event too. Each
// change is reported once, to one caller; shutdown() (C_Finalize) wakes every waiter.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace ferrohsm {

class SlotEvents {
 public:
  using Tokens = std::map<CK_SLOT_ID, int64_t>;  // slot → the id of the token in it

  // What the caller has seen already (at C_Initialize: every token then present).
  void baseline(Tokens now);
  // The lowest slot whose token differs from the last report, marked reported; or nullopt.
  std::optional<CK_SLOT_ID> take(const Tokens& now);
  // Sleeps at most `d`; false (at once) after shutdown().
  bool sleep(std::chrono::milliseconds d);
  bool shut_down();
  void shutdown();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;
  Tokens reported_;
};

}  // namespace ferrohsm
