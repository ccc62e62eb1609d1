// HMAC signatures (CKM_SHA_1_HMAC … CKM_SHA512_HMAC, full-length tags) with
// CKK_GENERIC_SECRET keys or the matching CKK_SHAx_HMAC type. One EVP_MAC context
// per hash, with its digest set, is prepared once; each operation duplicates it and
// keys the copy, so no algorithm is fetched per operation. Verification compares in
// constant time.
#include "core/mech/hash.h"
#include "core/mech/ossl.h"
#include "core/mech/prehash.h"
#include "core/mech/registry.h"

#include <openssl/crypto.h>

#include <array>

namespace ferrohsm::mech {
namespace {

constexpr CK_ULONG kMinBytes = 1;
constexpr CK_ULONG kMaxBytes = 512;

struct HmacMech {
  CK_MECHANISM_TYPE type;
  CK_MECHANISM_TYPE hash;
  CK_KEY_TYPE key_type;  // the dedicated key type, besides CKK_GENERIC_SECRET
};

constexpr std::array<HmacMech, 5> kMechs = {{
    {CKM_SHA_1_HMAC, CKM_SHA_1, CKK_SHA_1_HMAC},
    {CKM_SHA224_HMAC, CKM_SHA224, CKK_SHA224_HMAC},
    {CKM_SHA256_HMAC, CKM_SHA256, CKK_SHA256_HMAC},
    {CKM_SHA384_HMAC, CKM_SHA384, CKK_SHA384_HMAC},
    {CKM_SHA512_HMAC, CKM_SHA512, CKK_SHA512_HMAC},
}};

// The unkeyed template context of each entry of kMechs (read-only once built).
struct Templates {
  std::array<EVP_MAC_CTX*, kMechs.size()> ctx{};
  Templates() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    for (size_t i = 0; mac != nullptr && i < kMechs.size(); ++i) {
      ctx[i] = EVP_MAC_CTX_new(mac);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(hash_by_mech(kMechs[i].hash)->name), 0),
          OSSL_PARAM_construct_end()};
      if (ctx[i] != nullptr && EVP_MAC_CTX_set_params(ctx[i], params) != 1) {
        EVP_MAC_CTX_free(ctx[i]);
        ctx[i] = nullptr;
      }
    }
    EVP_MAC_free(mac);
  }
  ~Templates() {
    for (EVP_MAC_CTX* c : ctx) EVP_MAC_CTX_free(c);
  }
};

struct HmacSetup {
  size_t index = 0;
  size_t size = 0;
};

Result<HmacSetup> setup(const CK_MECHANISM& mech, const KeyPtr& key) {
  HmacSetup s;
  for (; s.index < kMechs.size() && kMechs[s.index].type != mech.mechanism; ++s.index) {
  }
  if (s.index == kMechs.size()) return make_error(CKR_MECHANISM_INVALID, "not an HMAC mechanism");
  FH_TRY(no_mech_param(mech));
  if (!key || key->cls != CKO_SECRET_KEY ||
      (key->key_type != CKK_GENERIC_SECRET && key->key_type != kMechs[s.index].key_type))
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "HMAC needs a generic secret (or matching HMAC) key");
  if (key->secret.empty()) return make_error(CKR_KEY_SIZE_RANGE, "HMAC key is empty");
  s.size = hash_by_mech(kMechs[s.index].hash)->size;
  return s;
}

Result<MacCtxPtr> keyed_ctx(const HmacSetup& s, const Key& key) {
  static const Templates templates;
  const EVP_MAC_CTX* tmpl = templates.ctx[s.index];
  MacCtxPtr ctx(tmpl != nullptr ? EVP_MAC_CTX_dup(tmpl) : nullptr);
  if (!ctx || EVP_MAC_init(ctx.get(), key.secret.data(), key.secret.size(), nullptr) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "HMAC init failed");
  return ctx;
}

// The MAC computation shared by signing and verification.
class Mac {
 public:
  Mac(MacCtxPtr ctx, size_t size) : ctx_(std::move(ctx)), size_(size) {}
  size_t size() const { return size_; }
  Status update(ByteView data) {
    if (EVP_MAC_update(ctx_.get(), data.data(), data.size()) != 1) return ossl_error(CKR_FUNCTION_FAILED, "HMAC failed");
    return {};
  }
  Result<size_t> final(uint8_t* out, size_t cap) {
    size_t len = 0;
    if (EVP_MAC_final(ctx_.get(), out, &len, cap) != 1) return ossl_error(CKR_FUNCTION_FAILED, "HMAC failed");
    return len;
  }

 private:
  MacCtxPtr ctx_;
  size_t size_;
};

class HmacSignOp final : public SignOp {
 public:
  explicit HmacSignOp(Mac mac) : mac_(std::move(mac)) {}
  size_t signature_size() const override { return mac_.size(); }
  Status update(ByteView data) override { return mac_.update(data); }
  Result<size_t> final(MutableByteView out) override { return mac_.final(out.data(), out.size()); }
  Result<size_t> sign(ByteView data, MutableByteView out) override {
    FH_TRY(mac_.update(data));
    return mac_.final(out.data(), out.size());
  }

 private:
  Mac mac_;
};

class HmacVerifyOp final : public VerifyOp {
 public:
  explicit HmacVerifyOp(Mac mac) : mac_(std::move(mac)) {}
  size_t signature_size() const override { return mac_.size(); }
  Status update(ByteView data) override { return mac_.update(data); }
  Status final(ByteView sig) override {
    if (sig.size() != mac_.size()) return make_error(CKR_SIGNATURE_LEN_RANGE, "HMAC signature has the wrong length");
    uint8_t tag[EVP_MAX_MD_SIZE];
    FH_ASSIGN_OR_RETURN(size_t len, mac_.final(tag, sizeof tag));
    const bool ok = len == sig.size() && CRYPTO_memcmp(tag, sig.data(), len) == 0;
    OPENSSL_cleanse(tag, sizeof tag);
    if (!ok) return make_error(CKR_SIGNATURE_INVALID, "HMAC signature does not verify");
    return {};
  }
  Status verify(ByteView data, ByteView sig) override {
    if (sig.size() != mac_.size()) return make_error(CKR_SIGNATURE_LEN_RANGE, "HMAC signature has the wrong length");
    FH_TRY(mac_.update(data));
    return final(sig);
  }

 private:
  Mac mac_;
};

Result<std::unique_ptr<SignOp>> make_sign(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(HmacSetup s, setup(mech, key));
  FH_ASSIGN_OR_RETURN(MacCtxPtr ctx, keyed_ctx(s, *key));
  return std::unique_ptr<SignOp>(std::make_unique<HmacSignOp>(Mac(std::move(ctx), s.size)));
}

Result<std::unique_ptr<VerifyOp>> make_verify(const CK_MECHANISM& mech, KeyPtr key) {
  FH_ASSIGN_OR_RETURN(HmacSetup s, setup(mech, key));
  FH_ASSIGN_OR_RETURN(MacCtxPtr ctx, keyed_ctx(s, *key));
  return std::unique_ptr<VerifyOp>(std::make_unique<HmacVerifyOp>(Mac(std::move(ctx), s.size)));
}

}  // namespace

void register_hmac(Registry& r) {
  for (const HmacMech& m : kMechs) {
    Entry e;
    e.type = m.type;
    e.info = {kMinBytes, kMaxBytes, CKF_SIGN | CKF_VERIFY};
    e.key_types = {CKK_GENERIC_SECRET, m.key_type};
    e.sign = make_sign;
    e.verify = make_verify;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
