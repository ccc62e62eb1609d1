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
};

// An EVP_MAC context, already keyed.
class EvpMacEngine final : public MacEngine {
 public:
  EvpMacEngine(MacCtxPtr ctx, size_t size) : ctx_(std::move(ctx)), size_(size) {}
  size_t full_size() const override { return size_; }
  Status update(ByteView data) override;
  Status final(uint8_t* out) override;

 private:
  MacCtxPtr ctx_;
  size_t size_;
};

std::unique_ptr<SignOp> make_mac_sign(std::unique_ptr<MacEngine> engine, size_t tag_len);
std::unique_ptr<VerifyOp> make_mac_verify(std::unique_ptr<MacEngine> engine, size_t tag_len);

// The tag length of a mechanism: `full` for the plain ones (no parameter), the
// CK_MAC_GENERAL_PARAMS value (1..full) for the _GENERAL ones.
Result<size_t> mac_length(const CK_MECHANISM& mech, bool general, size_t full);

}  // namespace ferrohsm::mech
