#include "core/object_mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace ferrohsm {
namespace {

constexpr char kMacKeyInfo[] = "ferrohsm/object-mac-key/v1";
constexpr char kMacDomain[] = "ferrohsm/object-mac/v1";

void put_u64(Bytes& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_bytes(Bytes& out, ByteView b) {
  put_u64(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

// The canonical encoding: every field length-prefixed, attributes in type order, so
// that no two different rows encode alike.
Bytes canonical(const std::string& serial, int64_t object_id, const store::ObjectMeta& m,
                const std::vector<store::StoredAttr>& attrs) {
  Bytes out(kMacDomain, kMacDomain + sizeof kMacDomain);  // with its NUL
  put_bytes(out, ByteView(reinterpret_cast<const uint8_t*>(serial.data()), serial.size()));
  put_u64(out, static_cast<uint64_t>(object_id));
  put_u64(out, m.cls);
  put_u64(out, m.key_type);
  put_bytes(out, m.label);
  put_bytes(out, m.ckid);
  out.push_back(m.is_private ? 1 : 0);
  std::vector<const store::StoredAttr*> sorted;
  sorted.reserve(attrs.size());
  for (const store::StoredAttr& a : attrs) sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->type < b->type; });
  put_u64(out, sorted.size());
  for (const store::StoredAttr* a : sorted) {
    put_u64(out, a->type);
    out.push_back(a->sealed ? 1 : 0);
    put_bytes(out, a->value);
  }
  return out;
}

const store::StoredAttr* find_attr(const std::vector<store::StoredAttr>& attrs, CK_ATTRIBUTE_TYPE t) {
  for (const store::StoredAttr& a : attrs)
    if (a.type == t) return &a;
  return nullptr;
}

bool stored_true(const std::vector<store::StoredAttr>& attrs, CK_ATTRIBUTE_TYPE t) {
  const store::StoredAttr* a = find_attr(attrs, t);
  return a != nullptr && std::any_of(a->value.begin(), a->value.end(), [](uint8_t b) { return b != 0; });
}

bool is_key_class(CK_ULONG cls) { return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY; }

}  // namespace

Result<SecureBytes> derive_object_mac_key(ByteView token_key) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free);
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr,
                                                                EVP_KDF_CTX_free);
  SecureBytes out(kObjectMacBytes);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(token_key.data()),
                                        token_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kMacKeyInfo),
                                        sizeof kMacKeyInfo - 1),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return make_error(CKR_FUNCTION_FAILED, "object MAC: HKDF failed");
  return out;
}

Result<Bytes> object_mac(ByteView mac_key, const std::string& serial, int64_t object_id,
                         const store::ObjectMeta& meta, const std::vector<store::StoredAttr>& attrs) {
  Bytes data = canonical(serial, object_id, meta, attrs);
  Bytes out(kObjectMacBytes);
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, mac_key.data(), mac_key.size(), data.data(),
                data.size(), out.data(), out.size(), &len) == nullptr ||
      len != out.size())
    return make_error(CKR_FUNCTION_FAILED, "object MAC: HMAC failed");
  return out;
}

bool object_mac_matches(ByteView mac_key, const std::string& serial, const store::ObjectRow& row) {
  if (row.mac.size() != kObjectMacBytes) return false;
  auto want = object_mac(mac_key, serial, row.id, row.meta, row.attrs);
  return want.ok() && CRYPTO_memcmp(want->data(), row.mac.data(), kObjectMacBytes) == 0;
}

bool may_lack_mac(const store::ObjectMeta& meta, const std::vector<store::StoredAttr>& attrs) {
  if (meta.is_private || is_key_class(meta.cls)) return false;
  if (const store::StoredAttr* c = find_attr(attrs, CKA_CLASS)) {
    CK_ULONG cls = 0;
    if (c->value.size() != sizeof cls) return false;
    std::memcpy(&cls, c->value.data(), sizeof cls);
    if (is_key_class(cls)) return false;
  }
  for (const store::StoredAttr& a : attrs)
    if (a.sealed) return false;
  return !stored_true(attrs, CKA_PRIVATE) && !stored_true(attrs, CKA_TRUSTED);
}

}  // namespace ferrohsm
