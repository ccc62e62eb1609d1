// The Idempotency-Key store: a finished success replays, another body is a mismatch, a
// running request is in flight, a failure is forgotten, callers and tokens never share
// entries, and entries expire and stay under the capacity.
#include "server/rest/idempotency.h"

#include <gtest/gtest.h>

namespace ferrohsm::server::rest {
namespace {

using V = IdempotencyCache::Verdict;
using A = IdempotencyCache::Answer;

TEST(RestIdempotency, ReplayMismatchAndInFlight) {
  IdempotencyCache c;
  A a;
  EXPECT_EQ(c.begin("cert:CN=app1", "t", "k1", "{\"type\":\"ec\"}", a), V::kRun);
  EXPECT_EQ(c.begin("cert:CN=app1", "t", "k1", "{\"type\":\"ec\"}", a), V::kInFlight);
  EXPECT_EQ(c.begin("cert:CN=app1", "t", "k1", "{\"type\":\"rsa\"}", a), V::kMismatch);
  c.finish("cert:CN=app1", "t", "k1", A{201, "{\"id\":\"x\"}", "application/json"});
  A replay;
  EXPECT_EQ(c.begin("cert:CN=app1", "t", "k1", "{\"type\":\"ec\"}", replay), V::kReplay);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, "{\"id\":\"x\"}");
  EXPECT_EQ(c.begin("cert:CN=app1", "t", "k1", "{\"type\":\"rsa\"}", a), V::kMismatch);
  // Another identity or token with the same key is another entry.
  EXPECT_EQ(c.begin("cert:CN=app2", "t", "k1", "{\"type\":\"ec\"}", a), V::kRun);
  EXPECT_EQ(c.begin("cert:CN=app1", "u", "k1", "{\"type\":\"ec\"}", a), V::kRun);
}

TEST(RestIdempotency, AFailureIsForgottenSoARetryRuns) {
  IdempotencyCache c;
  A a;
  EXPECT_EQ(c.begin("i", "t", "k", "b", a), V::kRun);
  c.finish("i", "t", "k", A{503, "{}", "application/problem+json"});
  EXPECT_EQ(c.begin("i", "t", "k", "b", a), V::kRun);
  c.finish("i", "t", "k", A{201, "{}", "application/json"});
  EXPECT_EQ(c.begin("i", "t", "k", "b", a), V::kReplay);
  EXPECT_EQ(c.size(), 1u);
}

TEST(RestIdempotency, EntriesExpireAndStayUnderTheCapacity) {
  IdempotencyCache expiring(std::chrono::seconds(0));
  A a;
  EXPECT_EQ(expiring.begin("i", "t", "k", "b", a), V::kRun);
  expiring.finish("i", "t", "k", A{201, "{}", "application/json"});
  EXPECT_EQ(expiring.begin("i", "t", "k", "b", a), V::kRun);  // gone already

  IdempotencyCache small(std::chrono::hours(1), 3);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(small.begin("i", "t", "k" + std::to_string(i), "b", a), V::kRun);
    small.finish("i", "t", "k" + std::to_string(i), A{201, std::to_string(i), "application/json"});
    EXPECT_LE(small.size(), 3u);
  }
  EXPECT_EQ(small.begin("i", "t", "k9", "b", a), V::kReplay);  // the newest stay
  EXPECT_EQ(a.body, "9");
  EXPECT_EQ(small.begin("i", "t", "k0", "b", a), V::kRun);     // the oldest went
}

TEST(RestIdempotency, TheHeaderIsAStringOrItsBareCharacters) {
  EXPECT_EQ(*idempotency_key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""), "8e03978e-40d5-43e8-bc93-6894a57f9324");
  EXPECT_EQ(*idempotency_key("abc"), "abc");
  EXPECT_FALSE(idempotency_key("").ok());
  EXPECT_FALSE(idempotency_key("\"\"").ok());
  EXPECT_FALSE(idempotency_key(std::string(256, 'a')).ok());
  EXPECT_FALSE(idempotency_key("a\x01" "b").ok());
}

}  // namespace
}  // namespace ferrohsm::server::rest
