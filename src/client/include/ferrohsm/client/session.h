// An open PKCS#11 session, closed when the object goes (RAII). Each call returns a
// Result whose error names the CKR_* code. A Session is used by one thread at a
// time (the slot server's worker lock guarantees that).
#pragma once

#include <ferrohsm/client/result.h>
#include "base/bytes.h"
#include "base/secret.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace ferrohsm::client {

class Module;
using ::ferrohsm::Bytes;  // base/bytes.h

// A mechanism and its parameter bytes (e.g. a CK_RSA_PKCS_PSS_PARAMS laid out in memory).
struct Mechanism {
  CK_MECHANISM_TYPE type = CKM_RSA_PKCS;
  Bytes parameter;
};

class Session {
 public:
  Session(std::shared_ptr<Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE handle);
  ~Session();
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  CK_SESSION_HANDLE handle() const { return handle_; }
  CK_SLOT_ID slot() const { return slot_; }
  Module& module() const { return *module_; }

  // CKR_USER_ALREADY_LOGGED_IN counts as success (login is per token, not per session).
  Status login(CK_USER_TYPE user, const Secret& pin);
  // CKR_USER_NOT_LOGGED_IN counts as success.
  Status logout();
  Result<CK_SESSION_INFO> info() const;
  // True when the token reports this session in a user (or SO) state.
  Result<bool> logged_in() const;

  Result<std::vector<CK_OBJECT_HANDLE>> find(std::span<const CK_ATTRIBUTE> templ, std::size_t max = 16);
  Result<Bytes> sign(const Mechanism& mechanism, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> data);
  // Ok(true) verified, Ok(false) CKR_SIGNATURE_INVALID / CKR_SIGNATURE_LEN_RANGE.
  Result<bool> verify(const Mechanism& mechanism, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> data,
                      std::span<const std::uint8_t> signature);
  Result<CK_OBJECT_HANDLE> create_object(std::span<CK_ATTRIBUTE> templ);
  Status destroy_object(CK_OBJECT_HANDLE object);
  Result<Bytes> attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> generate_key_pair(const Mechanism& mechanism,
                                                                          std::span<CK_ATTRIBUTE> pub,
                                                                          std::span<CK_ATTRIBUTE> priv);
  Status init_pin(const Secret& user_pin);

  // Closes now; the result of C_CloseSession (a dead session reports an error here).
  Status close();

 private:
  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

}  // namespace ferrohsm::client
