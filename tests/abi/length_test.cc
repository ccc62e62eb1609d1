// Lengths at the C boundary: a CK_ULONG the caller passes is never cut to an int (as
// OpenSSL's EVP calls and SQLite take) or to any narrower type. A length that cannot
// be served is an error; one that can is served whole (issue 11, finding 7).
//
// The large buffers are real anonymous mappings of the stated size (MAP_NORESERVE:
// virtual memory, committed only where a page is written), so that the module may
// touch every byte the test hands it without the test lying about its memory.
#include <sys/mman.h>

#include <climits>
#include <cstring>
#include <vector>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

constexpr CK_ULONG kFourGiB = CK_ULONG{1} << 32;

// An anonymous mapping of `len` bytes, unmapped on destruction.
class Mapping {
 public:
  explicit Mapping(size_t len) : len_(len) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~Mapping() {
    if (data_ != nullptr) munmap(data_, len_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  uint8_t* data() const { return data_; }

 private:
  size_t len_;
  uint8_t* data_;
};

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

using LengthTest = TokenTest;

// The reported case: 2^32 + 64 bytes came back as 64 random bytes and zeros.
TEST_F(LengthTest, GenerateRandomFillsMoreThanFourGiB) {
  const CK_ULONG len = kFourGiB + 64;
  Mapping buf(len);
  ASSERT_NE(buf.data(), nullptr);
  ASSERT_CKR_OK(f_->C_GenerateRandom(session_, buf.data(), len));
  // 64-byte windows at the start, across the int and uint32 boundaries, and at the end.
  for (CK_ULONG at : {CK_ULONG{0}, CK_ULONG{64}, CK_ULONG{INT_MAX} - 31, CK_ULONG{1} << 31, kFourGiB - 64,
                      kFourGiB - 32, kFourGiB, len - 64}) {
    EXPECT_FALSE(AllZero(buf.data() + at, 64)) << "no random bytes at offset " << at;
  }
}

// A wrapped key longer than any key the token can hold is refused before it is read:
// it was cut to its first 24 bytes (a valid RFC 3394 wrapping) and unwrapped.
TEST_F(LengthTest, UnwrapRefusesAWrappedKeyLongerThanAnyKey) {
  const uint8_t kek[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8_t wrapped[24] = {0x1F, 0xA6, 0x8B, 0x0A, 0x81, 0x12, 0xB4, 0x47, 0xAE, 0xF3, 0x4B, 0xD8,
                               0xFB, 0x5A, 0x7B, 0x82, 0x9D, 0x3E, 0x86, 0x23, 0x71, 0xD2, 0xCF, 0xE5};
  Created k = CreateObject(f_, session_,
                           Template()
                               .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                               .Ulong(CKA_KEY_TYPE, CKK_AES)
                               .Bytes(CKA_VALUE, Bytes(kek, kek + sizeof kek))
                               .Bool(CKA_UNWRAP, true));
  ASSERT_CKR_OK(k.rv);
  Template t = Template()
                   .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                   .Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
                   .Bool(CKA_EXTRACTABLE, true)
                   .Bool(CKA_SENSITIVE, false);
  CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;
  // The whole 24 bytes unwrap (the published vector) …
  ASSERT_CKR_OK(f_->C_UnwrapKey(session_, &m, k.handle, const_cast<uint8_t*>(wrapped), sizeof wrapped, t.data(),
                                t.size(), &out));
  // … and the same bytes followed by 4 GiB are not a shorter request.
  const CK_ULONG len = kFourGiB + sizeof wrapped;
  Mapping buf(len);
  ASSERT_NE(buf.data(), nullptr);
  std::memcpy(buf.data(), wrapped, sizeof wrapped);
  out = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, f_->C_UnwrapKey(session_, &m, k.handle, buf.data(), len, t.data(), t.size(), &out));
  EXPECT_EQ(out, CK_INVALID_HANDLE);
}

// An OAEP label of 2^32 + 1 bytes was used as a 1-byte label.
TEST_F(LengthTest, OaepLabelLongerThanOpenSslTakesIsAParameterError) {
  KeyOptions o;
  o.encrypt = true;
  KeyPair rsa = GenerateRsa(f_, session_, 2048, o);
  ASSERT_CKR_OK(rsa.rv);
  const CK_ULONG len = kFourGiB + 1;
  Mapping label(len);
  ASSERT_NE(label.data(), nullptr);
  CK_RSA_PKCS_OAEP_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label.data(), len};
  CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &p, sizeof p};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(session_, &m, rsa.pub));
  // A small label still works.
  uint8_t small[3] = {1, 2, 3};
  p.pSourceData = small;
  p.ulSourceDataLen = sizeof small;
  EXPECT_CKR_OK(f_->C_EncryptInit(session_, &m, rsa.pub));
}

