// Digests: every hash of hash.h's table (SHA-1, SHA-2 incl. SHA-512/224 and
// SHA-512/256, SHA-3, MD5) over the shared, once-fetched EVP_MDs.
#include "core/mech/hash.h"
#include "core/mech/ossl.h"
#include "core/mech/registry.h"

namespace ferrohsm::mech {
namespace {

class MdDigestOp final : public DigestOp {
 public:
  MdDigestOp(const Hash& h, MdCtxPtr ctx) : h_(h), ctx_(std::move(ctx)) {}
  size_t digest_size() const override { return h_.size; }
  bool reusable() const override { return true; }
  // The same digest again: EVP_DigestInit_ex2 with the EVP_MD the context holds.
  Status rearm(const CK_MECHANISM& mech) override {
    FH_TRY(no_mech_param(mech));
    if (EVP_DigestInit_ex2(ctx_.get(), h_.md(), nullptr) != 1) return ossl_error(CKR_FUNCTION_FAILED, "digest init failed");
    return {};
  }
  Status update(ByteView data) override {
    if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) return ossl_error(CKR_FUNCTION_FAILED, "digest failed");
    return {};
  }
  Result<size_t> final(MutableByteView out) override {
    if (out.size() < h_.size) return make_error(CKR_BUFFER_TOO_SMALL, "digest output buffer too small");
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1) return ossl_error(CKR_FUNCTION_FAILED, "digest failed");
    return size_t{len};
  }
  Result<size_t> digest(ByteView data, MutableByteView out) override {
    FH_TRY(update(data));
    return final(out);
  }

 private:
  const Hash& h_;
  MdCtxPtr ctx_;
};

Result<std::unique_ptr<DigestOp>> make_digest(const CK_MECHANISM& mech) {
  const Hash* h = hash_by_mech(mech.mechanism);
  if (h == nullptr) return make_error(CKR_MECHANISM_INVALID, "not a digest mechanism");
  FH_TRY(no_mech_param(mech));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), h->md(), nullptr) != 1) return ossl_error(CKR_HOST_MEMORY, "digest init failed");
  return std::unique_ptr<DigestOp>(std::make_unique<MdDigestOp>(*h, std::move(ctx)));
}

}  // namespace

void register_digest(Registry& r) {
  for (const Hash& h : all_hashes()) {
    Entry e;
    e.type = h.mech;
    e.info = {0, 0, CKF_DIGEST};
    e.digest = make_digest;
    e.legacy = h.legacy;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
