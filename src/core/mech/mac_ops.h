// MAC signatures shared by HMAC, CMAC and CBC-MAC: a MacEngine computes the full
// tag; the sign / verify operations truncate it to the mechanism's length (the
// _GENERAL variants, CK_MAC_GENERAL_PARAMS) and verify in constant time.
#pragma once

#include "core/mech/key.h"
#include "core/mech/operation.h"
#include "core/mech/ossl.h"

namespace ferrohsm::mech {

class MacEngine {
 public:
  virtual ~MacEngine() = default;
  virtual size_t full_size() const = 0;
  virtual Status update(ByteView data) = 0;
  // Writes full_size() bytes into `out` (at least EVP_MAX_MD_SIZE long).
  virtual Status final(uint8_t* out) = 0;
  // Starts a new MAC with the same key (operation.h: re-arming).
  virtual Status restart() { return make_error(CKR_GENERAL_ERROR, "this MAC cannot be restarted"); }
};

// An EVP_MAC context, already keyed.
class EvpMacEngine final : public MacEngine {
 public:
  EvpMacEngine(MacCtxPtr ctx, size_t size) : ctx_(std::move(ctx)), size_(size) {}
  size_t full_size() const override { return size_; }
  Status update(ByteView data) override;
  Status final(uint8_t* out) override;
  Status restart() override;  // EVP_MAC_init without a key: the key stays, the state resets

 private:
  MacCtxPtr ctx_;
  size_t size_;
};

// How a finished MAC operation may be re-armed (operation.h): only when `reusable`
// (the engine restarts), its tag length then read again from the mechanism by
// mac_length(…, general, full_size()).
struct MacRearm {
  bool reusable = false;
  bool general = false;
};

std::unique_ptr<SignOp> make_mac_sign(std::unique_ptr<MacEngine> engine, size_t tag_len, MacRearm rearm = {});
std::unique_ptr<VerifyOp> make_mac_verify(std::unique_ptr<MacEngine> engine, size_t tag_len, MacRearm rearm = {});

// The tag length of a mechanism: `full` for the plain ones (no parameter), the
// CK_MAC_GENERAL_PARAMS value (1..full) for the _GENERAL ones.
Result<size_t> mac_length(const CK_MECHANISM& mech, bool general, size_t full);

}  // namespace ferrohsm::mech
