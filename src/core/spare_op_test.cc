// session.h SpareOp: which kept operation serves which *Init, and when one made on
// another thread is made anew on the thread that now uses the session.
#include "core/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ferrohsm {
namespace {

class NullDigest final : public mech::DigestOp {
 public:
  bool reusable() const override { return true; }
  Status rearm(const CK_MECHANISM&) override { return {}; }
  size_t digest_size() const override { return 0; }
  Status update(ByteView) override { return {}; }
  Result<size_t> final(MutableByteView) override { return size_t{0}; }
  Result<size_t> digest(ByteView, MutableByteView) override { return size_t{0}; }
};

ObjectPtr KeyObject(CK_OBJECT_HANDLE h) {
  return std::make_shared<const Object>(h, 0, 1, AttrMap(), true);
}

TEST(SpareOp, FitsOnlyTheSameHandleAndMechanism) {
  SpareOp<mech::DigestOp> spare;
  EXPECT_FALSE(spare.fits(7, CKM_SHA256));  // nothing kept
  spare.op = std::make_unique<NullDigest>();
  spare.key = KeyObject(7);
  spare.mechanism = CKM_SHA256;
  EXPECT_TRUE(spare.fits(7, CKM_SHA256));
  EXPECT_FALSE(spare.fits(8, CKM_SHA256));
  EXPECT_FALSE(spare.fits(7, CKM_SHA384));
  spare.clear();
  EXPECT_FALSE(spare.fits(7, CKM_SHA256));
}

TEST(SpareOp, OnItsOwnThreadItAlwaysServes) {
  SpareOp<mech::DigestOp> spare;
  spare.op = std::make_unique<NullDigest>();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(spare.here_to_stay());
}

TEST(SpareOp, ASessionSettledOnAnotherThreadMakesItAnewThereAndKeepsItUntilThen) {
  SpareOp<mech::DigestOp> spare;
  spare.op = std::make_unique<NullDigest>();  // made on this thread
  const mech::DigestOp* made_here = spare.op.get();
  std::vector<bool> answers;
  std::thread([&] {
    for (unsigned i = 0; i < SpareOp<mech::DigestOp>::kSettle + 1; ++i) answers.push_back(spare.here_to_stay());
  }).join();
  ASSERT_EQ(answers.size(), SpareOp<mech::DigestOp>::kSettle + 1);
  for (unsigned i = 0; i < SpareOp<mech::DigestOp>::kSettle; ++i) EXPECT_TRUE(answers[i]) << i;
  EXPECT_FALSE(answers.back()) << "settled on another thread: make it anew there";
  // Kept until the new one replaces it (the caller's finished operation): freed first,
  // its memory would be what the new one is made of.
  EXPECT_EQ(spare.op.get(), made_here);
}

TEST(SpareOp, ASessionHoppingBetweenThreadsKeepsReArming) {
  SpareOp<mech::DigestOp> spare;
  spare.op = std::make_unique<NullDigest>();
  // Two other threads, both alive (so their ids differ), by turns: neither stays
  // kSettle calls running.
  constexpr int kTurns = 12;
  std::atomic<int> turn{0};
  std::atomic<int> refused{0};
  auto worker = [&](int parity) {
    for (;;) {
      const int t = turn.load();
      if (t >= kTurns) return;
      if (t % 2 != parity) {
        std::this_thread::yield();
        continue;
      }
      if (!spare.here_to_stay()) refused.fetch_add(1);
      turn.store(t + 1);
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_TRUE(spare.here_to_stay());  // and home again
}

}  // namespace
}  // namespace ferrohsm
