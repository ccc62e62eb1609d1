// The module under test, set up once per fuzzing process: a fresh store in a
// temporary directory (weak KDF so that setup is quick), one token with both PINs,
// a session logged in as the user that holds fixed keys (fixed_keys.h) as session
// objects, and the module's mechanism list. Every iteration works in a session of
// its own; end_iteration destroys what it created, closes it and checks that the
// token holds exactly the objects it held before, so memory and the store stay flat.
// The module is reached only through C_GetInterface's 3.0 function list, linked
// statically so that its code is instrumented like the harness.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <span>
#include <vector>

namespace ferrohsm::fuzz {

// The keys every harness can use; a seed names one by its number (append only).
enum KeyId : uint8_t {
  kAes128,
  kAes256,
  kGenericSecret,
  kDes3,
  kChaCha20,
  kRsaPublic,
  kRsaPrivate,
  kP256Public,
  kP256Private,
  kEd25519Public,
  kEd25519Private,
  kX25519Public,
  kX25519Private,
  kKeyCount,
  kInvalidHandle = kKeyCount,  // CK_INVALID_HANDLE
  kDestroyedHandle,            // the handle of an object destroyed during setup
  kKeyTags,
};

// A harness-level failure: prints what and why, then aborts (libFuzzer keeps the input).
[[noreturn]] void fail(const char* what, CK_RV rv);

class Module {
 public:
  static Module& get();

  CK_FUNCTION_LIST_3_0* const f;

  CK_SESSION_HANDLE open_session();
  // Destroys `created` (handles the iteration got back), closes `s`, checks the object count.
  void end_iteration(CK_SESSION_HANDLE s, const std::vector<CK_OBJECT_HANDLE>& created);

  CK_OBJECT_HANDLE key(uint8_t tag) const { return keys_[tag % kKeyTags]; }
  // `v` when the module lists it; otherwise the (v mod n)-th of the n listed mechanisms
  // that have one of `flags` (0: any).
  CK_MECHANISM_TYPE mechanism(uint64_t v, CK_FLAGS flags = 0) const;

 private:
  Module();
  void make_keys();
  CK_ULONG count_objects() const;

  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE base_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE keys_[kKeyTags] = {};
  std::vector<CK_MECHANISM_TYPE> mechs_;
  std::vector<CK_FLAGS> mech_flags_;
  CK_ULONG baseline_ = 0;
};

}  // namespace ferrohsm::fuzz
