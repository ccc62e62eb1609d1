// A loaded PKCS#11 library. Module::load(path) dlopens it, takes its function list
// (C_GetInterface("PKCS 11") when the library exports it, else C_GetFunctionList) and
// calls C_Initialize once with CKF_OS_LOCKING_OK. Loads are shared process-wide by
// path: several slot servers hold the same Module, and the last one to let go
// finalizes it. A library that another part of the process already initialised
// (CKR_CRYPTOKI_ALREADY_INITIALIZED) is used as it is and not finalized by us. In a
// child of fork() the parent's loads are not shared: the library is initialised again,
// and one that still holds the parent's state (initialised by us there) is finalised and
// initialised afresh, as PKCS#11 asks of a child.
#pragma once

#include <ferrohsm/client/result.h>
#include "base/pkcs11_uri.h"
#include "base/secret.h"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferrohsm::client {

class Session;

class Module : public std::enable_shared_from_this<Module> {
 public:
  static Result<std::shared_ptr<Module>> load(const std::string& path);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& path() const { return path_; }
  bool via_interface() const { return via_interface_; }  // true when C_GetInterface was used
  CK_VERSION version() const { return version_; }         // the function list's version
  CK_FUNCTION_LIST* functions() const { return fn_; }
  void* dl_handle() const { return handle_; }

  Result<std::vector<CK_SLOT_ID>> slots(bool token_present) const;
  Result<CK_TOKEN_INFO> token_info(CK_SLOT_ID slot) const;
  // The slot whose token's label (blank-padded in CK_TOKEN_INFO) equals `label`.
  Result<CK_SLOT_ID> find_token(std::string_view label) const;
  // The first slot (in C_GetSlotList order) whose token the selector matches, with its
  // token's info; CKR_TOKEN_NOT_PRESENT when none does.
  Result<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> find_token(const TokenSelector& selector) const;
  Result<Session> open_session(CK_SLOT_ID slot, bool read_write);
  Status close_all_sessions(CK_SLOT_ID slot) const;
  // C_Finalize, then C_Initialize again: for a library that finds its tokens only at
  // C_Initialize (SoftHSMv2 reads its token directory then). Every session of the
  // library ends, so the caller makes sure none is open. Only the Module that
  // initialised the library does it: CKR_CRYPTOKI_ALREADY_INITIALIZED when another part
  // of the process did (the library is then used as it is).
  Status reinitialize();
  // Test and provisioning setup: C_InitToken, then SO login and C_InitPIN.
  Status init_token(CK_SLOT_ID slot, const Secret& so_pin, std::string_view label, const Secret& user_pin);

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool via_interface, CK_VERSION version);
  std::string path_;
  void* handle_ = nullptr;
  CK_FUNCTION_LIST* fn_ = nullptr;
  bool via_interface_ = false;
  CK_VERSION version_{};
  std::mutex init_mu_;           // reinitialize() against itself
  bool owns_initialize_ = false;  // we called the C_Initialize that succeeded
  bool initialized_ = true;       // false after a re-initialisation whose C_Initialize failed
};

// The label as CK_TOKEN_INFO stores it: 32 bytes, blank padded; and back.
std::string padded_label(std::string_view label);
std::string trim_label(const CK_UTF8CHAR* field, std::size_t size);

}  // namespace ferrohsm::client
