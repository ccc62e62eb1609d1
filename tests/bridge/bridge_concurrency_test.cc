// Threads use a bridged slot whose library keeps failing and recovering (the fault
// module) while another thread signs on a second bridge over the same SoftHSMv2, which
// must never see an error. Bounded in count and time; runs under ThreadSanitizer
// (label `concurrency`) as well as ASan.
#include "bridge_fixture.h"
#include "fault_control.h"

#include <dlfcn.h>

#include <atomic>
#include <set>
#include <thread>

namespace bridge_test {
namespace {

using namespace std::chrono_literals;

TEST_F(BridgeTest, ThreadsOnAFailingBridgeNeverDisturbAnother) {
  void* h = dlopen(FAULT_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  auto set = reinterpret_cast<ferrohsm_fault_set_fn>(dlsym(h, "ferrohsm_fault_set"));
  auto reset = reinterpret_cast<ferrohsm_fault_reset_fn>(dlsym(h, "ferrohsm_fault_reset"));
  ASSERT_TRUE(set != nullptr && reset != nullptr);
  reset();
  ASSERT_FALSE(InitToken("direct").empty());
  // SoftHSMv2 itself first: it initialises the library, so the fault module never finalises it.
  ASSERT_RV(CKR_OK, Start(SoftHsmBridge("token = \"direct\"") + "\n[[bridge]]\nmodule = \"" FAULT_MODULE_PATH
                                                                 "\"\ntoken = \"bridged\"\n"));
  CK_SESSION_HANDLE direct = OpenLoggedIn(kBridgeSlot);
  CK_OBJECT_HANDLE dpub = CK_INVALID_HANDLE, dpriv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(direct, "direct-key", dpub, dpriv));
  CK_SESSION_HANDLE setup = OpenLoggedIn(kSecondBridgeSlot);
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
  ASSERT_RV(CKR_OK, GenerateP256(setup, "faulty-key", pub, priv));
  ASSERT_RV(CKR_OK, f_->C_CloseSession(setup));

  // What a call on the failing slot may answer.
  const std::set<CK_RV> allowed = {CKR_OK,
                                   CKR_DEVICE_ERROR,
                                   CKR_DEVICE_REMOVED,
                                   CKR_TOKEN_NOT_PRESENT,
                                   CKR_SESSION_HANDLE_INVALID,
                                   CKR_USER_ALREADY_LOGGED_IN,
                                   CKR_USER_NOT_LOGGED_IN,
                                   CKR_OBJECT_HANDLE_INVALID,
                                   CKR_KEY_HANDLE_INVALID,
                                   CKR_OPERATION_NOT_INITIALIZED};
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0}, direct_errors{0}, failing_ok{0}, injected{0};
  const auto deadline = std::chrono::steady_clock::now() + 2s;

  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200 && std::chrono::steady_clock::now() < deadline; ++i) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        CK_RV rv = f_->C_OpenSession(kSecondBridgeSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
        if (rv == CKR_OK) {
          CK_RV login = f_->C_Login(s, CKU_USER, utf8(kUserPin), kUserPin.size());
          if (!allowed.count(login)) ++unexpected;
          // SoftHSMv2 renews private objects' handles at every login: find the key anew.
          CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
          CK_ATTRIBUTE t[] = {{CKA_CLASS, &klass, sizeof klass}};
          CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
          CK_ULONG n = 0;
          rv = f_->C_FindObjectsInit(s, t, 1);
          if (rv == CKR_OK) rv = f_->C_FindObjects(s, &key, 1, &n);
          if (rv == CKR_OK) rv = f_->C_FindObjectsFinal(s);
          if (rv == CKR_OK) rv = n == 1 ? SignOnce(s, key) : CKR_USER_NOT_LOGGED_IN;
          if (rv == CKR_OK) ++failing_ok;
          CK_RV closed = f_->C_CloseSession(s);
          if (closed != CKR_OK && closed != CKR_SESSION_HANDLE_INVALID && closed != CKR_DEVICE_ERROR) ++unexpected;
        }
        if (!allowed.count(rv)) ++unexpected;
        CK_SLOT_INFO si{};
        if (f_->C_GetSlotInfo(kSecondBridgeSlot, &si) != CKR_OK) ++unexpected;
      }
    });
  }
  threads.emplace_back([&] {  // the other bridge: never an error
    for (int i = 0; i < 400 && std::chrono::steady_clock::now() < deadline; ++i)
      if (SignOnce(direct, dpriv) != CKR_OK) ++direct_errors;
  });
  threads.emplace_back([&] {  // the library fails now and then, a few calls at a time
    for (int i = 0; std::chrono::steady_clock::now() < deadline && !stop; ++i) {
      set("device_fail_rv", static_cast<long>(i % 2 ? CKR_DEVICE_ERROR : CKR_DEVICE_REMOVED));
      set("device_fail_calls", 1 + i % 2);
      ++injected;
      std::this_thread::sleep_for(60ms);
    }
  });
  for (auto& t : threads) t.join();
  reset();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(direct_errors.load(), 0);
  EXPECT_GT(failing_ok.load(), 0) << injected.load() << " failures injected";  // it worked between them
  EXPECT_GT(injected.load(), 5);
  ASSERT_TRUE(WaitFor([&] { return TokenThere(kSecondBridgeSlot); }, 10s));
  CK_SESSION_HANDLE again = OpenLoggedIn(kSecondBridgeSlot);
  std::vector<CK_OBJECT_HANDLE> keys = Find(again, CKO_PRIVATE_KEY, "faulty-key");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_RV(CKR_OK, SignOnce(again, keys[0]));
  EXPECT_RV(CKR_OK, SignOnce(direct, dpriv));
  dlclose(h);
}

}  // namespace
}  // namespace bridge_test
