#include "core/mech/wrap_padding.h"

#include "core/mech/key.h"
#include "core/mech/ossl.h"

#include <openssl/asn1.h>

#include <algorithm>

namespace ferrohsm::mech {
namespace {

bool zeros(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

}  // namespace

SecureBytes zero_pad(ByteView key, size_t block) {
  SecureBytes out(key.begin(), key.end());
  out.resize((key.size() + block - 1) / block * block, 0);
  return out;
}

Result<ByteView> unpad_secret(ByteView unwrapped, size_t block, CK_KEY_TYPE type, CK_ULONG value_len) {
  const size_t n = unwrapped.size();
  size_t want = value_len != 0 ? value_len : secret_key_fixed_length(type);
  if (want == 0) want = n;
  if (want > n || n - want >= block)
    return make_error(CKR_WRAPPED_KEY_LEN_RANGE, "the wrapped key's length does not fit the key to unwrap");
  if (!zeros(unwrapped.subspan(want)))
    return make_error(CKR_WRAPPED_KEY_INVALID, "the bytes after the key are not zero padding");
  return unwrapped.first(want);
}

Result<ByteView> unpad_der(ByteView unwrapped, size_t block) {
  const unsigned char* p = unwrapped.data();
  long len = 0;
  int tag = 0, xclass = 0;
  const int r = ASN1_get_object(&p, &len, &tag, &xclass, static_cast<long>(unwrapped.size()));
  if ((r & 0x80) != 0 || (r & 0x21) == 0x21 || (r & V_ASN1_CONSTRUCTED) == 0 || tag != V_ASN1_SEQUENCE ||
      xclass != V_ASN1_UNIVERSAL) {
    ossl_clear_errors();
    return make_error(CKR_WRAPPED_KEY_INVALID, "the unwrapped bytes are not a DER PrivateKeyInfo");
  }
  const size_t total = static_cast<size_t>(p - unwrapped.data()) + static_cast<size_t>(len);
  if (total > unwrapped.size() || unwrapped.size() - total >= block || !zeros(unwrapped.subspan(total)))
    return make_error(CKR_WRAPPED_KEY_INVALID, "the bytes after the PrivateKeyInfo are not zero padding");
  return unwrapped.first(total);
}

}  // namespace ferrohsm::mech
