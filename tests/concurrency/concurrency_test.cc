// Four threads sign on their own sessions (RSA, ECDSA, Ed25519) while two threads
// create and destroy token and session objects and a second process writes to the same
// store. Bounded by time and iteration count; every result is checked.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture/attributes.h"
#include "fixture/child_process.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/ossl_check.h"

namespace ferrohsm::abi {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRunFor = std::chrono::milliseconds(2500);
constexpr int kMaxRounds = 2000;

// Failures are collected (gtest assertions are not used off the main thread).
class Failures {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (list_.size() < 20) list_.push_back(what);
    ++count_;
  }
  int count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::string Summary() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& s : list_) out += s + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> list_;
  int count_ = 0;
};

struct SignerSpec {
  const char* name;
  CK_MECHANISM_TYPE mech;
  KeyPair keys;
};

class ConcurrencyTest : public TokenTest {
 protected:
  CK_C_INITIALIZE_ARGS* InitArgs() override {
    args_ = CK_C_INITIALIZE_ARGS{};
    args_.flags = CKF_OS_LOCKING_OK;
    return &args_;
  }
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    // Token keys, so every session (and thread) can use them.
    KeyOptions o{.token = true};
    KeyPair rsa = GenerateRsa(f_, session_, 2048, o);
    ASSERT_CKR_OK(rsa.rv);
    KeyPair ec = GenerateEc(f_, session_, "P-256", o);
    ASSERT_CKR_OK(ec.rv);
    KeyPair ed = GenerateEdwards(f_, session_, CurveOid("Ed25519"), o);
    ASSERT_CKR_OK(ed.rv);
    signers_ = {{"rsa", CKM_SHA256_RSA_PKCS, rsa},
                {"ecdsa", CKM_ECDSA, ec},
                {"ed25519", CKM_EDDSA, ed},
                {"ecdsa-2", CKM_ECDSA, ec}};
    for (auto& s : signers_) {
      pkeys_.push_back(PublicKeyFromObject(f_, session_, s.keys.pub));
      ASSERT_TRUE(pkeys_.back());
    }
  }

  void SignLoop(size_t index, Clock::time_point until) {
    const SignerSpec& spec = signers_[index];
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) {
      failures_.Add(std::string(spec.name) + ": C_OpenSession");
      return;
    }
    Bytes msg = AsBytes("concurrent message " + std::to_string(index));
    Bytes input = spec.mech == CKM_ECDSA ? OsslDigest("SHA256", msg) : msg;
    CK_MECHANISM m{spec.mech, nullptr, 0};
    for (int round = 0; round < kMaxRounds && Clock::now() < until; ++round) {
      input[0] = static_cast<uint8_t>(round);
      Bytes sig(512);
      CK_ULONG len = sig.size();
      CK_RV rv = f_->C_SignInit(s, &m, spec.keys.priv);
      if (rv == CKR_OK) rv = f_->C_Sign(s, input.data(), input.size(), sig.data(), &len);
      if (rv != CKR_OK) {
        failures_.Add(std::string(spec.name) + ": sign " + CkrName(rv));
        continue;
      }
      sig.resize(len);
      rv = f_->C_VerifyInit(s, &m, spec.keys.pub);
      if (rv == CKR_OK) rv = f_->C_Verify(s, input.data(), input.size(), sig.data(), sig.size());
      if (rv != CKR_OK) failures_.Add(std::string(spec.name) + ": verify " + CkrName(rv));
      if (!OsslVerify(pkeys_[index].get(), spec.mech, input, sig)) {
        failures_.Add(std::string(spec.name) + ": OpenSSL rejects a signature");
      }
      signatures_.fetch_add(1);
    }
    f_->C_CloseSession(s);
  }

  void ChurnLoop(int index, Clock::time_point until) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (f_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) !=
        CKR_OK) {
      failures_.Add("churn: C_OpenSession");
      return;
    }
    std::string label = "churn-" + std::to_string(index);
    for (int round = 0; round < kMaxRounds && Clock::now() < until; ++round) {
      Template t = DataObject(label, round % 2 == 0, round % 3 == 0);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      CK_RV rv = f_->C_CreateObject(s, t.data(), t.size(), &h);
      if (rv != CKR_OK) {
        failures_.Add(label + ": create " + CkrName(rv));
        continue;
      }
      CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
      rv = f_->C_GetAttributeValue(s, h, &a, 1);
      if (rv != CKR_OK || a.ulValueLen != label.size()) {
        failures_.Add(label + ": read back " + CkrName(rv));
      }
      rv = f_->C_DestroyObject(s, h);
      if (rv != CKR_OK) failures_.Add(label + ": destroy " + CkrName(rv));
      churned_.fetch_add(1);
    }
    // Every object this thread made is gone again.
    Template query;
    query.Str(CKA_LABEL, label);
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 0;
    if (f_->C_FindObjectsInit(s, query.data(), query.size()) != CKR_OK ||
        f_->C_FindObjects(s, found, 4, &n) != CKR_OK || f_->C_FindObjectsFinal(s) != CKR_OK) {
      failures_.Add(label + ": final search failed");
    } else if (n != 0) {
      failures_.Add(label + ": destroyed objects are still found");
    }
    f_->C_CloseSession(s);
  }

  CK_C_INITIALIZE_ARGS args_{};
  std::vector<SignerSpec> signers_;
  std::vector<Pkey> pkeys_;
  Failures failures_;
  std::atomic<int> signatures_{0};
  std::atomic<int> churned_{0};
};

