#include "core/mech/hash.h"

#include <array>
#include <cstdint>

namespace ferrohsm::mech {
namespace {

constexpr uint8_t kSha1Info[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
constexpr uint8_t kSha224Info[] = {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c};
constexpr uint8_t kSha256Info[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
constexpr uint8_t kSha384Info[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
constexpr uint8_t kSha512Info[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

const std::array<Hash, 5> kHashes = {{
    {CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 20, kSha1Info},
    {CKM_SHA224, CKG_MGF1_SHA224, "SHA224", 28, kSha224Info},
    {CKM_SHA256, CKG_MGF1_SHA256, "SHA256", 32, kSha256Info},
    {CKM_SHA384, CKG_MGF1_SHA384, "SHA384", 48, kSha384Info},
    {CKM_SHA512, CKG_MGF1_SHA512, "SHA512", 64, kSha512Info},
}};

struct Fetched {
  std::array<EVP_MD*, kHashes.size()> md{};
  Fetched() {
    for (size_t i = 0; i < kHashes.size(); ++i) md[i] = EVP_MD_fetch(nullptr, kHashes[i].name, nullptr);
  }
  ~Fetched() {
    for (EVP_MD* m : md) EVP_MD_free(m);
  }
};

}  // namespace

const EVP_MD* Hash::md() const {
  static const Fetched fetched;
  for (size_t i = 0; i < kHashes.size(); ++i)
    if (kHashes[i].mech == mech) return fetched.md[i];
  return nullptr;
}

const Hash* hash_by_mech(CK_MECHANISM_TYPE digest_mech) {
  for (const Hash& h : kHashes)
    if (h.mech == digest_mech) return &h;
  return nullptr;
}

const Hash* hash_by_mgf(CK_RSA_PKCS_MGF_TYPE mgf) {
  for (const Hash& h : kHashes)
    if (h.mgf == mgf) return &h;
  return nullptr;
}

const Hash& sha1() { return kHashes[0]; }
const Hash& sha224() { return kHashes[1]; }
const Hash& sha256() { return kHashes[2]; }
const Hash& sha384() { return kHashes[3]; }
const Hash& sha512() { return kHashes[4]; }

}  // namespace ferrohsm::mech
