// The test double itself: ordered call log and failure injection per method.
#include <gtest/gtest.h>

#include "support/reference.h"
#include "support/test_double_provider.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

TEST(TestDouble, RecordsEveryCallInOrder) {
  TestDoubleProvider p;
  auto gen = p.generate(kCtx, *Scope::parse("s"), *KeyId::parse("k"));
  ASSERT_TRUE(gen);
  (void)p.sign(kCtx, gen->handle_id, sha512_of("x"));
  (void)p.public_key(kCtx, "missing");
  (void)p.retire(kCtx, gen->handle_id);
  auto calls = p.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].method, Method::kGenerate);
  EXPECT_EQ(calls[0].target, "s|k");
  EXPECT_EQ(calls[1].method, Method::kSign);
  EXPECT_EQ(calls[1].target, gen->handle_id);
  EXPECT_EQ(calls[2].method, Method::kPublicKey);
  EXPECT_EQ(calls[2].target, "missing");
  EXPECT_EQ(calls[3].method, Method::kRetire);
  EXPECT_EQ(p.count(Method::kSign), 1u);
  p.clear_calls();
  EXPECT_TRUE(p.calls().empty());
}

TEST(TestDouble, InjectsAndClearsFailuresPerMethod) {
  TestDoubleProvider p;
  auto gen = p.generate(kCtx, *Scope::parse("s"), *KeyId::parse("k"));
  ASSERT_TRUE(gen);
  p.inject_failure(Method::kSign, ErrorKind::kProviderUnavailable);
  p.inject_failure(Method::kGenerate, ErrorKind::kRotationInProgress);
  auto sig = p.sign(kCtx, gen->handle_id, sha512_of("x"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kProviderUnavailable);
  auto g2 = p.generate(kCtx, *Scope::parse("s"), *KeyId::parse("k2"));
  ASSERT_FALSE(g2);
  EXPECT_EQ(g2.error().kind, ErrorKind::kRotationInProgress);
  EXPECT_TRUE(p.public_key(kCtx, gen->handle_id));  // other methods unaffected
  p.clear_failure(Method::kSign);
  EXPECT_TRUE(p.sign(kCtx, gen->handle_id, sha512_of("x")));
  EXPECT_FALSE(p.generate(kCtx, *Scope::parse("s"), *KeyId::parse("k2")));
  p.clear_failure(Method::kGenerate);
  EXPECT_TRUE(p.generate(kCtx, *Scope::parse("s"), *KeyId::parse("k2")));
}

}  // namespace
}  // namespace ferrohsm::signer::testing