// An attribute value is stored whole or refused: a 4 GiB + 16 value was stored as 16 bytes.
TEST_F(LengthTest, AttributeValueOverTheLimitIsRefused) {
  // The template points into the mapping (a fixture Template would copy the value).
  auto create = [&](bool token, const void* value, CK_ULONG len, CK_OBJECT_HANDLE* out) {
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL on_token = token ? CK_TRUE : CK_FALSE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                        {CKA_TOKEN, &on_token, sizeof on_token},
                        {CKA_PRIVATE, &no, sizeof no},
                        {CKA_VALUE, const_cast<void*>(value), len}};
    return f_->C_CreateObject(session_, t, 4, out);
  };
  const CK_ULONG len = kFourGiB + 16;
  Mapping value(len);
  ASSERT_NE(value.data(), nullptr);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, create(true, value.data(), len, &h)) << "token object";
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, create(false, value.data(), len, &h)) << "session object";
  // Just over the documented limit (64 MiB) is refused too; the limit itself is stored whole.
  const CK_ULONG limit = CK_ULONG{64} << 20;
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, create(true, value.data(), limit + 1, &h));
  value.data()[limit - 1] = 0x5a;
  ASSERT_CKR_OK(create(true, value.data(), limit, &h));
  CK_ATTRIBUTE q{CKA_VALUE, nullptr, 0};
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, h, &q, 1));
  ASSERT_EQ(q.ulValueLen, limit);
  std::vector<uint8_t> back(limit);
  q.pValue = back.data();
  ASSERT_CKR_OK(f_->C_GetAttributeValue(session_, h, &q, 1));
  EXPECT_EQ(back[limit - 1], 0x5a) << "the stored value lost its last byte";
  EXPECT_EQ(back[0], 0);
}

// A PIN is all of its bytes: 2^32 + n bytes that begin with the user PIN logged in,
// the length cut to the PIN's n bytes before the key derivation.
TEST_F(LengthTest, PinLongerThanAnyPinIsIncorrect) {
  ASSERT_CKR_OK(f_->C_Logout(session_));
  const size_t n = std::strlen(kUserPin);
  const CK_ULONG len = kFourGiB + n;
  Mapping pin(len);
  ASSERT_NE(pin.data(), nullptr);
  std::memcpy(pin.data(), kUserPin, n);
  EXPECT_CKR(CKR_PIN_INCORRECT, f_->C_Login(session_, CKU_USER, pin.data(), len));
  EXPECT_CKR(CKR_PIN_INCORRECT, f_->C_Login(session_, CKU_USER, pin.data(), CK_ULONG{INT_MAX} + 1));
  EXPECT_CKR_OK(Login(session_, CKU_USER, kUserPin)) << "the real PIN still logs in";
}

// AES key wrap as a cipher: 2^32 + 24 bytes of ciphertext were cut to their first 24
// (a valid RFC 3394 wrapping), which decrypted.
TEST_F(LengthTest, KeyWrapDecryptOverFourGiBIsLenRange) {
  const uint8_t kek[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8_t wrapped[24] = {0x1F, 0xA6, 0x8B, 0x0A, 0x81, 0x12, 0xB4, 0x47, 0xAE, 0xF3, 0x4B, 0xD8,
                               0xFB, 0x5A, 0x7B, 0x82, 0x9D, 0x3E, 0x86, 0x23, 0x71, 0xD2, 0xCF, 0xE5};
  Created k = CreateObject(f_, session_,
                           Template()
                               .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                               .Ulong(CKA_KEY_TYPE, CKK_AES)
                               .Bytes(CKA_VALUE, Bytes(kek, kek + sizeof kek))
                               .Bool(CKA_DECRYPT, true));
  ASSERT_CKR_OK(k.rv);
  CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
  uint8_t plain[16];
  CK_ULONG plain_len = sizeof plain;
  ASSERT_CKR_OK(f_->C_DecryptInit(session_, &m, k.handle));
  ASSERT_CKR_OK(f_->C_Decrypt(session_, const_cast<uint8_t*>(wrapped), sizeof wrapped, plain, &plain_len));
  const CK_ULONG len = kFourGiB + sizeof wrapped;
  Mapping in(len);
  Mapping out(len);  // room for any answer, so the module needs no buffer of its own
  ASSERT_NE(in.data(), nullptr);
  ASSERT_NE(out.data(), nullptr);
  std::memcpy(in.data(), wrapped, sizeof wrapped);
  ASSERT_CKR_OK(f_->C_DecryptInit(session_, &m, k.handle));
  CK_ULONG out_len = len;
  EXPECT_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE, f_->C_Decrypt(session_, in.data(), len, out.data(), &out_len));
}

// Cipher input beyond what one EVP call takes is CKR_DATA_LEN_RANGE, and ends the operation.
TEST_F(LengthTest, EncryptInputOverIntMaxIsDataLenRange) {
  KeyOptions o;
  o.encrypt = true;
  SecretKey key = GenerateAes(f_, session_, 16, o);
  ASSERT_CKR_OK(key.rv);
  const CK_ULONG len = CK_ULONG{INT_MAX} + 17;
  Mapping in(len);
  Mapping out(len);
  ASSERT_NE(in.data(), nullptr);
  ASSERT_NE(out.data(), nullptr);
  uint8_t iv[16] = {};
  CK_AES_CTR_PARAMS ctr{128, {}};
  struct Case {
    const char* name;
    CK_MECHANISM m;
  } cases[] = {
      {"AES-CTR", {CKM_AES_CTR, &ctr, sizeof ctr}},
      {"AES-CBC", {CKM_AES_CBC, iv, sizeof iv}},
      {"AES-ECB", {CKM_AES_ECB, nullptr, 0}},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_CKR_OK(f_->C_EncryptInit(session_, &c.m, key.handle));
    CK_ULONG out_len = len;
    EXPECT_CKR(CKR_DATA_LEN_RANGE, f_->C_Encrypt(session_, in.data(), len, out.data(), &out_len));
    out_len = len;
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Encrypt(session_, in.data(), 16, out.data(), &out_len))
        << "the refused call must end the operation";
    ASSERT_CKR_OK(f_->C_EncryptInit(session_, &c.m, key.handle));
    out_len = len;
    EXPECT_CKR(CKR_DATA_LEN_RANGE, f_->C_EncryptUpdate(session_, in.data(), len, out.data(), &out_len));
  }
}

}  // namespace
}  // namespace ferrohsm::abi
