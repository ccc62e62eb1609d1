// One PKCS#11 library under the bridges: a client::Module (loaded and initialised once
// per process) shared by every [[bridge]] naming the same path, in every application,
// and what re-initialising it takes.
//
// Some libraries find their tokens only at C_Initialize (SoftHSMv2 reads its token
// directory then): a token re-created after a failure is seen only after C_Finalize and
// C_Initialize. That ends every session of the library, on every slot, so the bridge
// re-initialises it only while no bridged session is open on any of its slots (and only
// when this process initialised it): bringing one token back never ends another slot's
// sessions. Slot-level calls and session openings hold calls() so that they never run
// into a C_Finalize.
#pragma once

#include "base/result.h"

#include <ferrohsm/client/module.h>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>

namespace ferrohsm::bridge {

class Library {
 public:
  // The library at `path`, loaded and initialised by the first caller, shared by path.
  static Result<std::shared_ptr<Library>> load(const std::string& path);

  const std::string& path() const { return module_->path(); }
  client::Module& module() const { return *module_; }
  CK_FUNCTION_LIST* functions() const { return module_->functions(); }
  CK_VERSION version() const { return module_->version(); }

  // Held around slot-level calls and session openings: no re-initialisation meanwhile.
  std::shared_lock<std::shared_mutex> calls() const { return std::shared_lock(mu_); }
  // How many times the library was re-initialised: slot ids and session handles
  // learnt in an older epoch are void.
  uint64_t epoch() const { return epoch_.load(); }

  // Bridged sessions open on the library, in this process: counted while calls() is
  // held (opened) or after the library's C_CloseSession returned (closed).
  void session_opened() { ++sessions_; }
  void session_closed() { --sessions_; }

  // C_Finalize and C_Initialize, if no bridged session is open and this process
  // initialised the library; true if it did (the epoch moved on, even when the
  // C_Initialize failed: the next try initialises it again).
  bool reinitialize_if_idle();

 private:
  explicit Library(std::shared_ptr<client::Module> module) : module_(std::move(module)) {}

  std::shared_ptr<client::Module> module_;
  mutable std::shared_mutex mu_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<long> sessions_{0};
};

}  // namespace ferrohsm::bridge
