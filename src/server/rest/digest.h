// SHA-256 of a string, as raw bytes in a string: the key under which the REST listener
// keeps a bearer (sessions.cc) or an Idempotency-Key's scope and body (idempotency.cc),
// so that what it holds in memory is not the secret or the request itself.
#pragma once

#include <openssl/evp.h>

#include <string>

namespace ferrohsm::server::rest {

inline std::string sha256_of(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), n);
}

}  // namespace ferrohsm::server::rest
