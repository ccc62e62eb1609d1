// Kept operations (src/core/session.h SpareOp) under concurrency: two threads MAC and
// encrypt on their own sessions with shared keys, re-arming their kept contexts, while
// a third changes one key's attributes (which sweeps the sessions' kept operations)
// and destroys and re-creates another. Every result is checked against OpenSSL for
// the key its handle named; a destroyed key may only answer CKR_KEY_HANDLE_INVALID.
// Bounded by time and iteration count; TSan checks the locking.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture/attributes.h"
#include "fixture/cipher_helpers.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

using SpareClock = std::chrono::steady_clock;
constexpr auto kSpareRunFor = std::chrono::milliseconds(1500);
constexpr int kSpareMaxRounds = 3000;

Bytes KeyValue(uint8_t seed) {
  Bytes b(32);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed * 31 + i);
  return b;
}

class SpareRaceTest : public TokenTest {
 protected:
  CK_C_INITIALIZE_ARGS* InitArgs() override {
    args_ = CK_C_INITIALIZE_ARGS{};
    args_.flags = CKF_OS_LOCKING_OK;
    return &args_;
  }
  StoreOptions Options() const override { return WithoutHardening(); }

  static KeyOptions Usable() {
    KeyOptions o;
    o.sensitive = false;
    o.extractable = true;
    o.encrypt = true;
    return o;
  }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 20) failures_.push_back(what);
  }

  // The churned key: its handle and the value it was made with (handles are never reused).
  std::pair<CK_OBJECT_HANDLE, uint8_t> Churned() {
    std::lock_guard<std::mutex> lock(mu_);
    return {churned_, churned_seed_};
  }

  void Worker(int index, SpareClock::time_point until, const Bytes& stable_tag) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) return Fail("open");
    const Bytes msg = AsBytes("message of thread " + std::to_string(index));
    CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
    for (int round = 0; round < kSpareMaxRounds && SpareClock::now() < until; ++round) {
      // The shared, relabelled key.
      Bytes tag(32);
      CK_ULONG n = tag.size();
      CK_RV rv = f_->C_SignInit(s, &hmac, stable_);
      if (rv == CKR_OK) rv = f_->C_Sign(s, const_cast<uint8_t*>(msg.data()), msg.size(), tag.data(), &n);
      if (rv != CKR_OK) Fail("stable HMAC: " + CkrName(rv));
      else if (tag != stable_tag) Fail("stable HMAC: wrong tag");
      // The churned key: right for the key its handle named, or gone.
      auto [h, seed] = Churned();
      n = tag.size();
      rv = f_->C_SignInit(s, &hmac, h);
      if (rv == CKR_OK) rv = f_->C_Sign(s, const_cast<uint8_t*>(msg.data()), msg.size(), tag.data(), &n);
      if (rv == CKR_OK) {
        tag.resize(n);
        if (tag != OsslHmac("SHA256", KeyValue(seed), msg)) Fail("churned HMAC: a tag of another key");
      } else if (rv != CKR_KEY_HANDLE_INVALID) {
        Fail("churned HMAC: " + CkrName(rv));
      }
      // AES-GCM on the shared AES key with a fresh IV per message.
      Bytes iv(12, static_cast<uint8_t>(index));
      iv[0] = static_cast<uint8_t>(round);
      iv[1] = static_cast<uint8_t>(round >> 8);
      AesMechanism gcm(CKM_AES_GCM, iv);
      CipherResult enc = OneShot(f_, s, gcm.get(), aes_, true, msg);
      if (enc.rv != CKR_OK) Fail("GCM: " + CkrName(enc.rv));
      else if (enc.out != OsslGcmEncrypt(aes_value_, iv, {}, msg, 16)) Fail("GCM: wrong ciphertext");
    }
    f_->C_CloseSession(s);
  }

  void Churner(SpareClock::time_point until) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (f_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) != CKR_OK)
      return Fail("open churner");
    for (int round = 0; round < kSpareMaxRounds / 10 && SpareClock::now() < until; ++round) {
      std::string label = "relabelled " + std::to_string(round);
      CK_ATTRIBUTE a{CKA_LABEL, label.data(), static_cast<CK_ULONG>(label.size())};
      if (CK_RV rv = f_->C_SetAttributeValue(s, stable_, &a, 1); rv != CKR_OK) Fail("relabel: " + CkrName(rv));
      const uint8_t seed = static_cast<uint8_t>(round % 2 + 1);
      SecretKey next = ImportGenericSecret(f_, s, KeyValue(seed), Usable());
      if (next.rv != CKR_OK) return Fail("import: " + CkrName(next.rv));
      CK_OBJECT_HANDLE old;
      {
        std::lock_guard<std::mutex> lock(mu_);
        old = churned_;
        churned_ = next.handle;
        churned_seed_ = seed;
      }
      if (CK_RV rv = f_->C_DestroyObject(s, old); rv != CKR_OK) Fail("destroy: " + CkrName(rv));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    f_->C_CloseSession(s);
  }

  CK_C_INITIALIZE_ARGS args_{};
  std::mutex mu_;
  std::vector<std::string> failures_;
  CK_OBJECT_HANDLE stable_ = CK_INVALID_HANDLE, churned_ = CK_INVALID_HANDLE, aes_ = CK_INVALID_HANDLE;
  uint8_t churned_seed_ = 0;
  Bytes aes_value_;
};

TEST_F(SpareRaceTest, KeptContextsFollowChangedAndDestroyedKeys) {
  const Bytes msg0 = AsBytes("message of thread 0"), msg1 = AsBytes("message of thread 1");
  ASSERT_EQ(msg0.size(), msg1.size());
  SecretKey stable = ImportGenericSecret(f_, session_, KeyValue(9), Usable());
  ASSERT_CKR_OK(stable.rv);
  stable_ = stable.handle;
  SecretKey churned = ImportGenericSecret(f_, session_, KeyValue(1), Usable());
  ASSERT_CKR_OK(churned.rv);
  churned_ = churned.handle;
  churned_seed_ = 1;
  aes_value_ = KeyValue(7);
  SecretKey aes = ImportAes(f_, session_, aes_value_, Usable());
  ASSERT_CKR_OK(aes.rv);
  aes_ = aes.handle;
  // Each worker MACs its own message with the stable key and checks its own tag.
  const std::vector<Bytes> tags = {OsslHmac("SHA256", KeyValue(9), msg0), OsslHmac("SHA256", KeyValue(9), msg1)};
  const auto until = SpareClock::now() + kSpareRunFor;
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([this, i, until, &tags] { Worker(i, until, tags[i]); });
  threads.emplace_back([this, until] { Churner(until); });
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  std::string all;
  for (const auto& f : failures_) all += f + "\n";
  EXPECT_TRUE(failures_.empty()) << all;
}

}  // namespace
}  // namespace ferrohsm::abi
