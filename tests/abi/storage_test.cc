// Nothing secret reaches the store in the clear (ARCHITECTURE: keys stay sealed):
// imported sensitive key bytes and the PINs must not appear in the database file or
// its -wal/-shm files, neither while the module runs nor after C_Finalize.
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_keys.h"

namespace ferrohsm::abi {
namespace {

constexpr size_t kWindow = 16;

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// True if any kWindow-byte window of `secret` (or all of it, if shorter) occurs in `hay`.
bool ContainsWindow(const Bytes& hay, const Bytes& secret) {
  size_t w = std::min(kWindow, secret.size());
  for (size_t i = 0; i + w <= secret.size(); ++i) {
    auto first = secret.begin() + static_cast<long>(i);
    if (std::search(hay.begin(), hay.end(), first, first + static_cast<long>(w)) != hay.end()) {
      return true;
    }
  }
  return false;
}

struct Secret {
  std::string name;  // what it is (never its value)
  Bytes bytes;
};

class StorageTest : public TokenTest {
 protected:
  // Names of secrets found in any store file; empty when clean.
  std::vector<std::string> Leaks(const std::vector<Secret>& secrets) {
    std::vector<std::string> found;
    for (const std::string& file : store_->Files()) {
      if (file == store_->config_path()) continue;
      Bytes content = ReadFile(file);
      for (const Secret& s : secrets) {
        if (ContainsWindow(content, s.bytes)) found.push_back(s.name + " in " + file);
      }
    }
    return found;
  }
};

TEST(StorageScanTest, ScannerFindsAPlantedWindow) {
  Bytes secret(40);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 13 + 1);
  Bytes hay(500, 0xEE);
  std::copy(secret.begin() + 10, secret.begin() + 26, hay.begin() + 100);
  EXPECT_TRUE(ContainsWindow(hay, secret));
  hay[105] ^= 1;
  EXPECT_FALSE(ContainsWindow(hay, secret));
}

TEST_F(StorageTest, SensitiveKeysAndPinsAreNotStoredInTheClear) {
  Bytes aes(32);
  ASSERT_EQ(RAND_bytes(aes.data(), static_cast<int>(aes.size())), 1);
  SecretKey k = ImportAes(f_, session_, aes, KeyOptions{.token = true, .sign = false,
                                                        .encrypt = true});
  ASSERT_CKR_OK(k.rv);

  Pkey rsa = OsslGenerate("RSA", "2048");
  ASSERT_TRUE(rsa);
  RsaParts r = RsaPartsOf(rsa.get());
  Template priv;
  priv.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, true).Bool(CKA_SENSITIVE, true).Bool(CKA_SIGN, true)
      .Str(CKA_LABEL, "storage-rsa")
      .Bytes(CKA_MODULUS, r.n).Bytes(CKA_PUBLIC_EXPONENT, r.e).Bytes(CKA_PRIVATE_EXPONENT, r.d)
      .Bytes(CKA_PRIME_1, r.p).Bytes(CKA_PRIME_2, r.q).Bytes(CKA_EXPONENT_1, r.dp)
      .Bytes(CKA_EXPONENT_2, r.dq).Bytes(CKA_COEFFICIENT, r.qinv);
  ASSERT_CKR_OK(CreateObject(f_, session_, priv).rv);

  // Use the keys once, so that any cache or journal has seen them.
  CK_MECHANISM m{CKM_AES_ECB, nullptr, 0};
  Bytes block(16, 0x77), out(16);
  CK_ULONG len = out.size();
  ASSERT_CKR_OK(f_->C_EncryptInit(session_, &m, k.handle));
  ASSERT_CKR_OK(f_->C_Encrypt(session_, block.data(), block.size(), out.data(), &len));

  std::vector<Secret> secrets = {
      {"AES key value", aes},
      {"RSA private exponent", r.d},
      {"RSA prime 1", r.p},
      {"RSA prime 2", r.q},
      {"user PIN", AsBytes(kUserPin)},
      {"SO PIN", AsBytes(kSoPin)},
  };
  std::vector<std::string> files = store_->Files();
  EXPECT_GE(files.size(), 2u) << "expected the config and the store";
  std::vector<std::string> leaks = Leaks(secrets);
  EXPECT_TRUE(leaks.empty()) << "while running: " << testing::PrintToString(leaks);

  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  leaks = Leaks(secrets);
  EXPECT_TRUE(leaks.empty()) << "after C_Finalize: " << testing::PrintToString(leaks);

  // The keys are really there: re-open and use them.
  ASSERT_CKR_OK(f_->C_Initialize(nullptr));
  MarkInitialized();
  slot_ = SlotByLabel(kTokenLabel);
  CK_SESSION_HANDLE s = OpenUser(slot_);
  auto found = Find(f_, s, Template().Str(CKA_LABEL, "storage-rsa"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(f_, s, found[0], CKA_MODULUS), r.n);
}

}  // namespace
}  // namespace ferrohsm::abi
