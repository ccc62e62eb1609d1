#include "keygen.h"

#include <array>

namespace ferrohsm::cli {
namespace {

constexpr std::array<KeySpec, 11> kSpecs = {{
    {"rsa:2048", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 2048, nullptr},
    {"rsa:3072", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 3072, nullptr},
    {"rsa:4096", CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 4096, nullptr},
    {"ec:p256", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "prime256v1"},
    {"ec:p384", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "secp384r1"},
    {"ec:p521", CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, "secp521r1"},
    {"ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, "ED25519"},
    {"ed448", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, "ED448"},
    {"aes:128", CKM_AES_KEY_GEN, CKK_AES, 16, nullptr},
    {"aes:256", CKM_AES_KEY_GEN, CKK_AES, 32, nullptr},
    {"generic:32", CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, nullptr},
}};

}  // namespace

const KeySpec* find_key_spec(std::string_view name) {
  for (const KeySpec& s : kSpecs)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> key_spec_names() {
  std::vector<std::string> out;
  for (const KeySpec& s : kSpecs) out.emplace_back(s.name);
  return out;
}

}  // namespace ferrohsm::cli
