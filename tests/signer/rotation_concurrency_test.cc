// Concurrent signing during rotation never fails and never uses a retired key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/rotation_service.h"
#include "ferrohsm/signer/rotation_store.h"
#include "ferrohsm/signer/software_provider.h"
#include "support/reference.h"
#include "support/test_double_provider.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

// Runs `signers` threads signing continuously while `rotations` full rotations run;
// with `refresh`, one more thread re-reads the store into the cache all the while, as a
// replica's listener does (a read older than a local change must never undo it).
void run_rotation_under_load(KeyProvider& provider, int signers, int rotations, bool refresh = false) {
  TempDir dir;
  auto store = RotationStore::open(dir.file("signer.db"));
  ASSERT_TRUE(store);
  RotationService service(provider, **store);
  ASSERT_TRUE(service.load());
  Scope scope = *Scope::parse("busy");
  ASSERT_TRUE(service.generate(kCtx, scope, *KeyId::parse("v0")));

  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, bad_signatures{0}, signatures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < signers; ++t) {
    threads.emplace_back([&, t] {
      auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // bound
      for (int i = 0; !done.load() && std::chrono::steady_clock::now() < stop_at; ++i) {
        Digest d = sha512_of("t" + std::to_string(t) + "-" + std::to_string(i));
        auto r = service.sign(kCtx, scope, d);
        if (!r) {
          failures++;
          continue;
        }
        // The reported key must verify the signature and must not be retired now.
        bool verified = false;
        for (const auto& k : service.keys(scope))
          if (k.key_id == r->key_id) verified = ed25519::verify(k.public_key, d, r->signature);
        if (!verified) bad_signatures++;
        signatures++;
      }
    });
  }
  std::atomic<int> refreshes{0};
  if (refresh)
    threads.emplace_back([&] {
      auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // bound
      while (!done.load() && std::chrono::steady_clock::now() < stop_at) {
        EXPECT_TRUE(service.refresh([&] { return (*store)->load_all(); }));
        refreshes++;
      }
    });
  for (int r = 1; r <= rotations; ++r) {
    auto id = *KeyId::parse("v" + std::to_string(r));
    ASSERT_TRUE(service.open(kCtx, scope, id));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(service.activate(kCtx, scope, id));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto closed = service.close(kCtx, scope);
    ASSERT_TRUE(closed) << closed.error().message;
  }
  done = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(bad_signatures.load(), 0);
  EXPECT_GT(signatures.load(), 0);
  if (refresh) {
    EXPECT_GT(refreshes.load(), 0);
  }
  auto counts = service.state_counts();
  EXPECT_EQ(counts[static_cast<int>(KeyState::kRetired)], static_cast<std::size_t>(rotations));
  EXPECT_EQ(counts[static_cast<int>(KeyState::kActive)], 1u);
}

TEST(RotationConcurrency, TestDoubleNeverSignsWithARetiredKey) {
  // The double refuses to sign with a retired handle, so any sign that slipped past a
  // close would show up as a failure.
  TestDoubleProvider provider;
  run_rotation_under_load(provider, 6, 12);
  std::set<std::string> retired;
  for (const auto& c : provider.calls()) {
    if (c.method == Method::kRetire) retired.insert(c.target);
    if (c.method == Method::kSign) {
      EXPECT_FALSE(retired.contains(c.target)) << "signed after retire: " << c.target;
    }
  }
}

TEST(RotationConcurrency, RefreshesFromTheStoreNeverUndoALocalTransition) {
  TestDoubleProvider provider;
  run_rotation_under_load(provider, 4, 12, /*refresh=*/true);
}

TEST(RotationConcurrency, SoftwareProvider) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x5a);
  SoftwareProvider provider{SecretBytes<32>{std::span<const std::uint8_t, 32>(seed)}};
  run_rotation_under_load(provider, 4, 8);
}

TEST(RotationConcurrency, ParallelRotationOpsOnOneScopeSerialize) {
  TestDoubleProvider provider;
  TempDir dir;
  auto store = RotationStore::open(dir.file("signer.db"));
  ASSERT_TRUE(store);
  RotationService service(provider, **store);
  Scope scope = *Scope::parse("race");
  std::atomic<int> opened{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      auto r = service.open(kCtx, scope);
      if (r) {
        opened++;
      } else if (r.error().kind == ErrorKind::kRotationInProgress) {
        refused++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(opened.load(), 1);
  EXPECT_EQ(refused.load(), 5);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
