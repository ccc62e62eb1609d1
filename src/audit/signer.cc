#include "audit/signer.h"

#include "audit/record.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace ferrohsm::audit {

std::string key_fingerprint(ByteView spki) { return line_hash(as_chars(spki)); }

bool verify_signature(ByteView spki, ByteView message, ByteView sig) {
  const unsigned char* p = spki.data();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())),
                                                          EVP_PKEY_free);
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  // Ed25519 is one-shot: no digest, EVP_DigestVerify over the whole message.
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

}  // namespace ferrohsm::audit
