#include "core/mech/ossl.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>
#include <mutex>
#include <string>

namespace ferrohsm::mech {

Error ossl_error(CK_RV rv, std::string_view what) {
  std::string msg(what);
  unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    msg += " (OpenSSL: ";
    msg += reason != nullptr ? reason : "unknown error";
    msg += ")";
  }
  ERR_clear_error();
  return make_error(rv, std::move(msg));
}

void ossl_clear_errors() { ERR_clear_error(); }

namespace {

// A name of `keytype`'s EVP_KEYMGMT that OpenSSL's legacy name -> NID lookup does not
// know (see ossl.h), or `keytype` itself when the provider has none. Looked up once per type.
std::string provider_only_name(const char* keytype) {
  static std::mutex mu;
  static std::map<std::string, std::string, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(std::string_view(keytype)); it != cache.end()) return it->second;
  std::string found;
  if (EVP_KEYMGMT* km = EVP_KEYMGMT_fetch(nullptr, keytype, nullptr)) {
    EVP_KEYMGMT_names_do_all(
        km,
        [](const char* name, void* arg) {
          auto* out = static_cast<std::string*>(arg);
          std::string_view n(name);
          bool dotted = !n.empty() && n.find_first_not_of("0123456789.") == std::string_view::npos;
          if (out->empty() && dotted && OBJ_sn2nid(name) == NID_undef && OBJ_ln2nid(name) == NID_undef) *out = n;
        },
        &found);
    EVP_KEYMGMT_free(km);
  }
  ERR_clear_error();
  if (found.empty()) found = keytype;
  return cache.emplace(keytype, std::move(found)).first->second;
}

}  // namespace

PkeyCtxPtr provider_pkey_ctx(const char* keytype) {
  return PkeyCtxPtr(EVP_PKEY_CTX_new_from_name(nullptr, provider_only_name(keytype).c_str(), nullptr));
}

Result<PkeyPtr> generate_pkey(const char* keytype, const char* group) {
  // One prepared context per key type and group, per thread (a context is not shared
  // between threads; these live as long as the thread).
  struct Prepared {
    const char* keytype;
    const char* group;
    PkeyCtxPtr ctx;
  };
  thread_local std::vector<Prepared> prepared;
  auto same = [](const char* a, const char* b) { return a == b || (a && b && std::strcmp(a, b) == 0); };
  auto it = std::find_if(prepared.begin(), prepared.end(),
                         [&](const Prepared& p) { return same(p.keytype, keytype) && same(p.group, group); });
  if (it == prepared.end()) {
    PkeyCtxPtr ctx = provider_pkey_ctx(keytype);  // not an ENGINE's (ossl.h)
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        (group != nullptr && EVP_PKEY_CTX_set_group_name(ctx.get(), group) != 1))
      return ossl_error(CKR_FUNCTION_FAILED, "key generation failed");
    prepared.push_back({keytype, group, std::move(ctx)});
    it = prepared.end() - 1;
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(it->ctx.get(), &raw) != 1) {
    prepared.erase(it);  // not reused after a failure
    return ossl_error(CKR_FUNCTION_FAILED, "key generation failed");
  }
  return PkeyPtr(raw);
}

Result<PkeyPtr> pkey_from_params(const char* keytype, int selection, const OSSL_PARAM* params, CK_RV rv,
                                 std::string_view what) {
  PkeyCtxPtr ctx = provider_pkey_ctx(keytype);
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, const_cast<OSSL_PARAM*>(params)) != 1)
    return ossl_error(rv, what);
  return PkeyPtr(pkey);
}

Result<PkeyPtr> raw_pkey(const char* keytype, bool priv, ByteView raw, CK_RV rv, std::string_view what) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(priv ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<uint8_t*>(raw.data()), raw.size()),
      OSSL_PARAM_construct_end()};
  return pkey_from_params(keytype, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, rv, what);
}

SecureBytes bn_to_bytes(const BIGNUM* bn, size_t pad) {
  size_t n = static_cast<size_t>(BN_num_bytes(bn));
  SecureBytes out(pad > n ? pad : n);
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  return out;
}

BnPtr bn_from_bytes(ByteView b, bool secret) {
  BnPtr bn(secret ? BN_secure_new() : BN_new());
  if (bn && BN_bin2bn(b.data(), static_cast<int>(b.size()), bn.get()) == nullptr) bn.reset();
  return bn;
}

Result<BnPtr> pkey_bn_param(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
    return ossl_error(CKR_GENERAL_ERROR, std::string("cannot read key parameter ") + name);
  return BnPtr(bn);
}

}  // namespace ferrohsm::mech
