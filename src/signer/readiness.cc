#include "ferrohsm/signer/readiness.h"

#include <openssl/sha.h>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/rotation_service.h"

namespace ferrohsm::signer {

Status ReadinessProbe::check(const Context& ctx) {
  if (service_) FH_TRY(service_->state_status());
  GeneratedKey probe;
  {
    std::lock_guard lock(mu_);
    if (!probe_) {
      auto generated = provider_.generate(ctx, *Scope::parse("ferrohsm-readyz"), *KeyId::parse("probe"));
      if (!generated) return generated.error();
      probe_ = *generated;
    }
    probe = *probe_;
  }
  static constexpr char kText[] = "ferrohsm-signer readiness probe";
  Digest digest{};
  SHA512(reinterpret_cast<const unsigned char*>(kText), sizeof kText - 1, digest.data());
  auto sig = provider_.sign(ctx, probe.handle_id, digest);
  if (!sig) return sig.error();
  if (!ed25519::verify(probe.public_key, digest, *sig))
    return Error::unavailable("the provider's probe signature does not verify");
  return {};
}

}  // namespace ferrohsm::signer
