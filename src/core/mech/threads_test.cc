// Keys are shared by many threads at once; each operation belongs to one thread.
#include "core/mech/test_util.h"

#include <atomic>
#include <thread>
#include <vector>

namespace ferrohsm::mech::test {
namespace {

TEST(MechThreads, SharedKeysSignAndVerifyConcurrently) {
  const Pair& ec = ec_pair(kP256);
  const Pair& rsa = rsa2048();
  Pair ed = pair_from(generate_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kEd25519)}})));
  KeyPtr mac = secret_key(CKK_GENERIC_SECRET, Bytes(32, 9));
  KeyPtr aes = secret_key(CKK_AES, Bytes(32, 4));
  ASSERT_TRUE(ec.priv && rsa.priv && ed.priv && mac && aes);
  std::atomic<int> failures{0}, done{0};
  auto worker = [&](int id) {
    Bytes msg(100, static_cast<uint8_t>(id));
    for (int i = 0; i < 40; ++i) {  // bounded: 40 rounds per thread
      msg[0] = static_cast<uint8_t>(i);
      auto check = [&](CK_MECHANISM m, const KeyPtr& priv, const KeyPtr& pub) {
        auto sig = sign(m, priv, msg);
        if (!sig.ok() || !verify(m, pub, msg, *sig).ok()) ++failures;
      };
      check(mech(CKM_ECDSA_SHA256), ec.priv, ec.pub);
      check(mech(CKM_EDDSA), ed.priv, ed.pub);
      check(mech(CKM_SHA256_HMAC), mac, mac);
      if (i % 10 == 0) check(mech(CKM_SHA256_RSA_PKCS), rsa.priv, rsa.pub);
      Bytes iv(12, static_cast<uint8_t>(i));
      CK_GCM_PARAMS p{iv.data(), iv.size(), 96, nullptr, 0, 128};
      CK_MECHANISM gcm{CKM_AES_GCM, &p, sizeof p};
      auto enc = entry(CKM_AES_GCM).encrypt(gcm, aes);
      auto dec = entry(CKM_AES_GCM).decrypt(gcm, aes);
      if (!enc.ok() || !dec.ok()) {
        ++failures;
        continue;
      }
      Bytes ct((*enc)->one_shot_size(msg.size())), pt((*dec)->one_shot_size(ct.size()));
      auto n = (*enc)->one_shot(msg, ct);
      auto m = n.ok() ? (*dec)->one_shot(ct, pt) : Result<size_t>(make_error(CKR_GENERAL_ERROR));
      if (!m.ok() || pt != msg) ++failures;
    }
    ++done;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(done.load(), 4);
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace ferrohsm::mech::test
