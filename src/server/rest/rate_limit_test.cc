#include "server/rest/rate_limit.h"

#include <gtest/gtest.h>

namespace ferrohsm::server::rest {
namespace {

TEST(RestRateLimit, ABurstOfRateThenRefusalsPerIdentity) {
  RateLimit limit(5);  // a refill of 5/s adds well under one token during this loop
  int admitted = 0;
  for (int i = 0; i < 20; ++i) admitted += limit.admit("cert:CN=a") ? 1 : 0;
  EXPECT_GE(admitted, 5);
  EXPECT_LE(admitted, 6);
  EXPECT_TRUE(limit.admit("cert:CN=b"));  // another identity has its own bucket
}

}  // namespace
}  // namespace ferrohsm::server::rest