TEST_F(ConcurrencyTest, SignersChurnersAndASecondProcess) {
  setenv("FERROHSM_TEST_USER_PIN", kUserPin, 1);
  pid_t child = SpawnHelper({GetModule().path, "churn", kTokenLabel, "other-process",
                             std::to_string(kRunFor.count())});
  ASSERT_GT(child, 0) << "cannot start " << ChildHelperPath();

  auto until = Clock::now() + kRunFor;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < signers_.size(); ++i) threads.emplace_back([this, i, until] { SignLoop(i, until); });
  for (int i = 0; i < 2; ++i) threads.emplace_back([this, i, until] { ChurnLoop(i, until); });
  for (auto& t : threads) t.join();
  int child_status = WaitChild(child, 60);

  EXPECT_EQ(failures_.count(), 0) << failures_.Summary();
  EXPECT_GE(signatures_.load(), static_cast<int>(signers_.size())) << "signers made no progress";
  EXPECT_GE(churned_.load(), 2) << "churn threads made no progress";
  EXPECT_EQ(child_status, 0) << "the second process failed (see its stderr)";
  // The store is consistent afterwards: the parent still finds its keys, none of the
  // churned objects remain.
  EXPECT_EQ(Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_PRIVATE_KEY)).size(), 3u);
  EXPECT_TRUE(Find(f_, session_, Template().Str(CKA_LABEL, "other-process")).empty());
}

TEST_F(ConcurrencyTest, ManySessionsOpenAndCloseWhileSigning) {
  auto until = Clock::now() + std::chrono::milliseconds(1500);
  std::vector<std::thread> threads;
  threads.emplace_back([this, until] { SignLoop(1, until); });
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([this, until] {
      for (int round = 0; round < kMaxRounds && Clock::now() < until; ++round) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        CK_RV rv = f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
        if (rv != CKR_OK) {
          failures_.Add("open " + CkrName(rv));
          continue;
        }
        CK_SESSION_INFO info{};
        rv = f_->C_GetSessionInfo(s, &info);
        if (rv != CKR_OK || info.state != CKS_RO_USER_FUNCTIONS) {
          failures_.Add("session info " + CkrName(rv));
        }
        rv = f_->C_CloseSession(s);
        if (rv != CKR_OK) failures_.Add("close " + CkrName(rv));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures_.count(), 0) << failures_.Summary();
  EXPECT_EQ(SessionState(session_), CKS_RW_USER_FUNCTIONS) << "the login survived";
}

}  // namespace
}  // namespace ferrohsm::abi
